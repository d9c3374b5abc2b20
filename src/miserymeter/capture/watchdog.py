"""Notice a capture that died silently: no frames arrive, or every sample has one value.

The two most reported failures of always-on recorders look healthy from the outside: the
process runs, the stream is "active", but the driver delivers nothing, or only digital zeros.
A real microphone in a quiet room still has a noise floor, so a long run of one constant
sample value is a dead capture, not a quiet night.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Fault = Literal["no_frames", "flat"]


@dataclass(frozen=True)
class WatchdogVerdict:
    """Why the capture looks dead, in words for a log line."""

    fault: Fault
    message: str


class Watchdog:
    """Fed each block and the clock (seconds, monotonic); says when the capture is dead."""

    def __init__(self, *, sample_rate_hz: int, no_frames_s: float, flat_s: float) -> None:
        self._sample_rate_hz = sample_rate_hz
        self._no_frames_s = no_frames_s
        self._flat_s = flat_s
        self._last_frame_at_s: float | None = None
        self._started_at_s: float | None = None
        self._flat_value: int | None = None
        self._flat_frames = 0

    def start(self, now_s: float) -> None:
        """A (re)opened stream: forget the old one's history."""
        self._started_at_s = now_s
        self._last_frame_at_s = None
        self._flat_value = None
        self._flat_frames = 0

    def feed(self, block: np.ndarray, now_s: float) -> None:
        """Account for one block of samples [frames, channels] that arrived at `now_s`."""
        if len(block) == 0:
            return
        self._last_frame_at_s = now_s
        first = int(block.flat[0])
        if np.all(block == first):
            if first != self._flat_value:
                self._flat_value, self._flat_frames = first, 0
            self._flat_frames += len(block)
        else:
            self._flat_value, self._flat_frames = None, 0

    def check(self, now_s: float) -> WatchdogVerdict | None:
        """A verdict if the capture looks dead at `now_s`, else None."""
        since = self._last_frame_at_s if self._last_frame_at_s is not None else self._started_at_s
        if since is not None and now_s - since >= self._no_frames_s:
            return WatchdogVerdict("no_frames", f"no audio has arrived for {now_s - since:.1f} s")
        flat_s = self._flat_frames / self._sample_rate_hz
        if self._flat_value is not None and flat_s >= self._flat_s:
            return WatchdogVerdict(
                "flat",
                f"the last {flat_s:.1f} s of audio are flat digital silence "
                f"(every sample is {self._flat_value})",
            )
        return None
