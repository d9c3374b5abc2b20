"""Waveform augmentation for a batch [n, samples]: what other rooms and microphones do to sound.

Each function takes the batch first, randomness as `rng`, and options by keyword. The order in
`augment_batch` follows the sound's path: source → room (reverb, background) → microphone
(band limits, tilt, gain) → microphone self-noise (room tone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def time_shift(batch: np.ndarray, rng: np.random.Generator, *, max_shift: int) -> np.ndarray:
    """Shift each row by up to ±`max_shift` samples, filling with zeros (the tutorial's shift)."""
    if max_shift <= 0:
        return batch
    out = np.zeros_like(batch)
    n = batch.shape[1]
    for row, shift in enumerate(rng.integers(-max_shift, max_shift + 1, size=len(batch))):
        if shift >= 0:
            out[row, shift:] = batch[row, : n - shift]
        else:
            out[row, :shift] = batch[row, -shift:]
    return out


def random_gain(
    batch: np.ndarray, rng: np.random.Generator, *, min_gain_db: float, max_gain_db: float
) -> np.ndarray:
    """Scale each row by a gain drawn uniformly in decibels."""
    gain_db = rng.uniform(min_gain_db, max_gain_db, size=(len(batch), 1))
    return batch * (10.0 ** (gain_db / 20.0)).astype(np.float32)


def band_limit(
    batch: np.ndarray, rng: np.random.Generator, *, sample_rate_hz: int, probability: float
) -> np.ndarray:
    """Random microphone response: low-pass (phone-like to full band), high-pass and tilt."""
    n = batch.shape[1]
    freqs_hz = np.fft.rfftfreq(n, d=1.0 / sample_rate_hz)
    freqs_hz[0] = freqs_hz[1]
    nyquist_hz = sample_rate_hz / 2
    n_rows = len(batch)
    low_pass_hz = rng.uniform(min(3_000.0, nyquist_hz), nyquist_hz, size=(n_rows, 1))
    high_pass_hz = rng.uniform(20.0, 400.0, size=(n_rows, 1))
    order = rng.integers(2, 9, size=(n_rows, 1))
    tilt_db_per_octave = rng.uniform(-3.0, 3.0, size=(n_rows, 1))
    response = 1.0 / np.sqrt(1.0 + (freqs_hz / low_pass_hz) ** (2 * order))
    response /= np.sqrt(1.0 + (high_pass_hz / freqs_hz) ** (2 * order))
    response *= 10.0 ** (tilt_db_per_octave * np.log2(freqs_hz / 1_000.0) / 20.0)
    chosen = rng.random(n_rows) < probability
    spectrum = np.fft.rfft(batch[chosen], axis=1)
    out = batch.copy()
    out[chosen] = np.fft.irfft(spectrum * response[chosen], n=n, axis=1)
    return out


def reverberate(
    batch: np.ndarray, rng: np.random.Generator, *, sample_rate_hz: int, probability: float
) -> np.ndarray:
    """Convolve some rows with a synthetic room: decaying noise with RT60 of 0.1-0.7 s."""
    chosen = np.flatnonzero(rng.random(len(batch)) < probability)
    if len(chosen) == 0:
        return batch
    n = batch.shape[1]
    n_ir = int(0.5 * sample_rate_hz)
    t_s = np.arange(n_ir) / sample_rate_hz
    rt60_s = rng.uniform(0.1, 0.7, size=(len(chosen), 1))
    impulse = rng.standard_normal((len(chosen), n_ir)) * np.exp(-6.9 * t_s / rt60_s)
    impulse[:, 0] = 1.0 / rng.uniform(0.1, 0.5, size=len(chosen))  # direct-to-reverb ratio
    impulse /= np.sqrt((impulse**2).sum(axis=1, keepdims=True))
    n_fft = 1 << (n + n_ir - 1).bit_length()
    wet = np.fft.irfft(
        np.fft.rfft(batch[chosen], n_fft, axis=1) * np.fft.rfft(impulse, n_fft, axis=1),
        n_fft,
        axis=1,
    )[:, :n]
    out = batch.copy()
    out[chosen] = wet
    return out


def mix_background(
    batch: np.ndarray,
    rng: np.random.Generator,
    *,
    backgrounds: list[np.ndarray],
    frequency: float,
    max_volume: float,
    always: np.ndarray,
) -> np.ndarray:
    """Add a random stretch of a background recording to some rows (always to `always` rows)."""
    if not backgrounds:
        return batch
    out = batch.copy()
    n = batch.shape[1]
    chosen = (rng.random(len(batch)) < frequency) | always
    for row in np.flatnonzero(chosen):
        source = backgrounds[rng.integers(len(backgrounds))]
        if len(source) < n:
            source = np.tile(source, n // len(source) + 1)
        start = rng.integers(0, len(source) - n + 1)
        out[row] += rng.uniform(0.0, max_volume) * source[start : start + n]
    return out


def room_tone(
    n_rows: int,
    n_samples: int,
    rng: np.random.Generator,
    *,
    min_level_dbfs: float,
    max_level_dbfs: float,
) -> np.ndarray:
    """Coloured noise (white to brown) at a random RMS level: a quiet room and its microphone."""
    white = rng.standard_normal((n_rows, n_samples))
    freqs = np.fft.rfftfreq(n_samples)
    freqs[0] = freqs[1]
    exponent = rng.uniform(0.0, 1.0, size=(n_rows, 1))  # 0 white, 0.5 pink, 1 brown
    noise = np.fft.irfft(np.fft.rfft(white, axis=1) / freqs**exponent, n=n_samples, axis=1)
    noise /= np.sqrt((noise**2).mean(axis=1, keepdims=True))
    level_dbfs = rng.uniform(min_level_dbfs, max_level_dbfs, size=(n_rows, 1))
    return (noise * 10.0 ** (level_dbfs / 20.0)).astype(np.float32)


def augment_batch(
    batch: np.ndarray,
    is_silence: np.ndarray,
    rng: np.random.Generator,
    *,
    config: AugmentConfig,
    backgrounds: list[np.ndarray],
) -> np.ndarray:
    """Every augmentation in order; `_silence_` rows always get background and room tone."""
    rate = config.sample_rate_hz
    out = time_shift(batch, rng, max_shift=config.time_shift_samples)
    out = reverberate(out, rng, sample_rate_hz=rate, probability=config.reverb_probability)
    out = mix_background(
        out,
        rng,
        backgrounds=backgrounds,
        frequency=config.background_frequency,
        max_volume=config.background_volume,
        always=is_silence,
    )
    out = band_limit(out, rng, sample_rate_hz=rate, probability=config.band_limit_probability)
    out = random_gain(out, rng, min_gain_db=config.min_gain_db, max_gain_db=config.max_gain_db)
    out += room_tone(
        len(out),
        out.shape[1],
        rng,
        min_level_dbfs=config.min_room_tone_dbfs,
        max_level_dbfs=config.max_room_tone_dbfs,
    )
    return np.clip(out, -1.0, 1.0).astype(np.float32)
