"""Is the room's listener hearing anything? Listening, microphone silent, or offline; how the
listener itself fares (its CPU use and the windows it dropped tonight); and which alerts failed
to reach their destinations (a broker down: until they are sent; a push service refusing them:
tonight)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from miserymeter.nights import night_bounds, night_of
from miserymeter.records import STOPPED, SecondRecord
from miserymeter.store import Store

# The listener stores a second every second: a room silent this long is offline.
OFFLINE_AFTER_S = 30.0
MICROPHONE_LOST = "microphone_lost"
MICROPHONE_BACK = "microphone_reopened"
STARTED = "started"


def input_status(
    store: Store, room: str, *, now: datetime, zone: tzinfo
) -> tuple[str, SecondRecord | None]:
    """Listening, microphone silent or offline, and the room's last stored second."""
    latest = store.latest_second(room)
    since, _ = night_bounds(night_of(now, zone=zone), zone=zone)
    # The last word on the input: a run that stopped, started again, lost or got back its mic.
    said = [
        e.kind
        for e in store.events(room, since=since)
        if e.kind in (MICROPHONE_LOST, MICROPHONE_BACK, STOPPED, STARTED)
    ]
    age_s = None if latest is None else (now - latest.at).total_seconds()
    if age_s is None or age_s > OFFLINE_AFTER_S or (said and said[-1] == STOPPED):
        return "offline", latest
    if said and said[-1] == MICROPHONE_LOST:
        return "microphone silent", latest
    return "listening", latest


def room_health(store: Store, room: str, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """The room's status, when it was last heard, and its listener's work tonight."""
    status, latest = input_status(store, room, now=now, zone=zone)
    since, _ = night_bounds(night_of(now, zone=zone), zone=zone)
    statuses = store.statuses(room, since=since)
    age_s = None if latest is None else (now - latest.at).total_seconds()
    return {
        "room": room,
        "status": status,
        "last_heard": None
        if latest is None
        else latest.at.astimezone(zone).isoformat(timespec="seconds"),
        "last_heard_age_s": None if age_s is None else round(age_s, 1),
        "listener_cpu_percent": round(statuses[-1].cpu_percent, 1) if statuses else None,
        "dropped_windows_tonight": sum(s.n_dropped for s in statuses),
        "undelivered": [
            {
                "destination": u.destination,
                "waiting": u.n_waiting,
                "refused": u.n_refused,
                "since": u.since.astimezone(zone).isoformat(timespec="seconds"),
                "last_error": u.last_error,
            }
            for u in store.undelivered(room, refused_since=since)
        ],
    }
