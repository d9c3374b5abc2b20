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


def peak_dbfs(samples: np.ndarray) -> float:
    """Largest absolute sample of `samples` in dBFS."""
    x = as_float(samples)
    return amplitude_dbfs(float(np.max(np.abs(x))) if x.size else 0.0)


def amplitude_dbfs(amplitude: float) -> float:
    """An amplitude (RMS or peak, 1.0 = full scale) in dBFS, never below the floor."""
    return max(FLOOR_DBFS, 20.0 * float(np.log10(amplitude))) if amplitude > 0 else FLOOR_DBFS
