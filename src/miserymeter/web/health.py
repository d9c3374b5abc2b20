"""Is the room's listener hearing anything? Listening, microphone silent, or offline."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from typing import Any

from miserymeter.nights import night_bounds, night_of
from miserymeter.store import Store

# The listener stores a second every second: a room silent this long is offline.
OFFLINE_AFTER_S = 30.0
MICROPHONE_LOST = "microphone_lost"
MICROPHONE_BACK = "microphone_reopened"
STOPPED = "stopped"
FALLING_BEHIND = "falling_behind"


def room_health(store: Store, room: str, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """The room's status, when it was last heard, and tonight's troubles."""
    latest = store.latest_second(room)
    since, _ = night_bounds(night_of(now, zone=zone), zone=zone)
    events = store.events(room, since=since)
    microphone = [e.kind for e in events if e.kind in (MICROPHONE_LOST, MICROPHONE_BACK, STOPPED)]
    age_s = None if latest is None else (now - latest.at).total_seconds()
    if age_s is None or age_s > OFFLINE_AFTER_S or (microphone and microphone[-1] == STOPPED):
        status = "offline"
    elif microphone and microphone[-1] == MICROPHONE_LOST:
        status = "microphone silent"
    else:
        status = "listening"
    return {
        "room": room,
        "status": status,
        "last_heard": None
        if latest is None
        else latest.at.astimezone(zone).isoformat(timespec="seconds"),
        "last_heard_age_s": None if age_s is None else round(age_s, 1),
        "falling_behind_tonight": sum(e.kind == FALLING_BEHIND for e in events),
        "cpu_load_percent": cpu_load_percent(),
    }


def cpu_load_percent() -> float | None:
    """This machine's load over the last minute, in % of all its cores (None where unknown)."""
    try:
        load_1min = os.getloadavg()[0]
    except OSError:
        return None
    return round(100.0 * load_1min / (os.cpu_count() or 1), 1)
