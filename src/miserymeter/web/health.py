"""Is the room's listener hearing anything? Listening, microphone silent, or offline; how the
listener itself fares (its CPU use, and whether that run replayed a recording as fast as it
could, and the windows it dropped tonight); and which alerts failed
to reach their destinations (a broker down: until they are sent; a push service refusing them:
tonight)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from miserymeter.listener_status import STARTED, is_replay
from miserymeter.nights import night_bounds, night_of
from miserymeter.records import STOPPED, ListenerEvent, ListenerStatus
from miserymeter.store import Store

# The listener stores a second every second: a room silent this long is offline.
OFFLINE_AFTER_S = 30.0
MICROPHONE_LOST = "microphone_lost"
MICROPHONE_BACK = "microphone_reopened"
INPUT_KINDS = (MICROPHONE_LOST, MICROPHONE_BACK, STOPPED, STARTED)


@dataclass(frozen=True)
class Heard:
    """A room's input: listening, microphone silent or offline; and its last second's time."""

    status: str
    last_at: datetime | None


def rooms_heard(
    store: Store, *, now: datetime, zone: tzinfo, room: str | None = None
) -> dict[str, Heard]:
    """Every room's input (or `room`'s), by name, from two queries whatever their number."""
    last_at = store.last_heard(room)
    since, _ = night_bounds(night_of(now, zone=zone), zone=zone)
    # The last word on the input: a run that stopped, started again, lost or got back its mic.
    said = store.latest_events(list(last_at), INPUT_KINDS, since=since)
    return {
        name: Heard(_input_status(at, said.get(name), now=now), at) for name, at in last_at.items()
    }


def _input_status(last_at: datetime | None, said: ListenerEvent | None, *, now: datetime) -> str:
    age_s = None if last_at is None else (now - last_at).total_seconds()
    if age_s is None or age_s > OFFLINE_AFTER_S or (said is not None and said.kind == STOPPED):
        return "offline"
    if said is not None and said.kind == MICROPHONE_LOST:
        return "microphone silent"
    return "listening"


def room_health(store: Store, room: str, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """The room's status, when it was last heard, and its listener's work tonight."""
    heard = rooms_heard(store, now=now, zone=zone, room=room)[room]
    since, _ = night_bounds(night_of(now, zone=zone), zone=zone)
    statuses = store.statuses(room, since=since)
    age_s = None if heard.last_at is None else (now - heard.last_at).total_seconds()
    return {
        "room": room,
        "status": heard.status,
        "last_heard": local_iso(heard.last_at, zone=zone),
        "last_heard_age_s": None if age_s is None else round(age_s, 1),
        "listener_cpu_percent": round(statuses[-1].cpu_percent, 1) if statuses else None,
        "listener_replaying": bool(statuses) and replayed(store, statuses[-1], since=since),
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


def replayed(store: Store, status: ListenerStatus, *, since: datetime) -> bool:
    """Whether the run that reported `status` replayed a recording (its CPU use is then a
    whole core's, as fast as it could, not a live listener's)."""
    started = store.latest_events([status.room], [STARTED], since=since, until=status.at)
    return status.room in started and is_replay(started[status.room])


def local_iso(at: datetime | None, *, zone: tzinfo) -> str | None:
    """`at` as local ISO time to the second (None stays None)."""
    return None if at is None else at.astimezone(zone).isoformat(timespec="seconds")
