"""A sound as a microphone some way off in a room hears it: for measuring, not training."""

from __future__ import annotations

import numpy as np


def in_a_room(
    samples: np.ndarray,
    rng: np.random.Generator,
    *,
    rt60_s: float,
    direct_db: float,
    sample_rate_hz: int,
) -> np.ndarray:
    """`samples` through an exponentially decaying noise tail of `rt60_s` (drawn from `rng`),
    the direct sound `direct_db` above the tail's energy (0 dB: a microphone a couple of
    metres off in a small room; -10 dB: farther, or through a doorway)."""
    n = int(rt60_s * sample_rate_hz)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / sample_rate_hz / rt60_s)
    tail[0] = np.sqrt(np.sum(tail[1:] ** 2) * 10 ** (direct_db / 10))
    tail /= np.sqrt(np.sum(tail**2))
    size = len(samples) + n
    echoed = np.fft.irfft(np.fft.rfft(samples, size) * np.fft.rfft(tail, size), n=size)
    return echoed[: len(samples)].astype(np.float32)
