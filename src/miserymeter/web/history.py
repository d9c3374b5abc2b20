"""A room's recent nights as calibration needs them: how many other sounds each one brought.

A finished night does not change, so its count is kept (reading and counting a night's
43,200 seconds takes a tenth of a second); tonight is only used, never kept, while no
finished night of the last week was heard.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from miserymeter.calibrate.sounds import count_sounds
from miserymeter.nights import night_bounds, night_of
from miserymeter.store import Store
from miserymeter.web.night_reports import last_nights

HISTORY_NIGHTS = 7
MAX_KEPT = 4096


@dataclass(frozen=True)
class SoundHistory:
    """Other sounds per night heard (None: no night heard), over `n_nights` nights."""

    sounds_per_night: float | None
    n_nights: int


class RoomHistory:
    """Other sounds per night of each room, from its last `HISTORY_NIGHTS` finished nights."""

    def __init__(self, store: Store, *, zone: tzinfo, gate_db: float, merge_gap_s: float) -> None:
        self.store = store
        self.zone = zone
        self.gate_db = gate_db
        self.merge_gap_s = merge_gap_s
        self._kept: dict[tuple[str, date], int | None] = {}
        self._lock = threading.Lock()

    def sounds(self, room: str, *, now: datetime) -> SoundHistory:
        """The mean over the finished nights heard, else over tonight so far."""
        tonight = night_of(now, zone=self.zone)
        with self._lock:
            finished = last_nights(tonight - timedelta(days=1), HISTORY_NIGHTS)
            counts = [self._kept_count(room, night) for night in finished]
        heard = [n for n in counts if n is not None]
        if not heard and (tonight_count := self._count(room, tonight)) is not None:
            heard = [tonight_count]
        if not heard:
            return SoundHistory(None, 0)
        return SoundHistory(sum(heard) / len(heard), len(heard))

    def _kept_count(self, room: str, night: date) -> int | None:
        key = (room, night)
        if key not in self._kept:
            if len(self._kept) >= MAX_KEPT:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = self._count(room, night)
        return self._kept[key]

    def _count(self, room: str, night: date) -> int | None:
        """The night's other sounds; None when nothing of it was stored."""
        since, until = night_bounds(night, zone=self.zone)
        levels = self.store.levels(room, since, until)
        if not levels:
            return None
        episodes = self.store.episodes(room, since, until)
        return count_sounds(
            [after_s for after_s, _ in levels],
            [level_dbfs for _, level_dbfs in levels],
            episodes_s=[
                ((e.start - since).total_seconds(), (e.end - since).total_seconds())
                for e in episodes
            ],
            gate_db=self.gate_db,
            merge_gap_s=self.merge_gap_s,
        )
