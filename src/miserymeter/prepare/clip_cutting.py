"""Cut clips out of streamed recordings at given sample offsets, with gain.

Nothing here holds a whole recording in memory, so a night-long file or archive run is cut
with the memory of a few clips; clips are sample-exact against resampling the whole signal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np


def n_resampled(n_frames: int, *, from_hz: int, to_hz: int) -> int:
    """How many samples `resampled` makes of `n_frames` (soxr rounds to the nearest)."""
    return n_frames if from_hz == to_hz else round(n_frames * to_hz / from_hz)


def cut_at(
    blocks: Iterable[np.ndarray], *, starts: Sequence[int], n_samples: int
) -> Iterator[np.ndarray]:
    """The `n_samples` long pieces of the concatenated `blocks` at each of `starts` (sorted).

    Pieces may overlap. Stops early if the blocks end before a piece is complete.
    """
    pending = np.zeros(0, dtype=np.float32)
    pending_start = 0  # position of pending[0] in the whole signal
    next_piece = 0
    blocks_iter = iter(blocks)
    while next_piece < len(starts):
        start = starts[next_piece]
        end_in_pending = start + n_samples - pending_start
        if end_in_pending <= len(pending):
            yield pending[start - pending_start : end_in_pending].copy()
            next_piece += 1
            keep_from = (starts[next_piece] if next_piece < len(starts) else start) - pending_start
            pending = pending[max(0, keep_from) :]
            pending_start += max(0, keep_from)
            continue
        block = next(blocks_iter, None)
        if block is None:
            return
        pending = np.concatenate([pending, block])


def apply_gain(samples: np.ndarray, *, gain_db: float) -> tuple[np.ndarray, int]:
    """`samples` amplified by `gain_db` and limited to [-1, 1]; and how many had to be clipped."""
    if gain_db != 0.0:
        samples = samples * np.float32(10.0 ** (gain_db / 20.0))
    n_clipped = int(np.count_nonzero(np.abs(samples) > 1.0))
    if n_clipped:
        samples = np.clip(samples, -1.0, 1.0)
    return samples.astype(np.float32, copy=False), n_clipped


def level_dbfs(sum_squares: float, n_samples: int) -> float:
    """RMS level relative to full scale (a full-scale sine is -3 dBFS); -inf for silence."""
    if n_samples == 0 or sum_squares <= 0.0:
        return float("-inf")
    return float(10.0 * np.log10(sum_squares / n_samples))
