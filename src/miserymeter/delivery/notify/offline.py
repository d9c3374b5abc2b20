"""Which rooms' monitors went offline, or are back: decided from what the store last heard.

A listener stores a second every second, and events (started, microphone lost and retrying
...) while it has no audio; when the Pi loses power or network, or the listener dies, both
stop and it cannot say so itself. `watch` is the decision of one check, pure: what the store
says of each room and what the watcher remembers go in, the pushes and what to remember come
out (`offline_watcher.py` runs it every 30 s in `serve`).

- **offline**: nothing heard from the room for `offline_after_min` (the latest second or
  event is older). One push, "Monitor in {room} is offline"; at most one per room every
  `alert_every_min` (a room that flaps is told again once that has passed, if still silent).
- **back**: the room is heard again after an offline push: one push, "... is back".
- A room whose listener **stopped cleanly** (its latest event is `stopped`: someone stopped
  it, or shut the Pi down) is not pushed offline: the listener pushed "stopped listening"
  itself. `offline_when_stopped = true` pushes it too (for Pis that push nothing).
- A room silent for more than `FORGOTTEN_AFTER` (a week) is taken to be out of service: it is
  not pushed when `serve` starts.
- **the database**: when the store cannot be read for `offline_after_min`, no room can be
  watched, and the rooms' own pushes wait (their outbox is in it): `watch_store` pushes that
  once, "Misery Meter cannot read its database", and once when it can again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from miserymeter.clock import iso_utc
from miserymeter.delivery.notify.settings import NotifySettings
from miserymeter.events import MONITOR, Event, make_event

OFFLINE = "offline"
BACK = "back"
DATABASE_DOWN = "database_down"
DATABASE_BACK = "database_back"
FORGOTTEN_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class RoomHeard:
    """What the store says of a room at a check."""

    room: str
    last_heard: datetime | None  # its latest second or listener event; None: neither yet
    stopped: bool = False  # its latest listener event is `stopped`: it ended cleanly


@dataclass(frozen=True)
class RoomWatch:
    """What the watcher remembers of a room between checks."""

    offline_since: datetime | None = None  # last heard then, told offline, not yet back
    last_alert_at: datetime | None = None  # when it was last told offline


def watch(
    rooms: Sequence[RoomHeard],
    memory: Mapping[str, RoomWatch],
    *,
    now: datetime,
    settings: NotifySettings,
) -> tuple[dict[str, RoomWatch], list[Event]]:
    """One check at `now`: what to remember of each room, and the pushes to send (in order)."""
    remembered: dict[str, RoomWatch] = {}
    pushes: list[Event] = []
    for heard in rooms:
        before = memory.get(heard.room, RoomWatch())
        after, push = _room(heard, before, now=now, settings=settings)
        remembered[heard.room] = after
        if push is not None:
            pushes.append(push)
    return remembered, pushes


def _room(
    heard: RoomHeard, before: RoomWatch, *, now: datetime, settings: NotifySettings
) -> tuple[RoomWatch, Event | None]:
    last_heard = heard.last_heard
    if last_heard is None or not settings.alerts:
        return before, None
    silent = now - last_heard > settings.offline_after
    if before.offline_since is not None:
        if silent:
            return before, None
        since = iso_utc(before.offline_since)
        data = {"status": BACK, "last_heard": iso_utc(last_heard), "offline_since": since}
        return RoomWatch(None, before.last_alert_at), _event(heard.room, now, data)
    told_lately = (
        before.last_alert_at is not None and now - before.last_alert_at < settings.alert_every
    )
    if (
        not silent
        or told_lately
        or (heard.stopped and not settings.offline_when_stopped)
        or now - last_heard > FORGOTTEN_AFTER
    ):
        return before, None
    data = {"status": OFFLINE, "last_heard": iso_utc(last_heard)}
    return RoomWatch(last_heard, now), _event(heard.room, now, data)


@dataclass(frozen=True)
class StoreWatch:
    """What the watcher remembers of the store between checks."""

    failing_since: datetime | None = None  # the first check that could not read it, if failing
    told: bool = False  # "cannot read its database" was pushed for this failure


def watch_store(
    readable: bool, memory: StoreWatch, *, now: datetime, name: str, settings: NotifySettings
) -> tuple[StoreWatch, Event | None]:
    """One check of the store `name` (`readable` or not) at `now`: what to remember, and the
    push to send, if any."""
    if readable:
        if not memory.told or memory.failing_since is None:
            return StoreWatch(), None
        data = {"status": DATABASE_BACK, "database": name, "since": iso_utc(memory.failing_since)}
        return StoreWatch(), _event("", now, data)
    failing_since = memory.failing_since or now
    if memory.told or not settings.alerts or now - failing_since < settings.offline_after:
        return StoreWatch(failing_since, memory.told), None
    data = {"status": DATABASE_DOWN, "database": name, "since": iso_utc(failing_since)}
    return StoreWatch(failing_since, told=True), _event("", now, data)


def _event(room: str, now: datetime, data: dict[str, str]) -> Event:
    return make_event(room, now, MONITOR, data, detail=data["status"])
