"""The detector replayed over stored seconds: the episode a listener left open when it was
killed (SIGKILL, a power cut, a crash), so that its `crying_started` gets its
`crying_stopped`; and, for the dashboard, whether the crying is on now.

A second the gate skipped counts as 0, as it did live. The episode still open after the last
second is the one the run never finished; it ends where the crying last reached the off
threshold.

The dashboard's replay need not start far back: from a few hops before the last burst of
seconds at or above the off threshold, it ends as one from any earlier second would
(`last_burst`, `replay_start`), and a dashboard asked every second need not replay at all:
`RollingReplay` keeps the replay of a room's last burst and takes only the seconds stored since.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from miserymeter.detect.episodes import DetectedEpisode, EpisodeDetector, n_smoothing_hops
from miserymeter.detect.settings import DetectorSettings
from miserymeter.records import SecondRecord

# A baby draws breath between cries: a pause this short is still "crying now" to a parent.
A_BREATH_S = 10.0


@dataclass(frozen=True)
class Replayed:
    """After the last second: the confirmed episode still open (None: none), and whether its
    crying was on then (heard within A_BREATH_S; not in the longer pause that may yet end it)."""

    open_episode: DetectedEpisode | None
    crying_now: bool


def replay(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> Replayed:
    """The detector's state after `seconds` (offsets as stored)."""
    detector = EpisodeDetector(settings, hop_s=hop_s)
    for second in seconds:
        _feed(detector, second)
    return _replayed(detector)


def _feed(detector: EpisodeDetector, second: SecondRecord) -> None:
    detector.feed(second.crying_probability or 0.0, end_s=second.offset_s + detector.hop_s)


def _replayed(detector: EpisodeDetector) -> Replayed:
    episode = detector.in_progress()
    if episode is None:
        return Replayed(None, crying_now=False)
    paused_s = detector.heard_until_s - episode.end_s
    return Replayed(episode, crying_now=detector.is_crying or paused_s <= A_BREATH_S)


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
    return burst - burst_lead(settings, hop_s=hop_s)


def burst_lead(settings: DetectorSettings, *, hop_s: float) -> timedelta:
    """How long before a burst its replay starts (`replay_start`)."""
    return timedelta(seconds=(n_smoothing_hops(settings, hop_s=hop_s) + 3) * hop_s)


def episode_left_open(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> DetectedEpisode | None:
    """The confirmed episode still open after the last of `seconds`."""
    return replay(seconds, settings, hop_s=hop_s).open_episode


def time_at(seconds: Sequence[SecondRecord], offset_s: float) -> datetime:
    """The wall-clock time of `offset_s` in the run `seconds` were stored by."""
    first = seconds[0]
    return first.at + timedelta(seconds=offset_s - first.offset_s)


class RollingReplay:
    """The replay of a run's last burst, kept up to date: `extend` it with the seconds stored
    since (in time order), and `replayed()` is what `replay` gives over the seconds from
    `replay_start(last_burst(...))`. It knows the seconds from `since` on only: a burst that
    would need earlier ones to be replayed makes `extend` return False."""

    def __init__(self, settings: DetectorSettings, *, hop_s: float, since: datetime) -> None:
        self.settings = settings
        self.hop_s = hop_s
        self.last_at = since - timedelta(microseconds=1)  # the last second taken
        self.burst: datetime | None = None  # the first crying second of the last burst
        self._since = since
        self._settled = timedelta(seconds=settled_after_s(settings, hop_s=hop_s))
        self._lead = burst_lead(settings, hop_s=hop_s)
        self._last_crying_at: datetime | None = None
        self._recent: deque[SecondRecord] = deque()  # those within `_lead` of the last
        self._detector: EpisodeDetector | None = None
        self._first: SecondRecord | None = None  # the replay's first second

    def extend(self, seconds: Iterable[SecondRecord]) -> bool:
        """Take the seconds stored after `last_at`, in order; False if this burst's replay
        would start before `since`."""
        for second in seconds:
            if (second.crying_probability or 0.0) >= self.settings.off_probability:
                last = self._last_crying_at
                if (last is None or second.at - last > self._settled) and not self._restart(second):
                    return False
                self._last_crying_at = second.at
            if self._detector is not None:
                _feed(self._detector, second)
            self._recent.append(second)
            while self._recent[0].at < second.at - self._lead:
                self._recent.popleft()
            self.last_at = second.at
        return True

    def _restart(self, second: SecondRecord) -> bool:
        """A new burst begins at `second`: replay from a few hops before it."""
        start = second.at - self._lead
        if start < self._since:
            return False
        self.burst = second.at
        self._detector = EpisodeDetector(self.settings, hop_s=self.hop_s)
        replayed = [s for s in self._recent if s.at >= start]
        self._first = replayed[0] if replayed else second
        for earlier in replayed:
            _feed(self._detector, earlier)
        return True

    def burst_at(self, last_at: datetime) -> datetime | None:
        """`last_burst` as the run's last second is `last_at`: None once it settled."""
        last = self._last_crying_at
        if last is None or last_at - last > self._settled:
            self.burst, self._detector, self._first = None, None, None
        return self.burst

    def replayed(self) -> Replayed:
        """The state after the last second taken (no episode open when no burst is)."""
        return Replayed(None, False) if self._detector is None else _replayed(self._detector)

    def time_at(self, offset_s: float) -> datetime:
        """The wall-clock time of `offset_s` in the replayed run (`time_at`)."""
        assert self._first is not None, "no burst replayed"
        return time_at([self._first], offset_s)
