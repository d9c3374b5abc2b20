"""The detector replayed over stored seconds: the episode a listener left open when it was
killed (SIGKILL, a power cut, a crash), so that its `crying_started` gets its
`crying_stopped`; and, for the dashboard, whether the crying is on now.

A second the gate skipped counts as 0, as it did live. The episode still open after the last
second is the one the run never finished; it ends where the crying last reached the off
threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from miserymeter.detect.episodes import DetectedEpisode, EpisodeDetector
from miserymeter.detect.settings import DetectorSettings
from miserymeter.records import SecondRecord


@dataclass(frozen=True)
class Replayed:
    """After the last second: the confirmed episode still open (None: none), and whether its
    crying was on then (not in the pause that may yet end it)."""

    open_episode: DetectedEpisode | None
    crying_now: bool


def replay(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> Replayed:
    """The detector's state after `seconds` (offsets as stored)."""
    detector = EpisodeDetector(settings, hop_s=hop_s)
    for second in seconds:
        detector.feed(second.crying_probability or 0.0, end_s=second.offset_s + hop_s)
    crying_now = detector.is_crying
    finished = [o for o in detector.flush() if isinstance(o, DetectedEpisode)]
    return Replayed(finished[0] if finished else None, crying_now and bool(finished))


def episode_left_open(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> DetectedEpisode | None:
    """The confirmed episode still open after the last of `seconds`."""
    return replay(seconds, settings, hop_s=hop_s).open_episode


def time_at(seconds: Sequence[SecondRecord], offset_s: float) -> datetime:
    """The wall-clock time of `offset_s` in the run `seconds` were stored by."""
    first = seconds[0]
    return first.at + timedelta(seconds=offset_s - first.offset_s)
