"""Loudness in dBFS: 0 dBFS is a full-scale square wave; digital silence is the floor."""

from __future__ import annotations

import numpy as np

# The quietest level reported: digital silence reads as this, not as -inf.
FLOOR_DBFS = -120.0
INT16_FULL_SCALE = 32768.0


def as_float(samples: np.ndarray) -> np.ndarray:
    """Samples in [-1, 1] as float32, from int16 or float input."""
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / INT16_FULL_SCALE
    return samples.astype(np.float32, copy=False)


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level of `samples` (any shape, int16 or float) in dBFS."""
    x = as_float(samples)
    if x.size == 0:
        return FLOOR_DBFS
    return amplitude_dbfs(float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def band_dbfs(samples: np.ndarray, *, sample_rate_hz: int, band_hz: tuple[float, float]) -> float:
    """RMS level in dBFS of the part of `samples` between `band_hz` (what `rms_dbfs` would read
    after an ideal band-pass filter)."""
    x = as_float(samples)
    if x.size == 0:
        return FLOOR_DBFS
    spectrum = np.fft.rfft(x.astype(np.float64))
    frequencies_hz = np.fft.rfftfreq(x.size, d=1.0 / sample_rate_hz)
    in_band = (frequencies_hz >= band_hz[0]) & (frequencies_hz <= band_hz[1])
    mean_square = 2.0 * float(np.sum(np.abs(spectrum[in_band]) ** 2)) / x.size**2  # Parseval
    return amplitude_dbfs(float(np.sqrt(mean_square)))


def peak_dbfs(samples: np.ndarray) -> float:
    """Largest absolute sample of `samples` in dBFS."""
    x = as_float(samples)
    return amplitude_dbfs(float(np.max(np.abs(x))) if x.size else 0.0)


def amplitude_dbfs(amplitude: float) -> float:
    """An amplitude (RMS or peak, 1.0 = full scale) in dBFS, never below the floor."""
    return max(FLOOR_DBFS, 20.0 * float(np.log10(amplitude))) if amplitude > 0 else FLOOR_DBFS
