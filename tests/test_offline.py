"""`serve`'s offline alerts: the pure decision of each check (rooms heard in, pushes out), the
words of the pushes, and the watcher over a real SQLite store and a real local push server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from miserymeter.delivery.notify.destination import from_config
from miserymeter.delivery.notify.messages import push_for
from miserymeter.delivery.notify.offline import RoomHeard, RoomWatch, StoreWatch, watch, watch_store
from miserymeter.delivery.notify.offline_watcher import OfflineWatcher, check_every_s, rooms_heard
from miserymeter.delivery.notify.settings import (
    MIN_OFFLINE_AFTER_MIN,
    NotifySettings,
    notify_settings,
)
from miserymeter.errors import ConfigError
from miserymeter.events import MONITOR
from miserymeter.records import ListenerEvent, SecondRecord
from miserymeter.store import Store, open_store
from miserymeter.web.health import OFFLINE_AFTER_S, room_health
from push_receiver import PushReceiver

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROOM = "Room 1"


def settings(**table: Any) -> NotifySettings:
    return notify_settings({"urls": ["json://x"], "time_zone": "UTC", **table}, where="t")


class Checks:
    """Checks one after another, remembering between them as the watcher does."""

    def __init__(self, **table: Any) -> None:
        self.settings = settings(**table)
        self.memory: dict[str, RoomWatch] = {}

    def at(self, now: datetime, *rooms: RoomHeard) -> list[tuple[str, str]]:
        """(room, status) of each push of the check at `now`."""
        self.memory, pushes = watch(rooms, self.memory, now=now, settings=self.settings)
        assert all(p.kind == MONITOR for p in pushes)
        return [(p.room, p.data["status"]) for p in pushes]


def heard(minutes_ago: float, *, now: datetime, room: str = ROOM) -> RoomHeard:
    return RoomHeard(room, now - timedelta(minutes=minutes_ago))


def minutes(n: float) -> datetime:
    return NOON + timedelta(minutes=n)


def test_a_silent_room_is_told_offline_once_then_back_once() -> None:
    checks = Checks()
    last = NOON
    assert checks.at(minutes(4.9), RoomHeard(ROOM, last)) == []
    assert checks.at(minutes(5.1), RoomHeard(ROOM, last)) == [(ROOM, "offline")]
    for k in range(1, 200):  # hours of silence: no more pushes
        assert checks.at(minutes(5.1 + k / 2), RoomHeard(ROOM, last)) == []
    back = minutes(120)
    assert checks.at(minutes(120.2), RoomHeard(ROOM, back)) == [(ROOM, "back")]
    assert checks.at(minutes(121), RoomHeard(ROOM, minutes(121))) == []


def test_a_room_that_keeps_being_heard_is_never_told() -> None:
    checks = Checks(offline_after_min=0.5)
    for k in range(1000):
        now = NOON + timedelta(seconds=3 * k)
        assert checks.at(now, RoomHeard(ROOM, now - timedelta(seconds=29))) == []


def test_a_room_that_flaps_is_told_at_most_once_per_alert_every_min() -> None:
    checks = Checks(alert_every_min=30)
    pushes = []
    for k in range(0, 120, 10):  # offline 6 min, back, offline again ... every 10 min
        silent_since = minutes(k)
        pushes += checks.at(minutes(k + 6), RoomHeard(ROOM, silent_since))
        pushes += checks.at(minutes(k + 7), RoomHeard(ROOM, minutes(k + 7)))
    assert pushes == [(ROOM, "offline"), (ROOM, "back")] * 4  # at 6, 36, 66 and 96 min
    late = Checks(alert_every_min=30)
    late.at(minutes(6), RoomHeard(ROOM, NOON))
    late.at(minutes(7), RoomHeard(ROOM, minutes(7)))
    assert late.at(minutes(16), RoomHeard(ROOM, minutes(10))) == []  # too soon: held back
    assert late.at(minutes(36), RoomHeard(ROOM, minutes(10))) == [(ROOM, "offline")]  # still off


def test_a_listener_that_stopped_cleanly_is_not_told_unless_asked() -> None:
    stopped = RoomHeard(ROOM, NOON, stopped=True)
    assert Checks().at(minutes(60), stopped) == []
    assert Checks(offline_when_stopped=True).at(minutes(60), stopped) == [(ROOM, "offline")]
    checks = Checks()  # it died, was told, came back and was stopped: back, then quiet
    assert checks.at(minutes(6), RoomHeard(ROOM, NOON)) == [(ROOM, "offline")]
    assert checks.at(minutes(20), RoomHeard(ROOM, minutes(20), stopped=True)) == [(ROOM, "back")]
    assert checks.at(minutes(90), RoomHeard(ROOM, minutes(20), stopped=True)) == []


def test_rooms_are_told_apart_and_old_or_empty_rooms_are_left_alone() -> None:
    now = minutes(60)
    rooms = [
        heard(10, now=now, room="Room 1"),
        heard(1, now=now, room="Toddlers"),
        heard(10, now=now, room="Гномики"),
        heard(8 * 24 * 60, now=now, room="Moved out"),  # silent for over a week
        RoomHeard("Empty", None),
    ]
    checks = Checks()
    assert checks.at(now, *rooms) == [("Room 1", "offline"), ("Гномики", "offline")]
    assert set(checks.memory) == {r.room for r in rooms}
    assert Checks(alerts=False).at(now, *rooms) == []


def test_the_pushes_say_which_room_and_when_it_was_last_heard() -> None:
    s = settings(time_zone="Europe/Paris")
    memory: dict[str, RoomWatch] = {}
    memory, (offline,) = watch([RoomHeard(ROOM, NOON)], memory, now=minutes(6), settings=s)
    _, (back,) = watch([RoomHeard(ROOM, minutes(18))], memory, now=minutes(18.5), settings=s)
    offline_push, back_push = (push_for(e, zone=s.zone, now=e.at) for e in (offline, back))
    assert offline_push.title == "Monitor in Room 1 is offline"
    assert offline_push.body == "Last heard at 13:00; check its power and network."
    assert back_push.title == "Monitor in Room 1 is back"
    assert back_push.body == "Heard again at 13:18, after 18 min of silence."
    assert (offline_push.notify_type, back_push.notify_type) == ("failure", "success")
    assert offline.id != back.id


def test_a_database_that_cannot_be_read_for_a_while_is_told_once_and_back_once() -> None:
    s, memory = settings(time_zone="UTC"), StoreWatch()
    told = []
    checks = [(0, True), (1, False), (2, True), (3, False), (7.9, False), (8, False)]
    checks += [(9, False), (60, False), (61, True), (62, True)]
    for minute, readable in checks:
        memory, push = watch_store(
            readable, memory, now=minutes(minute), name="postgresql://mm@server/mm", settings=s
        )
        if push is not None:
            told.append((minute, push_for(push, zone=s.zone, now=push.at)))
    assert [(minute, p.title) for minute, p in told] == [
        (8, "Misery Meter cannot read its database"),
        (61, "Misery Meter reads its database again"),
    ]
    assert told[0][1].body == (
        "postgresql://mm@server/mm cannot be read since 12:03: no room is watched, and the "
        "rooms' pushes wait until it is back."
    )
    assert told[1][1].notify_type == "success"
    memory, push = watch_store(False, StoreWatch(), now=NOON, name="x", settings=s)
    _, push = watch_store(False, memory, now=minutes(9), name="x", settings=settings(alerts=False))
    assert push is None


@pytest.mark.parametrize(
    ("value", "named"), [(0.2, "at least 0.5"), (-1, "0 or more"), ("5", "number of minutes")]
)
def test_offline_after_min_is_checked(value: object, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        settings(offline_after_min=value)
    with pytest.raises(ConfigError, match="offline_when_stopped"):
        settings(offline_when_stopped="yes")


def test_the_dashboard_calls_offline_what_a_push_calls_offline(tmp_path: Path) -> None:
    """web/health.py's OFFLINE_AFTER_S is at most the shortest offline_after_min, and a room
    told offline is offline on the dashboard too."""
    assert MIN_OFFLINE_AFTER_MIN * 60 >= OFFLINE_AFTER_S
    assert settings().offline_after_min == 5.0
    with open_store(tmp_path / "m.db") as store:
        store.write([SecondRecord(ROOM, NOON, 0.0, -50.0, 0.1, "_silence_")])
        for offline_after_min in (MIN_OFFLINE_AFTER_MIN, 5.0):
            for age_s in (10, 29, 31, 60, 299, 301, 3600):
                now = NOON + timedelta(seconds=age_s)
                checks = Checks(offline_after_min=offline_after_min)
                told = checks.at(now, *rooms_heard(store)) == [(ROOM, "offline")]
                status = room_health(store, ROOM, now=now, zone=UTC)["status"]
                assert not told or status == "offline", (offline_after_min, age_s)


def test_the_check_interval_is_30_s_or_a_tenth_of_the_silence() -> None:
    assert check_every_s(settings()) == 30.0
    assert check_every_s(settings(offline_after_min=0.5)) == 3.0


# --- the watcher, over a real store and a real push server -----------------------------------


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    server = PushReceiver()
    yield server
    server.close()


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.lines]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def watcher(store: Store, url: str, log: Log, clock: Clock, **table: Any) -> OfflineWatcher:
    destination = from_config({"urls": [url], "time_zone": "UTC", **table}, where="serve.toml")
    return OfflineWatcher(store, destination, destination.settings, on_event=log, clock=clock)


def second(room: str, at: datetime) -> SecondRecord:
    return SecondRecord(room, at, 0.0, -50.0, None, None)


def test_the_store_says_when_each_room_was_last_heard(tmp_path: Path) -> None:
    with open_store(tmp_path / "m.db") as store:
        store.write([
            second("Room 1", NOON),
            ListenerEvent("Room 1", minutes(3), "microphone_unavailable", "retrying"),
            second("Toddlers", minutes(2)),
            ListenerEvent("Toddlers", minutes(1), "started", "listening"),
            ListenerEvent("Naps", NOON, "started", "listening"),
            second("Naps", minutes(1)),
            ListenerEvent("Naps", minutes(1), "stopped", "stopped after 60 s"),
        ])  # fmt: skip
        assert rooms_heard(store) == [
            RoomHeard("Naps", minutes(1), stopped=True),
            RoomHeard("Room 1", minutes(3)),  # no audio, but the listener is alive
            RoomHeard("Toddlers", minutes(2)),
        ]


def test_a_push_server_that_is_down_gets_the_push_once_it_is_back(
    receiver: PushReceiver, tmp_path: Path
) -> None:
    log, clock = Log(), Clock(minutes(6))
    with open_store(tmp_path / "m.db") as store:
        store.write([second(ROOM, NOON), second("Toddlers", minutes(6))])
        watching = watcher(store, receiver.url(), log, clock)
        receiver.status = 503
        watching.check()
        clock.now = minutes(7)
        watching.check()
        assert receiver.pushes == []
        assert log.kinds() == ["monitor_offline", "offline_watch_push_failed"]
        assert "HTTP 503" in log.lines[1][1] and "trying again in 30 s" in log.lines[1][1]
        receiver.status = 200
        clock.now = minutes(8)
        watching.check()
        store.write([second(ROOM, minutes(8))])
        watching.check()
        watching.check()
    assert receiver.titles() == ["Monitor in Room 1 is offline", "Monitor in Room 1 is back"]
    assert log.kinds()[2:] == ["offline_watch_push_resumed", "monitor_back"]
    assert watching.n_pushed == 2


def test_a_store_that_cannot_be_read_is_told_and_tried_again(
    receiver: PushReceiver, tmp_path: Path
) -> None:
    log, clock = Log(), Clock(minutes(6))
    path = tmp_path / "m.db"
    with open_store(path) as store:
        store.write([second(ROOM, NOON)])
    good = path.read_bytes()
    with open_store(path) as store:
        watching = watcher(store, receiver.url(), log, clock)
        path.write_bytes(b"not a database " * 1000)
        watching.check()
        watching.check()
        assert log.kinds() == ["offline_watch_store_failed"]
        assert str(path) in log.lines[0][1]
        path.write_bytes(good)
        watching.check()
    assert log.kinds() == [
        "offline_watch_store_failed", "offline_watch_store_resumed", "monitor_offline",
    ]  # fmt: skip
    assert receiver.titles() == ["Monitor in Room 1 is offline"]


def test_a_store_that_stays_unreadable_is_pushed_and_so_is_its_return(
    receiver: PushReceiver, tmp_path: Path
) -> None:
    log, clock = Log(), Clock(NOON)
    path = tmp_path / "m.db"
    with open_store(path) as store:
        store.write([second(ROOM, NOON)])
    good = path.read_bytes()
    with open_store(path) as store:
        watching = watcher(store, receiver.url(), log, clock)
        path.write_bytes(b"not a database " * 1000)
        for minute in (1, 3, 5, 7):
            clock.now = minutes(minute)
            watching.check()
        path.write_bytes(good)
        clock.now = minutes(8)
        watching.check()
    assert receiver.titles() == [
        "Misery Meter cannot read its database",  # after 5 min of failing reads (1 → 7)
        "Misery Meter reads its database again",
        "Monitor in Room 1 is offline",  # silent since noon
    ]


def test_the_watcher_thread_checks_at_once_and_closes(
    receiver: PushReceiver, tmp_path: Path
) -> None:
    log = Log()
    with open_store(tmp_path / "m.db") as store:
        store.write([second(ROOM, NOON)])
        watching = watcher(store, receiver.url(), log, Clock(minutes(6)))
        watching.start()
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not receiver.pushes and datetime.now(UTC) < deadline:
            time.sleep(0.02)
        watching.close()
    assert receiver.titles() == ["Monitor in Room 1 is offline"]
