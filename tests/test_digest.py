"""The morning digest: a night's episodes from a real SQLite store, and the timer that asks."""

from __future__ import annotations

import threading
import time as wall
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from miserymeter.delivery.notify.destination import from_config
from miserymeter.delivery.notify.digest import (
    DigestScheduler,
    digest_event,
    morning_digests,
    next_digest_at,
)
from miserymeter.delivery.notify.messages import push_for
from miserymeter.errors import MiseryMeterError, StorageError
from miserymeter.events import Event
from miserymeter.records import Episode
from miserymeter.store import Store, open_store
from push_receiver import PushReceiver

PARIS = ZoneInfo("Europe/Paris")
NIGHT = date(2026, 11, 25)
WAIT_S = 10.0


def episode(room: str, start: datetime, duration_min: float) -> Episode:
    end = start + timedelta(minutes=duration_min)
    return Episode(room, start, end, 0.0, duration_min * 60, 5.0, 0.9, 0.8, "model")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "digest.db")
    store.write(
        [
            episode("nursery", paris(25, 11, 50), 5),  # the night before: ends before noon
            episode("nursery", paris(25, 23, 40), 3),
            episode("nursery", paris(26, 2, 14), 6.5),
            episode("nursery", paris(26, 5, 50), 2),
            episode("hall", paris(26, 3, 0), 1),
        ]
    )
    return store


def test_the_digest_sums_up_the_night_of_one_room(store: Store) -> None:
    event = digest_event(store, "nursery", NIGHT, PARIS)
    assert event.kind == "digest" and event.room == "nursery"
    assert event.data == {
        "night": "2026-11-25",
        "n_episodes": 3,
        "crying_min": 11.5,
        "longest_min": 6.5,
        "longest_start": "2026-11-26T01:14:00.000Z",
        "first_start": "2026-11-25T22:40:00.000Z",
        "last_end": "2026-11-26T04:52:00.000Z",
    }
    push = push_for(event, zone=PARIS, now=event.at)
    assert push.title == "Last night in nursery"
    assert push.body == (
        "3 episodes, 11 min 30 s of crying; the longest 6 min 30 s at 02:14. "
        "First at 23:40, last ended 05:52."
    )


def test_the_digest_id_is_the_room_and_the_night(store: Store) -> None:
    first = digest_event(store, "nursery", NIGHT, PARIS)
    store.write([episode("nursery", paris(26, 6, 30), 1)])  # more crying, later that morning
    again = digest_event(store, "nursery", NIGHT, PARIS)
    assert again.id == first.id and again.data["n_episodes"] == 4
    assert digest_event(store, "hall", NIGHT, PARIS).id != first.id
    assert digest_event(store, "nursery", NIGHT + timedelta(days=1), PARIS).id != first.id
    quiet = digest_event(store, "nursery", date(2026, 11, 20), PARIS)
    assert quiet.data == {"night": "2026-11-20", "n_episodes": 0}


def test_the_next_digest_follows_local_time_across_a_clock_change() -> None:
    seven = time(7, 0)
    before = datetime(2026, 3, 28, 5, 0, tzinfo=UTC)  # 06:00 in Paris, winter time
    first = next_digest_at(before, seven, PARIS)
    assert first == datetime(2026, 3, 28, 6, 0, tzinfo=UTC)
    second = next_digest_at(first, seven, PARIS)  # the clocks went forward that night
    assert second == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert next_digest_at(first - timedelta(seconds=1), seven, PARIS) == first


class Clock:
    """Wall time from `start`, moving as real time does; `jump_to` sets it elsewhere."""

    def __init__(self, start: datetime) -> None:
        self.n_calls = 0
        self.jump_to(start)

    def jump_to(self, moment: datetime) -> None:
        self._start, self._started_s = moment, wall.monotonic()

    def __call__(self) -> datetime:
        self.n_calls += 1
        return self._start + timedelta(seconds=wall.monotonic() - self._started_s)


def test_the_scheduler_asks_for_last_night_each_morning_and_survives_errors() -> None:
    clock = Clock(paris(26, 6, 59).replace(second=59, microsecond=800_000))
    nights: list[date] = []
    errors: list[MiseryMeterError] = []
    asked = threading.Semaphore(0)

    def on_night(night: date) -> None:
        nights.append(night)
        asked.release()
        if len(nights) == 1:
            raise StorageError("database locked")

    scheduler = DigestScheduler(
        time(7, 0),
        PARIS,
        on_night=on_night,
        on_error=errors.append,
        clock=clock,
        check_every_s=0.05,
    )
    scheduler.start()
    try:
        assert asked.acquire(timeout=WAIT_S)
        assert nights == [NIGHT] and [str(e) for e in errors] == ["database locked"]
        clock.jump_to(paris(27, 6, 59).replace(second=59, microsecond=900_000))
        assert asked.acquire(timeout=WAIT_S)
        assert nights == [NIGHT, NIGHT + timedelta(days=1)] and len(errors) == 1
    finally:
        scheduler.close()


def test_a_digest_hours_late_is_skipped() -> None:
    """The clock jumps from 06:59 to 09:00 (set at boot): no digest, the next one tomorrow."""
    clock = Clock(paris(26, 6, 59))
    nights: list[date] = []
    errors: list[MiseryMeterError] = []
    scheduler = DigestScheduler(
        time(7, 0),
        PARIS,
        on_night=nights.append,
        on_error=errors.append,
        clock=clock,
        check_every_s=0.01,
    )
    scheduler.start()
    wait_for_calls(clock, 2)  # the 07:00 digest is due: computed at 06:59
    clock.jump_to(paris(26, 9, 0))
    wait_for_calls(clock, clock.n_calls + 3)  # it has looked at the clock since the jump
    scheduler.close()
    assert nights == [] and errors == []


def wait_for_calls(clock: Clock, n_calls: int) -> None:
    deadline_s = wall.monotonic() + WAIT_S
    while clock.n_calls < n_calls:
        assert wall.monotonic() < deadline_s, "the scheduler does not look at the clock"
        wall.sleep(0.005)


def test_each_morning_the_digest_is_pushed(store: Store) -> None:
    """From the store, through the [notify] destination, to a real HTTP server."""
    receiver = PushReceiver()
    notify = from_config(
        {"urls": [receiver.url()], "digest_at": "07:00", "time_zone": "Europe/Paris"}, where="t"
    )
    settings = notify.settings
    assert settings.digest_at is not None
    clock = Clock(paris(26, 6, 59).replace(second=59, microsecond=900_000))
    pushed = threading.Event()
    errors: list[MiseryMeterError] = []

    def hand_over(event: Event) -> None:  # what the outbox does with it
        if notify.wants(event):
            notify.send(event)
            pushed.set()

    scheduler = morning_digests(
        store,
        "nursery",
        settings.digest_at,
        settings.zone,
        hand_over=hand_over,
        on_error=errors.append,
        clock=clock,
    )
    scheduler.start()
    try:
        assert pushed.wait(WAIT_S)
        (push,) = receiver.pushes
        assert push.title == "Last night in nursery" and push.body.startswith("3 episodes, ")
        assert errors == []
    finally:
        scheduler.close()
        receiver.close()
