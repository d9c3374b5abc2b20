"""Every room at a glance, for a daycare's tablet: its state now, tonight so far, last heard.

A constant number of queries for all the rooms (grouped by room), whatever their number.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from miserymeter.detect.settings import DetectorSettings
from miserymeter.nights import night_of
from miserymeter.store import Store
from miserymeter.web.health import local_iso, rooms_heard
from miserymeter.web.night_reports import report_json, rooms_night
from miserymeter.web.now import RoomReplays, rooms_now


def rooms_overview(
    store: Store,
    detection: DetectorSettings,
    *,
    now: datetime,
    zone: tzinfo,
    replays: RoomReplays,
) -> list[dict[str, Any]]:
    """One entry per room, crying rooms first, then by name (its questions asked on one
    connection of the store)."""
    with store.reading():
        heard = rooms_heard(store, now=now, zone=zone)
        states = rooms_now(store, heard, detection, now=now, zone=zone, replays=replays)
        tonight = rooms_night(store, night_of(now, zone=zone), zone=zone)
    rooms = [
        {
            "room": room,
            "url": f"/rooms/{quote(room, safe='')}",
            "now": states[room],
            "tonight": report_json(tonight[room], zone=zone),
            "last_heard": local_iso(h.last_at, zone=zone),
        }
        for room, h in heard.items()
    ]
    return sorted(rooms, key=lambda r: (r["now"]["state"] != "crying", r["room"]))
