"""White-noise machines, made: beds for validation nights that no recording's license limits.

Each bed is a minute of 16 kHz audio (looped under a night), drawn from its own seed:

- `white`, `pink`, `brown`: the colours of noise the machines sell;
- `ocean`: pink noise swelling and ebbing every 6-12 s, like surf;
- `fan`: brown noise with a motor's hum (100 Hz and harmonics) and a blade tone;
- `rain`: soft white noise with thousands of drops (short decaying clicks) a second;
- `shush`: a parent's "shhh" loop — noise band-passed to 2-6 kHz, a second on, half off.

The eval-only loops (fan, ocean, shower, stream, waterfall, white noise, "shhhh") are the
test's beds; these stand in for them on the validation side, where the detector is tuned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RATE_HZ = 16_000
BED_S = 60.0


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    return _coloured(n, rng, exponent=0.5)


def brown(n: int, rng: np.random.Generator) -> np.ndarray:
    return _coloured(n, rng, exponent=1.0)


def ocean(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE_HZ
    period_s = rng.uniform(6.0, 12.0)
    swell = 0.25 + 0.75 * np.sin(np.pi * t / period_s) ** 2
    return pink(n, rng) * swell


def fan(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE_HZ
    hum = sum(np.sin(2 * np.pi * 100.0 * k * t) / k for k in (1, 2, 3))
    blade_hz = rng.uniform(150.0, 300.0)
    noise = brown(n, rng)
    return noise / noise.std() + 0.15 * hum + 0.05 * np.sin(2 * np.pi * blade_hz * t)


def rain(n: int, rng: np.random.Generator) -> np.ndarray:
    drops = np.zeros(n)
    at = rng.integers(0, n, size=int(n / RATE_HZ * 2000))
    drops[at] = rng.standard_normal(len(at))
    decay = np.exp(-np.arange(int(0.004 * RATE_HZ)) / (0.0008 * RATE_HZ))
    return np.convolve(drops, decay, mode="same") + 0.3 * white(n, rng)


def shush(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    hz = np.fft.rfftfreq(n, 1 / RATE_HZ)
    spectrum[(hz < 2000) | (hz > 6000)] = 0
    band = np.fft.irfft(spectrum, n=n)
    t = np.arange(n) / RATE_HZ
    envelope = np.clip(np.sin(2 * np.pi * t / 1.5) * 3 + 1.5, 0.0, 1.0)
    return band * envelope


BEDS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "ocean": ocean,
    "fan": fan,
    "rain": rain,
    "shush": shush,
}


def make_bed(name: str, rng: np.random.Generator) -> np.ndarray:
    """A minute of the named bed at RATE_HZ, peak-normalised to 0.5."""
    samples = BEDS[name](round(BED_S * RATE_HZ), rng)
    return (0.5 * samples / np.abs(samples).max()).astype(np.float32)


def _coloured(n: int, rng: np.random.Generator, *, exponent: float) -> np.ndarray:
    """Noise whose amplitude spectrum falls as 1 / f**exponent."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.arange(len(spectrum)), 1)
    return np.fft.irfft(spectrum / f**exponent, n=n)
