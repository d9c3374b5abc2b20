"""At start-up, refuse a room that another listener is storing into right now.

Two listeners given one room name (a config copied to a new Pi, unchanged) would mix their
seconds and episodes, take each other's open episode for one left by a killed run, share one
outbox and one MQTT client id, and the first to stop would make the room look not listening
while the other still hears it. A room whose last second is recent, or whose last run started
lately (a replay dates its seconds when they were recorded: last night), and whose last run
did not stop cleanly is watched for a few seconds: a listener stores a second each second, so
a newer one means another listener is at work. A run that was killed stores nothing more, and
its room is taken over as before. Rooms named alike in topics, ids and files ("toddlers" and
"Toddlers": one MQTT client id, which the broker lets only one of them hold) are watched too.
Stopped during the watch (Ctrl-C, SIGTERM), it returns at once: the run then stops there,
before it stores or sends anything in a room that may be another's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from miserymeter.clock import utc_now
from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone
from miserymeter.records import STOPPED, SecondRecord
from miserymeter.rooms import room_slug
from miserymeter.store import Store

# A room heard this close to now (either way: the Pis' clocks differ a little) may be in use.
RECENT = timedelta(minutes=1)
WATCH_S = 5.0
POLL_S = 0.25


def refuse_a_room_in_use(
    store: Store,
    room: str,
    *,
    stop: threading.Event,
    on_watch: Callable[[str], None],
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """A ConfigError if another listener stores seconds of `room`, or of a room named like it
    in topics and files ("toddlers" for "Toddlers"), while this one starts; returns at once
    when no such room was heard lately without stopping cleanly after, or once `stop` is
    set. A watch is first said to `on_watch` (the run seems to hang otherwise)."""
    slug = room_slug(room)
    lasts = {
        name: last
        for name in store.rooms()
        if room_slug(name) == slug and (last := _heard_lately(store, name, now=clock()))
    }
    if lasts:
        on_watch(
            f"room {' and '.join(map(repr, lasts))} was heard {_ago(lasts, now=clock())} by a "
            "run that has not stopped: making sure no other listener stores it now "
            f"(up to {WATCH_S:g} s)"
        )
    deadline_s = time.monotonic() + WATCH_S
    while lasts and time.monotonic() < deadline_s and not stop.wait(POLL_S):
        for name, last in lasts.items():
            newest = store.latest_second(name)
            if newest is not None and newest.at > last.at:
                raise ConfigError(_in_use(store.name, room, name, newest.at))


def _heard_lately(store: Store, room: str, *, now: datetime) -> SecondRecord | None:
    """The room's last second if it or the last run's latest event (its start: in the clock's
    time, also for a replay) is recent, and that run has not stopped cleanly since."""
    last = store.latest_second(room)
    if last is None:
        return None
    event = store.latest_event(room)
    if event is not None and event.kind == STOPPED and event.at >= last.at:
        return None
    if abs(now - last.at) > RECENT and (event is None or abs(now - event.at) > RECENT):
        return None
    return last


def _ago(lasts: dict[str, SecondRecord], *, now: datetime) -> str:
    seconds = round(min(abs(now - last.at) for last in lasts.values()).total_seconds())
    return f"{seconds} s ago"


def _in_use(store_name: str, room: str, other: str, at: datetime) -> str:
    clock = f"{at.astimezone(local_zone()):%H:%M:%S}"
    if other == room:
        return (
            f"{store_name}: another listener is storing room {room!r} right now (a second at "
            f"{clock}): two in one room would mix their seconds and episodes; give this one "
            "another --room (or room = in its config's [listen]), or stop the other one"
        )
    return (
        f"{store_name}: another listener is storing room {other!r} right now (a second at "
        f"{clock}): {room!r} would share its topics, MQTT client id and file names "
        f"({room_slug(room)}); give this one a --room that differs by more than case or "
        "punctuation"
    )
