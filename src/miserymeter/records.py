"""What the listener produces, one frozen record per fact; the store and the sinks consume them.

Times are UTC `datetime`s anchored once to the wall clock and advanced by sample counts, so a
file replayed gives the same records as live capture; `*_offset_s` fields count seconds from
the start of the input (for a file: from its first sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SecondRecord:
    """One hop of audio (1 s by default): its loudness and what the model made of it.

    `crying_probability` and `top_label` are None when the loudness gate skipped the model.
    """

    room: str
    at: datetime
    offset_s: float
    level_dbfs: float
    crying_probability: float | None
    top_label: str | None


@dataclass(frozen=True)
class MinuteSummary:
    """One wall-clock minute: the granularity of the original dashboard.

    A listener started (or its input back) within the minute hears only part of it: its
    summary is of that part, whose first record falls in the minute's second `first_second`
    (0 for a whole minute, or the part that began it). The store keeps a minute whole (the
    summary of all its stored seconds) and does not keep `first_second`.
    """

    room: str
    start: datetime
    n_seconds: int
    mean_level_dbfs: float
    max_level_dbfs: float
    crying_fraction: float
    top_label: str
    first_second: int = 0


@dataclass(frozen=True)
class Episode:
    """A stretch of crying the detector found, from its first to its last crying hop.

    `confirmed_offset_s` is when the detector became sure and announced it (its latency).
    `detector` is "model" or "rms" (the loudness-threshold baseline). `clip_path` is the saved
    audio around it (pre- and post-roll included), relative to the clip folder, if one was kept.
    """

    room: str
    start: datetime
    end: datetime
    start_offset_s: float
    end_offset_s: float
    confirmed_offset_s: float
    peak_probability: float
    mean_probability: float
    detector: str
    clip_path: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_offset_s - self.start_offset_s


@dataclass(frozen=True)
class CryingStarted:
    """An episode has just been confirmed: the moment to tell the family (not stored)."""

    room: str
    start: datetime
    confirmed: datetime
    start_offset_s: float
    confirmed_offset_s: float
    detector: str


@dataclass(frozen=True)
class CryingContinues:
    """A confirmed episode is still open after another whole minute (not stored).

    Made once per whole minute of `duration_s` (from the episode's start to `at`), while the
    episode is open: crying, or within the merge gap. What an escalation push is made from.
    """

    room: str
    start: datetime
    at: datetime
    duration_s: float
    start_offset_s: float
    offset_s: float
    detector: str


# The kind of the listener's last event when it ended cleanly (stopped, or its input ended).
STOPPED = "stopped"


@dataclass(frozen=True)
class ListenerEvent:
    """Something that happened to the listener itself: started, input lost, windows dropped..."""

    room: str
    at: datetime
    kind: str
    message: str


@dataclass(frozen=True)
class ListenerStatus:
    """How the listener itself fares, once a minute and when it stops: over the `period_s`
    since its last status (wall-clock time), the CPU the listening process used, in % of
    one core (process time over wall time), and the windows it dropped to keep up."""

    room: str
    at: datetime
    period_s: float
    cpu_percent: float
    n_dropped: int


Record = (
    SecondRecord
    | MinuteSummary
    | CryingStarted
    | CryingContinues
    | Episode
    | ListenerEvent
    | ListenerStatus
)


class RecordSink(Protocol):
    """Where records go: the store, the console, Prometheus, MQTT's live state..."""

    def handle(self, records: Sequence[Record]) -> None: ...
