"""Cut a recording into fixed-length windows for scoring."""

from __future__ import annotations

import numpy as np

from miserymeter.audio.io import fit_length


def cover_with_windows(samples: np.ndarray, n_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Back-to-back windows of `n_window` samples covering all of `samples`.

    The last window is aligned to the end of the recording (overlapping its neighbour) so every
    window is full length; a recording shorter than one window is zero-padded. Returns the start
    sample of each window and the windows, shape [n_windows, n_window].
    """
    if len(samples) <= n_window:
        return np.zeros(1, dtype=np.int64), fit_length(samples, n_window)[None, :]
    starts = np.arange(0, len(samples) - n_window + 1, n_window, dtype=np.int64)
    if starts[-1] + n_window < len(samples):
        starts = np.append(starts, len(samples) - n_window)
    windows = np.stack([samples[s : s + n_window] for s in starts])
    return starts, windows
