"""Event-level scores of a detector on a night with known truth.

Scored as a parent hears it: what counts is the moment a detection is confirmed (the alert). An
alert is true when crying is going on at that moment (from a truth crying episode's start to
`ALERT_GRACE_S` after its end), and that episode is found; any other alert is a false alarm,
attributed to the truth event going on then (or, failing that, the one the detection overlaps
most; `quiet` when none). An episode that opened on a bark and was confirmed before the crying
began is a false alarm, not a find. Latency is the first true alert's time minus the episode's
truth start, so it is never negative. Time is scored too: how long the detections said
"crying", and how much of that no crying was going on, so a detector stuck on "crying" for the
night does not pass for a quiet, precise one with a few episodes found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from miserymeter.evaluation.truth import TruthEvent
from miserymeter.records import Episode

QUIET_KIND = "quiet"
SECONDS_PER_HOUR = 3600.0
# Crying that ended this recently is still going on to a parent: the detector's scores are
# smoothed over 2-3 s (`--smoothing_s`), so its evidence trails the sound by about that much.
ALERT_GRACE_S = 3.0


@dataclass(frozen=True)
class EventScores:
    """How a detector did on one night; undefined values (no detections, none found) are NaN."""

    duration_s: float
    n_episodes: int
    n_found: int
    n_detections: int
    n_false_alarms: int
    false_alarms_by_kind: tuple[tuple[str, int], ...]
    latencies_s: tuple[float, ...]
    crying_s: float  # the truth's crying, in all
    flagged_s: float  # the detections' length, in all
    flagged_not_crying_s: float  # of that, where no truth crying episode was going on
    longest_detection_s: float

    @property
    def n_missed(self) -> int:
        return self.n_episodes - self.n_found

    @property
    def false_alarms_per_hour(self) -> float:
        return self.n_false_alarms / (self.duration_s / SECONDS_PER_HOUR)

    @property
    def recall(self) -> float:
        return self.n_found / self.n_episodes if self.n_episodes else float("nan")

    @property
    def precision(self) -> float:
        """The fraction of detections that overlap a crying episode."""
        n_true = self.n_detections - self.n_false_alarms
        return n_true / self.n_detections if self.n_detections else float("nan")

    @property
    def latency_median_s(self) -> float:
        return float(np.median(self.latencies_s)) if self.latencies_s else float("nan")

    @property
    def latency_p90_s(self) -> float:
        return float(np.percentile(self.latencies_s, 90)) if self.latencies_s else float("nan")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (NaN becomes None)."""
        values: dict[str, object] = {
            "duration_s": self.duration_s,
            "n_episodes": self.n_episodes,
            "n_found": self.n_found,
            "n_missed": self.n_missed,
            "n_detections": self.n_detections,
            "n_false_alarms": self.n_false_alarms,
            "false_alarms_per_hour": self.false_alarms_per_hour,
            "false_alarms_by_kind": dict(self.false_alarms_by_kind),
            "latency_median_s": self.latency_median_s,
            "latency_p90_s": self.latency_p90_s,
            "precision": self.precision,
            "recall": self.recall,
            "crying_s": self.crying_s,
            "flagged_s": self.flagged_s,
            "flagged_not_crying_s": self.flagged_not_crying_s,
            "longest_detection_s": self.longest_detection_s,
        }
        return {k: None if isinstance(v, float) and v != v else v for k, v in values.items()}


def score_events(
    detections: Sequence[Episode], truth: Sequence[TruthEvent], *, duration_s: float
) -> EventScores:
    """Score `detections` against the `truth` of a recording `duration_s` long."""
    crying = [t for t in truth if t.is_crying]
    others = [t for t in truth if not t.is_crying]
    latencies = []
    for episode in crying:
        alerts = [d.confirmed_offset_s for d in detections if _going_on(episode, d)]
        if alerts:
            latencies.append(min(alerts) - episode.start_s)
    false_alarms = [d for d in detections if not any(_going_on(t, d) for t in crying)]
    kinds = Counter(_kind_at_alert(d, others) for d in false_alarms)
    crying_spans = _merged([(t.start_s, t.end_s) for t in crying])
    detection_spans = _merged([(d.start_offset_s, d.end_offset_s) for d in detections])
    flagged_s = _length(detection_spans)
    return EventScores(
        duration_s=duration_s,
        n_episodes=len(crying),
        n_found=len(latencies),
        n_detections=len(detections),
        n_false_alarms=len(false_alarms),
        false_alarms_by_kind=tuple(kinds.most_common()),
        latencies_s=tuple(latencies),
        crying_s=_length(crying_spans),
        flagged_s=flagged_s,
        flagged_not_crying_s=flagged_s - _shared_s(detection_spans, crying_spans),
        longest_detection_s=max((d.duration_s for d in detections), default=0.0),
    )


Spans = list[tuple[float, float]]


def _merged(spans: Spans) -> Spans:
    """`spans` sorted, those that overlap or touch joined into one."""
    merged: Spans = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(spans: Spans) -> float:
    return sum(end - start for start, end in spans)


def _shared_s(a: Spans, b: Spans) -> float:
    """Seconds that two lists of merged spans have in common."""
    return sum(
        max(0.0, min(a_end, b_end) - max(a_start, b_start))
        for a_start, a_end in a
        for b_start, b_end in b
    )


def _going_on(event: TruthEvent, detection: Episode) -> bool:
    """Whether `event` is going on when `detection` is confirmed."""
    return event.start_s <= detection.confirmed_offset_s <= event.end_s + ALERT_GRACE_S


def _kind_at_alert(detection: Episode, events: Sequence[TruthEvent]) -> str:
    """The kind of the event going on at the alert, else of the one overlapped most."""
    at_alert = [e.kind for e in events if _going_on(e, detection)]
    return at_alert[0] if at_alert else _kind_overlapped(detection, events)


def _overlap_s(detection: Episode, event: TruthEvent) -> float:
    """Seconds the two intervals share: 0 when they touch, negative when apart."""
    return min(detection.end_offset_s, event.end_s) - max(detection.start_offset_s, event.start_s)


def _kind_overlapped(detection: Episode, events: Sequence[TruthEvent]) -> str:
    """The kind of the event `detection` overlaps most, or `quiet`."""
    overlaps = [(_overlap_s(detection, e), e.kind) for e in events]
    best = max(overlaps, default=(-1.0, QUIET_KIND))
    return best[1] if best[0] >= 0 else QUIET_KIND
