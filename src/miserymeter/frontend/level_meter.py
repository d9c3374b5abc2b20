"""A live level meter: the loudness of the latest quarter second heard, for the dashboard.

The listener adds every block of audio as it arrives (before resampling); each `window_s` of
it becomes a `LevelReading` that replaces the previous one whole, so any thread may read
`latest` at any time without a lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from miserymeter.frontend.loudness import amplitude_dbfs

METER_WINDOW_S = 0.25


@dataclass(frozen=True)
class LevelReading:
    """The loudness of `window_s` of audio that ended at `at` (UTC), and the room's floor.

    `is_flat`: every sample had one value (a muted or disconnected device); `floor_dbfs`: the
    listener's noise floor (the quietest second of the last half hour; None before it knows).
    """

    at: datetime
    rms_dbfs: float
    peak_dbfs: float
    is_flat: bool
    floor_dbfs: float | None


class LevelMeter:
    """Turns blocks of samples into a `LevelReading` per `window_s`; see above."""

    def __init__(
        self,
        *,
        window_s: float = METER_WINDOW_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.window_s = window_s
        self.latest: LevelReading | None = None
        self._clock = clock
        self._sum_squares = 0.0
        self._n = 0
        self._low = np.inf
        self._high = -np.inf

    def add(self, samples: np.ndarray, *, sample_rate_hz: int, floor_dbfs: float | None) -> None:
        """Account for mono float `samples` just heard; publish a reading per full window."""
        if samples.size == 0:
            return
        x = samples.astype(np.float64, copy=False)
        self._sum_squares += float(np.dot(x, x))
        self._n += x.size
        self._low = min(self._low, float(x.min()))
        self._high = max(self._high, float(x.max()))
        if self._n >= self.window_s * sample_rate_hz:
            rms = float(np.sqrt(self._sum_squares / self._n))
            peak = max(abs(self._low), abs(self._high))
            self.latest = LevelReading(
                self._clock(),
                amplitude_dbfs(rms),
                amplitude_dbfs(peak),
                is_flat=self._low == self._high,
                floor_dbfs=floor_dbfs,
            )
            self._reset()

    def _reset(self) -> None:
        self._sum_squares = 0.0
        self._n = 0
        self._low = np.inf
        self._high = -np.inf
