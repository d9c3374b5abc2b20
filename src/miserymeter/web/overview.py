"""Every room at a glance, for a daycare's tablet: its state now, tonight so far, last heard."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from miserymeter.detect.settings import DetectorSettings
from miserymeter.nights import night_of
from miserymeter.store import Store
from miserymeter.web.night_reports import night_reports, report_json
from miserymeter.web.now import room_now


def rooms_overview(
    store: Store, detection: DetectorSettings, *, now: datetime, zone: tzinfo
) -> list[dict[str, Any]]:
    """One entry per room, crying rooms first, then by name."""
    tonight = night_of(now, zone=zone)
    rooms = []
    for room in store.rooms():
        (report,) = night_reports(store, room, [tonight], zone=zone)
        latest = store.latest_second(room)
        rooms.append(
            {
                "room": room,
                "url": f"/rooms/{quote(room, safe='')}",
                "now": room_now(store, room, detection, now=now, zone=zone),
                "tonight": report_json(report, zone=zone),
                "last_heard": None
                if latest is None
                else latest.at.astimezone(zone).isoformat(timespec="seconds"),
            }
        )
    return sorted(rooms, key=lambda r: (r["now"]["state"] != "crying", r["room"]))
