"""Tonight's totals of one room: episodes and minutes cried, counted once each, reset at noon.

An episode counts for the night its start belongs to (`nights.night_of`). Events may come
twice (delivery is at least once) and a restarted listener is seeded with the stored
episodes, so every episode is known by its start time and counted once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from miserymeter.clock import iso_utc
from miserymeter.nights import night_of
from miserymeter.records import Episode


@dataclass(frozen=True)
class Totals:
    """What Home Assistant shows for tonight."""

    n_episodes: int
    minutes_cried: float


class NightTally:
    """Thread-safe: the destination counts events while the state sink watches the clock."""

    def __init__(self, *, zone: tzinfo | None = None) -> None:
        self.zone = zone
        self.night: date | None = None
        self._started: set[str] = set()
        self._stopped: set[str] = set()
        self._crying_s = 0.0
        self._lock = threading.Lock()

    @property
    def totals(self) -> Totals:
        with self._lock:
            return Totals(len(self._started), round(self._crying_s / 60, 1))

    def seed(self, episodes: Sequence[Episode], *, at: datetime) -> None:
        """Start the night of `at` with the finished `episodes` already stored."""
        self.roll(at)
        for episode in episodes:
            self.stopped(episode.start, episode.duration_s)

    def roll(self, at: datetime) -> bool:
        """Move to the night of `at` if it is a later one, from zero; whether it moved."""
        night = night_of(at, zone=self.zone)
        with self._lock:
            if self.night is not None and night <= self.night:
                return False
            self.night = night
            self._started.clear()
            self._stopped.clear()
            self._crying_s = 0.0
            return True

    def started(self, start: datetime) -> bool:
        """Count the episode that started at `start`; whether the totals changed."""
        if not self._is_tonight(start):
            return False
        key = iso_utc(start)
        with self._lock:
            if key in self._started:
                return False
            self._started.add(key)
            return True

    def stopped(self, start: datetime, duration_s: float) -> bool:
        """Count the finished episode that started at `start`; whether the totals changed."""
        if not self._is_tonight(start):
            return False
        key = iso_utc(start)
        with self._lock:
            if key in self._stopped:
                return False
            self._started.add(key)
            self._stopped.add(key)
            self._crying_s += duration_s
            return True

    def _is_tonight(self, start: datetime) -> bool:
        """Whether `start` is in the current night (moving to its night if that is later)."""
        self.roll(start)
        return night_of(start, zone=self.zone) == self.night
