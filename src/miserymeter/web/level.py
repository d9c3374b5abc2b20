"""The level page's data: how loud the room is now, its noise floor, and a plain verdict.

Inside `listen --serve` the room of the listener is read from its level meter, a reading
every quarter second; any other room (or a separate `serve`) from the store's latest second,
with the floor the listener would find there (the quietest second of the last half hour).
The verdict is `devices --test`'s. A reading older than `STALE_AFTER_S` is no loudness now:
the level and peak are then None (only when it was heard last is told).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from miserymeter.capture.level_check import level_verdict
from miserymeter.frontend.level_meter import LevelMeter
from miserymeter.frontend.loudness import FLOOR_DBFS
from miserymeter.frontend.noise_floor import DEFAULT_HORIZON_S
from miserymeter.store import Store
from miserymeter.web.timeline import local_iso

LIVE_REFRESH_MS = 250
STORE_REFRESH_MS = 1000
# Nothing heard for this long: the listener or its microphone is gone.
STALE_AFTER_S = 10.0


@dataclass(frozen=True)
class LiveLevel:
    """The listener the dashboard runs inside (`listen --serve`): its room and level meter."""

    room: str
    meter: LevelMeter


def room_level(
    store: Store, room: str, *, live: LiveLevel | None, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """The room's loudness now (dBFS), peak, noise floor, and whether they are good."""
    peak_dbfs: float | None
    if live is not None and live.room == room:
        source, refresh_ms = "listener", LIVE_REFRESH_MS
        reading = live.meter.latest
        if reading is None:
            return _unheard(room, source, refresh_ms, "nothing heard yet: the listener starts")
        at, level_dbfs, peak_dbfs = reading.at, reading.rms_dbfs, reading.peak_dbfs
        is_flat, floor_dbfs = reading.is_flat, reading.floor_dbfs
    else:
        source, refresh_ms = "store", STORE_REFRESH_MS
        latest = store.latest_second(room)
        if latest is None:
            return _unheard(room, source, refresh_ms, "nothing heard yet: start the listener")
        at, level_dbfs, peak_dbfs = latest.at, latest.level_dbfs, None
        is_flat = level_dbfs <= FLOOR_DBFS
        since = now - timedelta(seconds=DEFAULT_HORIZON_S)
        floor_dbfs = store.quietest_level_dbfs(room, since, now, above_dbfs=FLOOR_DBFS)
    age_s = max(0.0, (now - at).total_seconds())
    now_dbfs: float | None = level_dbfs
    if age_s > STALE_AFTER_S:  # the last reading is no loudness now
        now_dbfs = peak_dbfs = None
        ok, verdict = False, f"nothing heard for {age_s:.0f} s: is the listener running?"
    else:
        ok, verdict = level_verdict(level_dbfs, peak_dbfs, is_flat=is_flat)
    return {
        "room": room,
        "source": source,
        "refresh_ms": refresh_ms,
        "at": local_iso(at, zone),
        "age_s": round(age_s, 2),
        "level_dbfs": None if now_dbfs is None else round(now_dbfs, 1),
        "peak_dbfs": None if peak_dbfs is None else round(peak_dbfs, 1),
        "floor_dbfs": None if floor_dbfs is None else round(floor_dbfs, 1),
        "ok": ok,
        "verdict": verdict,
    }


def _unheard(room: str, source: str, refresh_ms: int, verdict: str) -> dict[str, Any]:
    return {
        "room": room,
        "source": source,
        "refresh_ms": refresh_ms,
        "at": None,
        "age_s": None,
        "level_dbfs": None,
        "peak_dbfs": None,
        "floor_dbfs": None,
        "ok": False,
        "verdict": verdict,
    }
