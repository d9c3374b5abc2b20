"""White-noise machines, made: beds for validation nights that no recording's license limits.

Each bed is a minute of 16 kHz audio (looped under a night), drawn from its own seed:

- `white`, `pink`, `brown`: the colours of noise the machines sell;
- `ocean`: pink noise swelling and ebbing every 6-12 s, like surf;
- `fan`: brown noise with some pink noise over it;
- `rain`: soft white noise with thousands of drops (short decaying clicks) a second;
- `shush`: a parent's "shhh" loop — noise above 1.5 kHz, swelling every 1.2-2 s;
- `stream`: pink noise above 200 Hz, its level wobbling 4-12 times a second;
- `shower`: noise above 1 kHz with dense droplets.

The eval-only loops (fan, ocean, shower, stream, waterfall, white noise, "shhhh") are the
test's beds; these stand in for them on the validation side, where the detector is tuned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from miserymeter.evaluation.night import coloured_noise

RATE_HZ = 16_000
BED_S = 60.0


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    return coloured_noise(n, exponent=0.5, rng=rng)


def brown(n: int, rng: np.random.Generator) -> np.ndarray:
    return coloured_noise(n, exponent=1.0, rng=rng)


def ocean(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE_HZ
    period_s = rng.uniform(6.0, 12.0)
    swell = 0.25 + 0.75 * np.sin(np.pi * t / period_s) ** 2
    return pink(n, rng) * swell


def fan(n: int, rng: np.random.Generator) -> np.ndarray:
    rumble, hiss = brown(n, rng), pink(n, rng)
    return rumble / rumble.std() + 0.7 * hiss / hiss.std()


def rain(n: int, rng: np.random.Generator) -> np.ndarray:
    drops = np.zeros(n)
    at = rng.integers(0, n, size=int(n / RATE_HZ * 2000))
    drops[at] = rng.standard_normal(len(at))
    decay = np.exp(-np.arange(int(0.004 * RATE_HZ)) / (0.0008 * RATE_HZ))
    return np.convolve(drops, decay, mode="same") + 0.3 * white(n, rng)


def shush(n: int, rng: np.random.Generator) -> np.ndarray:
    hiss = _band(white(n, rng), low_hz=1500.0)
    t = np.arange(n) / RATE_HZ
    period_s = rng.uniform(1.2, 2.0)
    return hiss * (0.5 + 0.5 * np.sin(np.pi * t / period_s) ** 2)


def stream(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE_HZ
    wobble = sum(
        np.sin(2 * np.pi * rng.uniform(4.0, 12.0) * t + rng.uniform(0, 6.3)) for _ in range(3)
    )
    return _band(pink(n, rng), low_hz=200.0) * (1.0 + 0.1 * wobble)


def shower(n: int, rng: np.random.Generator) -> np.ndarray:
    hiss = _band(white(n, rng), low_hz=1000.0)
    drops = rain(n, rng)
    return hiss / hiss.std() + 0.5 * drops / drops.std()


BEDS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "ocean": ocean,
    "fan": fan,
    "rain": rain,
    "shush": shush,
    "stream": stream,
    "shower": shower,
}


def make_bed(name: str, rng: np.random.Generator) -> np.ndarray:
    """A minute of the named bed at RATE_HZ, peak-normalised to 0.5."""
    samples = BEDS[name](round(BED_S * RATE_HZ), rng)
    return (0.5 * samples / np.abs(samples).max()).astype(np.float32)


def _band(samples: np.ndarray, *, low_hz: float) -> np.ndarray:
    """`samples` with everything below `low_hz` taken out."""
    spectrum = np.fft.rfft(samples)
    spectrum[np.fft.rfftfreq(len(samples), 1 / RATE_HZ) < low_hz] = 0
    return np.fft.irfft(spectrum, n=len(samples))
