"""A daycare's store while its listeners run, for the all-rooms view (`/api/overview`) of
`bench/serve.py`: `n_rooms` rooms heard for `hours` up to now, then fed a second a second.

Each room has a second a second (background scores from a beta distribution, about 1 % of
them at or above the detector's 0.6, so replays are needed here and there), a minute summary a
minute, a stored episode every two hours and a `started` event. Of every ten rooms, one cries
from the last 40 s on, one paused 10 s ago within an episode's merge gap, and one went offline
two hours ago.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from miserymeter.clock import utc_now
from miserymeter.records import Episode, ListenerEvent, MinuteSummary, SecondRecord
from miserymeter.store import Store, StoredRecord

CRYING_S = 40
PAUSED_S = 10
OFFLINE = timedelta(hours=2)
EPISODE_EVERY = timedelta(hours=2)
FEED_EVERY_S = 0.5


@dataclass
class Room:
    """A room's listener: its name, whether it cries now, and its next second's time."""

    name: str
    crying: bool
    start: datetime
    n_seconds: int = 0

    def seconds(self, scores: np.ndarray, levels: np.ndarray) -> list[SecondRecord]:
        """Its next seconds, one per score."""
        first = self.n_seconds
        self.n_seconds += len(scores)
        return [
            SecondRecord(self.name, self.start + timedelta(seconds=s), float(s), float(level),
                         float(p), "crying")
            for s, p, level in zip(range(first, self.n_seconds), scores, levels, strict=True)
        ]  # fmt: skip


def history(room: Room, k: int, n_minutes: int, rng: np.random.Generator) -> list[StoredRecord]:
    """Room number `k`'s first `n_minutes`: seconds, minutes, episodes, its `started` event."""
    scores = rng.beta(0.3, 3.0, 60 * n_minutes)
    if k % 10 == 0:
        scores[-CRYING_S:] = 0.9
    elif k % 10 == 1:
        scores[-CRYING_S - PAUSED_S : -PAUSED_S] = 0.9
    levels = rng.normal(-55.0, 8.0, len(scores))
    records: list[StoredRecord] = [ListenerEvent(room.name, room.start, "started", "listening")]
    records += room.seconds(scores, levels)
    for m in range(n_minutes):
        part = slice(60 * m, 60 * m + 60)
        records.append(
            MinuteSummary(room.name, room.start + timedelta(minutes=m), 60,
                          float(levels[part].mean()), float(levels[part].max()),
                          float((scores[part] >= 0.5).mean()), "crying")
        )  # fmt: skip
    every_s = int(EPISODE_EVERY.total_seconds())
    for at_s in range(every_s, 60 * (n_minutes - 5), every_s):
        at = room.start + timedelta(seconds=at_s)
        records.append(Episode(room.name, at, at + timedelta(seconds=90), at_s, at_s + 90.0,
                               at_s + 3.0, 0.98, 0.81, "model", None))  # fmt: skip
    return records


class LiveDaycare:
    """The store's rooms, built up to now, and a thread feeding them until `stop`."""

    def __init__(self, store: Store, *, n_rooms: int, hours: float) -> None:
        self.store = store
        self.rng = np.random.default_rng(0)
        start = utc_now().replace(microsecond=0) - timedelta(hours=hours)
        self.rooms = [Room(f"room-{k:02d}", k % 10 == 0, start) for k in range(n_rooms)]
        for k, room in enumerate(self.rooms):
            offline = k % 10 == 2
            n_minutes = max(1, round(60 * hours - (OFFLINE.total_seconds() / 60 if offline else 0)))
            store.write(history(room, k, n_minutes, self.rng))
        self.listening = [r for k, r in enumerate(self.rooms) if k % 10 != 2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)

    def __enter__(self) -> LiveDaycare:
        self.feed_until(utc_now())
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def feed_until(self, now: datetime) -> None:
        """The listening rooms' seconds up to `now`, in one write."""
        records: list[StoredRecord] = []
        for room in self.listening:
            n = int((now - room.start).total_seconds()) + 1 - room.n_seconds
            if n > 0:
                scores = np.full(n, 0.9) if room.crying else self.rng.beta(0.3, 3.0, n)
                records += room.seconds(scores, self.rng.normal(-55.0, 8.0, n))
        self.store.write(records)

    def _feed(self) -> None:
        while not self._stop.wait(FEED_EVERY_S):
            self.feed_until(utc_now())
