"""Per-minute summaries of the per-second records: the original dashboard's granularity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from miserymeter.constants import SILENCE_LABEL
from miserymeter.records import MinuteSummary, SecondRecord

# A second counts as "classified crying" at this probability.
CRYING_PROBABILITY = 0.5


class MinuteSummarizer:
    """Collects seconds; hands out a `MinuteSummary` when a wall-clock minute is complete."""

    def __init__(self) -> None:
        self._seconds: list[SecondRecord] = []

    def add(self, second: SecondRecord) -> list[MinuteSummary]:
        """Account for one second; returns the previous minute's summary if it just ended."""
        done = []
        if self._seconds and minute_of(second.at) != minute_of(self._seconds[0].at):
            done = self.flush()
        self._seconds.append(second)
        return done

    def flush(self) -> list[MinuteSummary]:
        """The summary of the minute in progress (the input ended or paused), if any."""
        seconds, self._seconds = self._seconds, []
        return [summarize(seconds)] if seconds else []


def summarize(seconds: Sequence[SecondRecord]) -> MinuteSummary:
    """The summary of `seconds` (at least one, in time order), all of one room and minute."""
    levels = [s.level_dbfs for s in seconds]
    n_crying = sum(1 for s in seconds if (s.crying_probability or 0.0) >= CRYING_PROBABILITY)
    # A second the loudness gate skipped was quiet: it counts as silence.
    labels = Counter(s.top_label or SILENCE_LABEL for s in seconds)
    start = minute_of(seconds[0].at)
    return MinuteSummary(
        room=seconds[0].room,
        start=start,
        n_seconds=len(seconds),
        mean_level_dbfs=round(sum(levels) / len(levels), 2),
        max_level_dbfs=round(max(levels), 2),
        crying_fraction=round(n_crying / len(seconds), 4),
        top_label=labels.most_common(1)[0][0],
        first_second=int((seconds[0].at - start).total_seconds()),
    )


def minute_of(at: datetime) -> datetime:
    """The wall-clock minute `at` falls in."""
    return at.replace(second=0, microsecond=0)
