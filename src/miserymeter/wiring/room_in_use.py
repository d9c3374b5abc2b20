"""At start-up, refuse a room that another listener is storing into right now.

Two listeners given one room name (a config copied to a new Pi, unchanged) would mix their
seconds and episodes, take each other's open episode for one left by a killed run, share one
outbox and one MQTT client id, and the first to stop would make the room look not listening
while the other still hears it. A room whose last second is recent and whose last run did not
stop cleanly is watched for a few seconds: a listener stores a second each second, so a newer
one means another listener is at work. A run that was killed stores nothing more, and its
room is taken over as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from miserymeter.clock import utc_now
from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone
from miserymeter.records import STOPPED
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
    clock: Callable[[], datetime] = utc_now,
    watch_s: float = WATCH_S,
) -> None:
    """A ConfigError if another listener stores seconds of `room` while this one starts;
    returns at once for a room not heard lately or whose last run stopped cleanly."""
    last = store.latest_second(room)
    if last is None or abs(clock() - last.at) > RECENT:
        return
    event = store.latest_event(room)
    if event is not None and event.kind == STOPPED and event.at >= last.at:
        return
    deadline_s = time.monotonic() + watch_s
    while time.monotonic() < deadline_s and not stop.wait(POLL_S):
        newest = store.latest_second(room)
        if newest is not None and newest.at > last.at:
            raise ConfigError(
                f"{store.name}: another listener is storing room {room!r} right now (a second "
                f"at {newest.at.astimezone(local_zone()):%H:%M:%S}): two in one room would mix "
                "their seconds and episodes; give this one another --room (or room = in its "
                "config's [listen]), or stop the other one"
            )
