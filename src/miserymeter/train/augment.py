"""Waveform augmentation for a batch [n, samples]: what other rooms and microphones do to sound.

Each function takes the batch first, randomness as `rng` (a torch.Generator), and options by
keyword. The order in `augment_batch` follows the sound's path: source → room (reverb,
background) → microphone (frequency response, gain, its own hiss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

# Cut-off range of an 8 kHz phone recording's anti-alias filter.
PHONE_LOW_PASS_HZ = (3_300.0, 4_000.0)


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of every augmentation (volumes are amplitude factors)."""

    sample_rate_hz: int
    background_frequency: float = 0.8
    background_volume: float = 0.1
    time_shift_samples: int = 0
    min_gain_db: float = -20.0
    max_gain_db: float = 6.0
    band_limit_probability: float = 0.8
    reverb_probability: float = 0.3
    min_room_tone_dbfs: float = -80.0
    max_room_tone_dbfs: float = -45.0


def uniform(low: float, high: float, shape: tuple[int, ...], rng: torch.Generator) -> Tensor:
    """Samples drawn uniformly from [low, high)."""
    return low + (high - low) * torch.rand(shape, generator=rng)


def fast_fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c ≥ `n`: FFTs of such sizes are fast, and often far smaller than
    the next power of two (38,400 rather than 65,536 for 2.4 s at 16 kHz)."""
    size = n
    while True:
        rest = size
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return size
        size += 1


def time_shift(batch: Tensor, rng: torch.Generator, *, max_shift: int) -> Tensor:
    """Shift each row by up to ±`max_shift` samples, filling with zeros (the tutorial's shift)."""
    if max_shift <= 0:
        return batch
    n_rows, n = batch.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n_rows,), generator=rng)
    out = torch.zeros_like(batch)
    for row, shift in enumerate(shifts.tolist()):  # slices copy faster than a gather
        if shift >= 0:
            out[row, shift:] = batch[row, : n - shift]
        else:
            out[row, :shift] = batch[row, -shift:]
    return out


def reverberate(
    batch: Tensor, rng: torch.Generator, *, sample_rate_hz: int, probability: float
) -> Tensor:
    """Convolve some rows with a synthetic room: decaying noise, RT60 0.1-0.7 s."""
    chosen = torch.nonzero(torch.rand(len(batch), generator=rng) < probability).flatten()
    if len(chosen) == 0:
        return batch
    n = batch.shape[1]
    n_ir = int(0.4 * sample_rate_hz)
    t_s = torch.arange(n_ir) / sample_rate_hz
    rt60_s = uniform(0.1, 0.7, (len(chosen), 1), rng)
    impulse = torch.randn((len(chosen), n_ir), generator=rng) * torch.exp(-6.9 * t_s / rt60_s)
    impulse[:, 0] = 1.0 / uniform(0.1, 0.5, (len(chosen),), rng)  # direct-to-reverb ratio
    impulse = impulse / impulse.square().sum(dim=1, keepdim=True).sqrt()
    n_fft = fast_fft_size(n + n_ir - 1)
    spectrum = torch.fft.rfft(batch[chosen], n_fft) * torch.fft.rfft(impulse, n_fft)
    out = batch.clone()
    out[chosen] = torch.fft.irfft(spectrum, n_fft)[:, :n]
    return out


