"""Stream framing: blocks of any size in, fixed hops out, and the model's window over them.

Whatever block size the source delivers (a microphone's 0.1 s, a file's 64k frames, stdin's
odd reads), the hops and windows are the same samples: the listener's results do not depend
on how the audio arrived.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class HopFramer:
    """Collects mono samples and hands them out in hops of exactly `n_hop` samples."""

    def __init__(self, n_hop: int) -> None:
        self.n_hop = n_hop
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: np.ndarray) -> Iterator[np.ndarray]:
        """Add `samples`; yield every hop that is now complete."""
        pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n_complete = len(pending) // self.n_hop
        for i in range(n_complete):
            yield pending[i * self.n_hop : (i + 1) * self.n_hop]
        self._pending = pending[n_complete * self.n_hop :]

    def remainder(self) -> np.ndarray:
        """The samples of the last, incomplete hop (at the end of the input)."""
        return self._pending


class SlidingWindow:
    """The latest `n_window` samples, advanced hop by hop; full once enough hops arrived."""

    def __init__(self, n_window: int) -> None:
        self._samples = np.zeros(n_window, dtype=np.float32)
        self._n_seen = 0

    def advance(self, hop: np.ndarray) -> None:
        """Slide the window forward by one hop."""
        n = min(len(hop), len(self._samples))
        self._samples = np.roll(self._samples, -n)
        self._samples[-n:] = hop[-n:]
        self._n_seen += len(hop)

    @property
    def is_full(self) -> bool:
        return self._n_seen >= len(self._samples)

    @property
    def samples(self) -> np.ndarray:
        """The window, oldest sample first."""
        return self._samples
