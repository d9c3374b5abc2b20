"""Cut a recording into fixed-length windows for scoring."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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


def stream_windows(blocks: Iterable[np.ndarray], n_window: int) -> Iterator[tuple[int, np.ndarray]]:
    """The windows `cover_with_windows` gives, as (start sample, window), from a stream of
    sample blocks: no more than a window and a block are held at once."""
    pending = np.zeros(0, dtype=np.float32)
    last_window: np.ndarray | None = None
    n_seen = 0
    for block in blocks:
        pending = np.concatenate([pending, np.asarray(block, dtype=np.float32)])
        n_seen += len(block)
        while len(pending) >= n_window:
            last_window, pending = pending[:n_window], pending[n_window:]
            yield n_seen - len(pending) - n_window, last_window
    if last_window is None:
        yield 0, fit_length(pending, n_window)
    elif len(pending) > 0:
        yield n_seen - n_window, np.concatenate([last_window, pending])[-n_window:]
