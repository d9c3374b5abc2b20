"""Synthetic listener records for the store's tests and benchmark: a night, minute by minute.

A night is what the listener would write: one SecondRecord per second (quiet seconds the
loudness gate skipped have no probability), one MinuteSummary per minute, a few crying
episodes, and listener events. Times carry microseconds, as sample-count times do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from miserymeter.records import Episode, ListenerEvent, MinuteSummary, SecondRecord
from miserymeter.store import StoredRecord

NIGHT_START = datetime(2026, 11, 24, 19, 0, 0, 250_123, tzinfo=UTC)
LABELS = ("_silence_", "_unknown_", "crying")


def minute_of_records(
    room: str, minute: int, *, rng: np.random.Generator, start: datetime = NIGHT_START
) -> list[StoredRecord]:
    """The 60 SecondRecords and the MinuteSummary of minute number `minute` of the night."""
    seconds: list[SecondRecord] = []
    for k in range(60 * minute, 60 * minute + 60):
        level_dbfs = float(rng.normal(-55.0, 8.0))
        gated = level_dbfs < -60.0
        probability = None if gated else float(rng.beta(0.3, 3.0))
        label = None if gated else LABELS[int(rng.integers(len(LABELS)))]
        at = start + timedelta(seconds=k)
        seconds.append(SecondRecord(room, at, float(k), level_dbfs, probability, label))
    levels = [s.level_dbfs for s in seconds]
    crying = [s for s in seconds if s.crying_probability is not None and s.crying_probability > 0.5]
    summary = MinuteSummary(
        room=room,
        start=seconds[0].at,
        n_seconds=len(seconds),
        mean_level_dbfs=float(np.mean(levels)),
        max_level_dbfs=max(levels),
        crying_fraction=len(crying) / len(seconds),
        top_label="_silence_",
    )
    return [*seconds, summary]


def episode(room: str, start_s: float, duration_s: float, *, detector: str = "model") -> Episode:
    """An episode from `start_s` into the night, lasting `duration_s`."""
    return Episode(
        room=room,
        start=NIGHT_START + timedelta(seconds=start_s),
        end=NIGHT_START + timedelta(seconds=start_s + duration_s),
        start_offset_s=start_s,
        end_offset_s=start_s + duration_s,
        confirmed_offset_s=start_s + 3.0,
        peak_probability=0.98,
        mean_probability=0.81,
        detector=detector,
        clip_path=f"{room}/ep-{start_s:.0f}.flac",
    )


def event(
    room: str, at_s: float, kind: str = "started", message: str = "listening"
) -> ListenerEvent:
    """A listener event `at_s` into the night."""
    return ListenerEvent(room, NIGHT_START + timedelta(seconds=at_s), kind, message)


def night_batches(
    room: str, *, n_minutes: int, n_episodes: int, rng: np.random.Generator
) -> list[list[StoredRecord]]:
    """A night as the listener would write it: one batch per minute, episodes and events in
    the minute they end in, a `started` event first."""
    batches = [minute_of_records(room, m, rng=rng) for m in range(n_minutes)]
    batches[0].append(event(room, 0.0))
    spacing_s = 60.0 * n_minutes / (n_episodes + 1)
    for k in range(1, n_episodes + 1):
        found = episode(room, k * spacing_s, 90.0)
        batches[min(n_minutes - 1, int(found.end_offset_s // 60))].append(found)
        batches[int(k * spacing_s // 60)].append(event(room, k * spacing_s, "notified", "crying"))
    return batches


def seconds_heard(
    room: str, probabilities: list[float], *, last_at: datetime
) -> list[SecondRecord]:
    """A listener's seconds, one per probability, the last at `last_at`."""
    first_at = last_at - timedelta(seconds=len(probabilities) - 1)
    return [
        SecondRecord(room, first_at + timedelta(seconds=k), float(k), -40.0, p, "crying")
        for k, p in enumerate(probabilities)
    ]
