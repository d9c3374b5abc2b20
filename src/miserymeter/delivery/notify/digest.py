"""The morning digest: a night's crying in one push, at a set local time.

    event = digest_event(store, "nursery", date(2026, 11, 25), zone)   # from the store
    scheduler = DigestScheduler(time(7, 0), zone, on_night=..., on_error=...)
    scheduler.start()                       # calls on_night(night) every morning at 07:00
    scheduler.close()

    # in `listen`, with the [notify] destination's settings: each morning's digest to the outbox
    morning_digests(store, room, notify.settings.digest_at, notify.settings.zone,
                    hand_over=outbox.put, on_error=report).start()

The event's id depends on the room and the night only: a digest made twice (a restart at
07:00) is one event to the outbox. `on_night` gets the night that has just ended: the one
named by yesterday's date (nights run from noon to noon, see `nights.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from miserymeter.clock import iso_utc, utc_now
from miserymeter.errors import MiseryMeterError
from miserymeter.events import DIGEST, Event, make_event
from miserymeter.nights import night_bounds
from miserymeter.store import Store

# A digest later than this after its time (the machine was asleep, its clock jumped) is skipped.
LATE_LIMIT = timedelta(hours=1)
# The scheduler looks at the clock at least this often, so a clock set at boot is followed.
CHECK_EVERY_S = 60.0


def digest_event(store: Store, room: str, night: date, zone: tzinfo) -> Event:
    """The digest of `room`'s `night` (`n_episodes` 0 when it had no crying)."""
    since, until = night_bounds(night, zone=zone)
    episodes = store.episodes(room=room, since=since, until=until)
    spans = [(max(e.start, since), min(e.end, until)) for e in episodes]
    data: dict[str, object] = {"night": night.isoformat(), "n_episodes": len(spans)}
    if spans:
        longest_start, longest_end = max(spans, key=lambda s: s[1] - s[0])
        data |= {
            "crying_min": round(sum((end - start).total_seconds() for start, end in spans) / 60, 2),
            "longest_min": round((longest_end - longest_start).total_seconds() / 60, 2),
            "longest_start": iso_utc(longest_start),
            "first_start": iso_utc(spans[0][0]),
            "last_end": iso_utc(max(end for _, end in spans)),
        }
    return make_event(room, since, DIGEST, data, detail=night.isoformat())


def morning_digests(
    store: Store,
    room: str,
    at: time,
    zone: tzinfo,
    *,
    hand_over: Callable[[Event], None],
    on_error: Callable[[MiseryMeterError], None],
    clock: Callable[[], datetime] = utc_now,
) -> DigestScheduler:
    """A scheduler (not started) that hands `room`'s digest of each night over at `at`."""
    return DigestScheduler(
        at,
        zone,
        on_night=lambda night: hand_over(digest_event(store, room, night, zone)),
        on_error=on_error,
        clock=clock,
    )


def next_digest_at(now: datetime, at: time, zone: tzinfo) -> datetime:
    """The first moment after `now` (aware) when local time is `at`, in UTC."""
    local_day = now.astimezone(zone).date()
    for day in (local_day, local_day + timedelta(days=1), local_day + timedelta(days=2)):
        moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("a local time comes back within two days")


def night_before(moment: datetime, zone: tzinfo) -> date:
    """The night that ended last before `moment`: the one named by the day before it."""
    return moment.astimezone(zone).date() - timedelta(days=1)


class DigestScheduler:
    """A thread that calls `on_night(night)` at local time `at` each day (see the docstring).

    A `MiseryMeterError` from `on_night` (the store cannot be read) goes to `on_error`; the
    scheduler carries on with the next morning.
    """

    def __init__(
        self,
        at: time,
        zone: tzinfo,
        *,
        on_night: Callable[[date], None],
        on_error: Callable[[MiseryMeterError], None],
        clock: Callable[[], datetime] = utc_now,
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:
        self.at = at
        self.zone = zone
        self._on_night = on_night
        self._on_error = on_error
        self._clock = clock
        self._check_every_s = check_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="digest", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, *, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        due = next_digest_at(self._clock(), self.at, self.zone)
        while not self._stop.is_set():
            now = self._clock()
            if due - now > timedelta(days=1) + LATE_LIMIT:  # the clock went back
                due = next_digest_at(now, self.at, self.zone)
            if now < due:
                self._stop.wait(min(self._check_every_s, (due - now).total_seconds()))
                continue
            if now - due <= LATE_LIMIT:
                try:
                    self._on_night(night_before(due, self.zone))
                except MiseryMeterError as e:
                    self._on_error(e)
            due = next_digest_at(now, self.at, self.zone)