def mix_background(
    batch: Tensor,
    rng: torch.Generator,
    *,
    backgrounds: list[Tensor],
    frequency: float,
    max_volume: float,
    always: Tensor,
) -> Tensor:
    """Add a random stretch of a background recording to some rows (always to `always` rows)."""
    if not backgrounds:
        return batch
    out = batch.clone()
    n = batch.shape[1]
    chosen = (torch.rand(len(batch), generator=rng) < frequency) | always
    for row in torch.nonzero(chosen).flatten().tolist():
        source = backgrounds[int(torch.randint(len(backgrounds), (1,), generator=rng))]
        if len(source) < n:
            source = source.repeat(n // len(source) + 1)
        start = int(torch.randint(len(source) - n + 1, (1,), generator=rng))
        out[row] += float(uniform(0.0, max_volume, (1,), rng)) * source[start : start + n]
    return out


def low_pass_cutoffs_hz(n_rows: int, rng: torch.Generator, *, nyquist_hz: float) -> Tensor:
    """Half phone-like (3.3-4 kHz, as 8 kHz recordings are), half wider, up to Nyquist."""
    low, high = (min(f, nyquist_hz) for f in PHONE_LOW_PASS_HZ)
    phone_like = torch.rand(n_rows, generator=rng) < 0.5
    return torch.where(
        phone_like, uniform(low, high, (n_rows,), rng), uniform(high, nyquist_hz, (n_rows,), rng)
    )


def microphone_responses(
    n_rows: int, n_samples: int, rng: torch.Generator, *, sample_rate_hz: int, probability: float
) -> Tensor:
    """Random magnitude responses [n_rows, bins]: low-pass (phone-like or wider), high-pass and
    tilt; rows not chosen (1 - `probability`) stay flat."""
    freqs_hz = torch.fft.rfftfreq(n_samples, d=1.0 / sample_rate_hz)
    freqs_hz[0] = freqs_hz[1]
    shape = (n_rows, 1)
    low_pass_hz = low_pass_cutoffs_hz(n_rows, rng, nyquist_hz=sample_rate_hz / 2)[:, None]
    high_pass_hz = uniform(20.0, 400.0, shape, rng)
    order = torch.randint(2, 9, shape, generator=rng)
    tilt_db_per_octave = uniform(-3.0, 3.0, shape, rng)
    # Butterworth magnitudes in the log domain: |H|^2 = 1 / (1 + (f / f_c)^(2 order))
    zero = torch.zeros(())
    log_gain = (
        -0.5 * torch.logaddexp(zero, 2 * order * torch.log(freqs_hz / low_pass_hz))
        - 0.5 * torch.logaddexp(zero, 2 * order * torch.log(high_pass_hz / freqs_hz))
        + tilt_db_per_octave * (math.log(10) / 20) * torch.log2(freqs_hz / 1_000.0)
    )
    response = torch.exp(log_gain)
    response[torch.rand(n_rows, generator=rng) >= probability] = 1.0
    return response


def room_tone_spectra(
    n_rows: int,
    n_samples: int,
    rng: torch.Generator,
    *,
    min_level_dbfs: float,
    max_level_dbfs: float,
) -> Tensor:
    """Spectra [n_rows, bins] of coloured noise (white to brown) at a random RMS level."""
    freqs = torch.fft.rfftfreq(n_samples)
    freqs[0] = freqs[1]
    exponent = uniform(0.0, 1.0, (n_rows, 1), rng)  # 0 white, 0.5 pink, 1 brown
    white = torch.randn((n_rows, len(freqs)), generator=rng, dtype=torch.complex64)
    white[:, 0] = 0  # no DC; and irfft drops the imaginary part of the DC and Nyquist bins,
    white[:, -1] = 0  # which would otherwise count in the level below but not in the sound
    spectra = white / freqs**exponent
    energy = torch.view_as_real(spectra).square().sum(dim=(1, 2))[:, None]
    rms = (2 * energy).sqrt() / n_samples  # Parseval
    level_dbfs = uniform(min_level_dbfs, max_level_dbfs, (n_rows, 1), rng)
    return spectra * (10.0 ** (level_dbfs / 20.0) / rms)


def room_tone(
    n_rows: int,
    n_samples: int,
    rng: torch.Generator,
    *,
    min_level_dbfs: float,
    max_level_dbfs: float,
) -> Tensor:
    """Coloured noise at a random RMS level: a quiet room heard through a microphone."""
    spectra = room_tone_spectra(
        n_rows, n_samples, rng, min_level_dbfs=min_level_dbfs, max_level_dbfs=max_level_dbfs
    )
    return torch.fft.irfft(spectra, n_samples)


def microphone(batch: Tensor, rng: torch.Generator, *, config: AugmentConfig) -> Tensor:
    """A random microphone: its frequency response, its gain, and its own hiss (one FFT pass)."""
    n_rows, n_samples = batch.shape
    response = microphone_responses(
        n_rows,
        n_samples,
        rng,
        sample_rate_hz=config.sample_rate_hz,
        probability=config.band_limit_probability,
    )
    gain = 10.0 ** (uniform(config.min_gain_db, config.max_gain_db, (n_rows, 1), rng) / 20.0)
    hiss = room_tone_spectra(
        n_rows,
        n_samples,
        rng,
        min_level_dbfs=config.min_room_tone_dbfs,
        max_level_dbfs=config.max_room_tone_dbfs,
    )
    return torch.fft.irfft(torch.fft.rfft(batch) * (response * gain) + hiss, n_samples)


def augment_batch(
    batch: Tensor,
    is_silence: Tensor,
    rng: torch.Generator,
    *,
    config: AugmentConfig,
    backgrounds: list[Tensor],
) -> Tensor:
    """Every augmentation in order; `_silence_` rows always get background and room tone."""
    out = time_shift(batch, rng, max_shift=config.time_shift_samples)
    out = reverberate(
        out, rng, sample_rate_hz=config.sample_rate_hz, probability=config.reverb_probability
    )
    out = mix_background(
        out,
        rng,
        backgrounds=backgrounds,
        frequency=config.background_frequency,
        max_volume=config.background_volume,
        always=is_silence,
    )
    return microphone(out, rng, config=config).clamp(-1.0, 1.0)
