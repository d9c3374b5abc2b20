"""What the family is told: the listener's records as events with stable ids.

An event's id is derived from its room, kind and time, so the same fact always has the same id
(a replayed night, a retried delivery): consumers de-duplicate on it, since delivery is at
least once. A minute heard in parts (a listener restarted within it) makes an event per part,
each with an id of its own and its own `n_seconds`. `data` is JSON-ready and flat, so a
webhook, an MQTT payload and a push message can all be made from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from miserymeter.clock import iso_utc
from miserymeter.records import (
    CryingContinues,
    CryingStarted,
    Episode,
    ListenerEvent,
    MinuteSummary,
    Record,
)

# uuid5 namespace of Misery Meter's event ids (a fixed, random uuid).
EVENT_NAMESPACE = uuid.UUID("6f1f4f4e-3c59-4f0a-9a5e-0b8f4f2e7d31")

CRYING_STARTED = "crying_started"
CRYING_STOPPED = "crying_stopped"
STILL_CRYING = "still_crying"
MINUTE = "minute"
LISTENER = "listener"
EVENT_KINDS = (CRYING_STARTED, CRYING_STOPPED, STILL_CRYING, MINUTE, LISTENER)
# Not made from records: the morning digest of a night (delivery/notify/digest.py), pushed only.
DIGEST = "digest"
# Not made from records: a room's monitor went offline or is back (delivery/notify/offline.py),
# told by `serve` from what the store holds; pushed only.
MONITOR = "monitor"


@dataclass(frozen=True)
class Event:
    """One fact for the outside world: `kind` says which, `data` holds its fields."""

    id: str
    room: str
    at: datetime
    kind: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The event as one flat JSON object (what a webhook posts, an MQTT topic carries)."""
        return {
            "id": self.id,
            "room": self.room,
            "timestamp": iso_utc(self.at),
            "kind": self.kind,
            **self.data,
        }


def events_from(records: Sequence[Record], *, dashboard_url: str | None = None) -> list[Event]:
    """The events these records make, in order (seconds make none: they are state, not news)."""
    events: list[Event] = []
    for record in records:
        event = _event(record, dashboard_url=dashboard_url)
        if event is not None:
            events.append(event)
    return events


def _event(record: Record, *, dashboard_url: str | None) -> Event | None:
    if isinstance(record, CryingStarted):
        return make_event(
            record.room,
            record.confirmed,
            CRYING_STARTED,
            {
                "label": "crying",
                "start": iso_utc(record.start),
                "detector": record.detector,
                "url": episode_url(dashboard_url, record.room, record.start),
            },
        )
    if isinstance(record, CryingContinues):
        return make_event(
            record.room,
            record.at,
            STILL_CRYING,
            {
                "label": "crying",
                "start": iso_utc(record.start),
                "duration_s": record.duration_s,
                "detector": record.detector,
                "url": episode_url(dashboard_url, record.room, record.start),
            },
        )
    if isinstance(record, Episode):
        return make_event(
            record.room,
            record.end,
            CRYING_STOPPED,
            {
                "label": "crying",
                "start": iso_utc(record.start),
                "end": iso_utc(record.end),
                "duration_s": round(record.duration_s, 3),
                "peak_probability": record.peak_probability,
                "mean_probability": record.mean_probability,
                "detector": record.detector,
                "url": episode_url(dashboard_url, record.room, record.start),
            },
        )
    if isinstance(record, MinuteSummary):
        return make_event(
            record.room,
            record.start,
            MINUTE,
            {
                "label": record.top_label,
                "probability": round(record.crying_fraction, 4),
                "loudness_dbfs": round(record.mean_level_dbfs, 2),
                "max_loudness_dbfs": round(record.max_level_dbfs, 2),
                "n_seconds": record.n_seconds,
            },
            detail=f"from second {record.first_second}" if record.first_second else "",
        )
    if isinstance(record, ListenerEvent):
        return make_event(
            record.room,
            record.at,
            LISTENER,
            {"event": record.kind, "message": record.message},
            detail=record.kind,
        )
    return None


def make_event(
    room: str, at: datetime, kind: str, data: dict[str, Any], *, detail: str = ""
) -> Event:
    """An event with its stable id (`detail` tells apart events of one kind at one time)."""
    key = f"{room}\n{kind}\n{detail}\n{iso_utc(at)}"
    return Event(str(uuid.uuid5(EVENT_NAMESPACE, key)), room, at, kind, data)


def episode_url(dashboard_url: str | None, room: str, start: datetime) -> str | None:
    """The dashboard's page of the episode of `room` that started at `start` (with its audio)."""
    if dashboard_url is None:
        return None
    return f"{dashboard_url.rstrip('/')}/rooms/{quote(room, safe='')}/episodes/{iso_utc(start)}"
