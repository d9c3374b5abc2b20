"""The detector replayed over stored seconds: the episode a listener left open when it was
killed (SIGKILL, a power cut, a crash), so that its `crying_started` gets its
`crying_stopped`; and, for the dashboard, whether the crying is on now.

A second the gate skipped counts as 0, as it did live. The episode still open after the last
second is the one the run never finished; it ends where the crying last reached the off
threshold.

The dashboard's replay need not start far back: from a few hops before the last burst of
seconds at or above the off threshold, it ends as one from any earlier second would
(`last_burst`, `replay_start`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from miserymeter.detect.episodes import DetectedEpisode, EpisodeDetector, n_smoothing_hops
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


def settled_after_s(settings: DetectorSettings, *, hop_s: float) -> float:
    """How long after its last hop at or above the off threshold the detector has surely
    closed any episode and is idle, its smoothing window full of lower scores: the window
    twice, the merge gap, and hops to spare."""
    return settings.merge_gap_s + (2 * n_smoothing_hops(settings, hop_s=hop_s) + 6) * hop_s


def last_burst(
    crying_at: Sequence[datetime], last_at: datetime, settings: DetectorSettings, *, hop_s: float
) -> datetime | None:
    """The first of the last burst of `crying_at`, the times (in order) of one run's seconds at
    or above the off threshold up to `last_at`; within a burst, none is `settled_after_s`
    after the one before. None when the last came so long before `last_at` (or none did) that
    no episode can be open."""
    settled = timedelta(seconds=settled_after_s(settings, hop_s=hop_s))
    if not crying_at or last_at - crying_at[-1] > settled:
        return None
    first = len(crying_at) - 1
    while first > 0 and crying_at[first] - crying_at[first - 1] <= settled:
        first -= 1
    return crying_at[first]


def replay_start(burst: datetime, settings: DetectorSettings, *, hop_s: float) -> datetime:
    """Where a replay of the run's seconds may start and still end as one from any earlier
    second would: a few hops before its last burst (`last_burst`), low scores enough to fill
    the smoothing window."""
    return burst - timedelta(seconds=(n_smoothing_hops(settings, hop_s=hop_s) + 3) * hop_s)


def episode_left_open(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> DetectedEpisode | None:
    """The confirmed episode still open after the last of `seconds`."""
    return replay(seconds, settings, hop_s=hop_s).open_episode


def time_at(seconds: Sequence[SecondRecord], offset_s: float) -> datetime:
    """The wall-clock time of `offset_s` in the run `seconds` were stored by."""
    first = seconds[0]
    return first.at + timedelta(seconds=offset_s - first.offset_s)
