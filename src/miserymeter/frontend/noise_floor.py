"""The room's noise floor: the quietest second heard lately, for the listener's loudness gate.

A nursery at night is mostly its own noise floor (a fan, the street, the microphone's hiss);
a cry stands well above it. The floor is the lowest per-second level of the last half hour
(a monotonic deque keeps the running minimum in constant time); seconds of digital silence
(a muted or starting device) are left out so they cannot drag the floor down.
"""

from __future__ import annotations

from collections import deque

from miserymeter.frontend.loudness import FLOOR_DBFS

DEFAULT_HORIZON_S = 1_800.0
# The floor is not trusted before this much audio has been heard.
MIN_HISTORY_S = 10.0


class NoiseFloor:
    """Running minimum of per-hop levels over the last `horizon_s` seconds."""

    def __init__(self, *, hop_s: float, horizon_s: float = DEFAULT_HORIZON_S) -> None:
        self._n_horizon = max(1, round(horizon_s / hop_s))
        self._n_min_history = max(1, round(MIN_HISTORY_S / hop_s))
        self._candidates: deque[tuple[int, float]] = deque()  # (hop index, level), rising levels
        self._n_hops = 0

    def add(self, level_dbfs: float) -> None:
        """Account for one hop's level."""
        index = self._n_hops
        self._n_hops += 1
        if level_dbfs > FLOOR_DBFS:
            while self._candidates and self._candidates[-1][1] >= level_dbfs:
                self._candidates.pop()
            self._candidates.append((index, level_dbfs))
        while self._candidates and self._candidates[0][0] <= index - self._n_horizon:
            self._candidates.popleft()

    @property
    def floor_dbfs(self) -> float | None:
        """The floor, once enough audio has been heard (None before, or if all was silence)."""
        if self._n_hops < self._n_min_history or not self._candidates:
            return None
        return self._candidates[0][1]
