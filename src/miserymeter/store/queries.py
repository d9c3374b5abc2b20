"""What the dashboard and the watchers ask the store: rooms, seconds, minutes, episodes,
events and statuses over a time span, the latest of each, and sums for charts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    case,
    func,
    literal,
    select,
    type_coerce,
)

from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    SecondRecord,
)
from miserymeter.store.connection import StoreConnection, select_rows, time_order
from miserymeter.store.schema import EPOCH, ONE_US, TABLES, UtcDateTime, rooms


@dataclass(frozen=True)
class Summary:
    """Minutes summed up: from the first one's `start`, their seconds, their loudness (the mean
    of the minutes' means, weighted by seconds, and the max) and the share of crying seconds."""

    start: datetime
    n_seconds: int
    mean_level_dbfs: float
    max_level_dbfs: float
    crying_fraction: float


class DashboardQueries(StoreConnection):
    """The store's reads."""

    def rooms(self) -> list[str]:
        """The names of the rooms that have records, sorted."""
        with self._faults("read"), self._connection() as connection:
            return list(connection.scalars(select(rooms.c.name).order_by(rooms.c.name)))

    def seconds(self, room: str, since: datetime, until: datetime) -> list[SecondRecord]:
        """The seconds of `room` from `since` (included) to `until` (excluded), in time order."""
        return self._read(SecondRecord, room=room, since=since, until=until)

    def minutes(self, room: str, since: datetime, until: datetime) -> list[MinuteSummary]:
        """The minutes of `room` that start from `since` (included) to `until` (excluded)."""
        return self._read(MinuteSummary, room=room, since=since, until=until)

    def episodes(
        self, room: str | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[Episode]:
        """The episodes of `room` (or of every room) that overlap `since`..`until`, in order."""
        table, _ = TABLES[Episode]
        query = select_rows(table, room=room)
        if since is not None:
            query = query.where(table.c.end > since)
        if until is not None:
            query = query.where(table.c.start < until)
        return self._fetch(Episode, query.order_by(*time_order(table, "start")))

    def events(
        self, room: str | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[ListenerEvent]:
        """The listener events of `room` (or of every room) from `since` to `until` (excluded)."""
        return self._read(ListenerEvent, room=room, since=since, until=until)

    def statuses(
        self, room: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[ListenerStatus]:
        """The listener statuses of `room` from `since` to `until` (excluded), in time order."""
        return self._read(ListenerStatus, room=room, since=since, until=until)

    def quietest_level_dbfs(
        self, room: str, since: datetime, until: datetime, *, above_dbfs: float
    ) -> float | None:
        """The lowest loudness above `above_dbfs` of the seconds of `room` from `since` to
        `until` (excluded): the room's noise floor. None when there is no such second."""
        table, _ = TABLES[SecondRecord]
        query = (
            select(func.min(table.c.level_dbfs))
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.at >= since, table.c.at < until)
            .where(table.c.level_dbfs > above_dbfs)
        )
        with self._faults("read"), self._connection() as connection:
            found = connection.scalar(query)
        return None if found is None else float(found)

    def latest_second(self, room: str) -> SecondRecord | None:
        """The last second stored for `room` (None: none yet): is its listener still hearing?"""
        table, _ = TABLES[SecondRecord]
        query = select_rows(table, room=room).order_by(table.c.at.desc()).limit(1)
        found = self._fetch(SecondRecord, query)
        return found[0] if found else None

    def latest_event(self, room: str) -> ListenerEvent | None:
        """The last listener event stored for `room` (None: none yet): did it stop cleanly?"""
        table, _ = TABLES[ListenerEvent]
        query = select_rows(table, room=room).order_by(table.c.at.desc()).limit(1)
        found = self._fetch(ListenerEvent, query)
        return found[0] if found else None

    def last_heard(self, room: str | None = None) -> dict[str, datetime | None]:
        """Every room (or `room`) by name, and when its last second was (None: none yet)."""
        table, _ = TABLES[SecondRecord]
        last = select(func.max(table.c.at)).where(table.c.room_id == rooms.c.id)
        query = select(rooms.c.name, last.scalar_subquery()).order_by(rooms.c.name)
        if room is not None:
            query = query.where(rooms.c.name == room)
        with self._faults("read"), self._connection() as connection:
            return {name: at for name, at in connection.execute(query)}

    def latest_events(
        self,
        names: Collection[str],
        kinds: Collection[str],
        *,
        since: datetime,
        until: datetime | None = None,
    ) -> dict[str, ListenerEvent]:
        """The last event of one of `kinds` from `since` on (to `until`, included) of each room
        of `names` (rooms with none left out)."""
        table, _ = TABLES[ListenerEvent]
        query = select_rows(table, room=None).where(
            rooms.c.name.in_(names), table.c.kind.in_(kinds), table.c.at >= since
        )
        if until is not None:
            query = query.where(table.c.at <= until)
        found = self._fetch(ListenerEvent, query.order_by(*time_order(table, "at")))
        return {event.room: event for event in found}

    def crying_times(
        self, names: Collection[str], since: datetime, *, at_least: float
    ) -> dict[str, list[datetime]]:
        """When, from `since` on, a second of each room of `names` had a crying probability of
        `at_least` or more, in time order (rooms with none left out)."""
        table, _ = TABLES[SecondRecord]
        times: dict[str, list[datetime]] = {}
        with self._faults("read"), self._connection() as connection:
            ids = _room_ids(connection, names)
            query = (
                select(table.c.room_id, table.c.at)
                .where(table.c.room_id.in_(list(ids)), table.c.at >= since)
                .where(table.c.crying_probability >= at_least)
                .order_by(table.c.at)
            )
            for room_id, at in connection.execute(query):
                times.setdefault(ids[room_id], []).append(at)
        return times

    def seconds_since(
        self, since: Mapping[str, datetime], until: datetime
    ) -> dict[str, list[SecondRecord]]:
        """The seconds of each room of `since` from its time there until `until` (excluded),
        in time order."""
        table, _ = TABLES[SecondRecord]
        found: dict[str, list[SecondRecord]] = {}
        with self._faults("read"), self._connection() as connection:
            ids = _room_ids(connection, since)
            room_since = case(
                {i: literal(since[name], UtcDateTime) for i, name in ids.items()},
                value=table.c.room_id,
            )
            c = table.c
            query = (
                select(c.room_id, c.at, c.offset_s, c.level_dbfs, c.crying_probability, c.top_label)
                .where(c.room_id.in_(list(ids)), c.at < until)
                .where(c.at >= min(since.values()), c.at >= room_since)
                .order_by(c.at)
            )
            for room_id, *fields in connection.execute(query):  # in SecondRecord's order
                found.setdefault(ids[room_id], []).append(SecondRecord(ids[room_id], *fields))
        return found

    def seconds_heard_by_room(self, since: datetime, until: datetime) -> dict[str, int]:
        """How many seconds the minutes of each room starting from `since` to `until`
        (excluded) were heard: time listened (a minute heard in part counts its part)."""
        table, _ = TABLES[MinuteSummary]
        heard = select(func.coalesce(func.sum(table.c.n_seconds), 0)).where(
            table.c.room_id == rooms.c.id, table.c.start >= since, table.c.start < until
        )
        query = select(rooms.c.name, heard.scalar_subquery())
        with self._faults("read"), self._connection() as connection:
            return {name: int(n) for name, n in connection.execute(query)}

    def seconds_heard(self, room: str, since: datetime, until: datetime) -> int:
        """`seconds_heard_by_room` of one room."""
        table, _ = TABLES[MinuteSummary]
        query = (
            select(func.coalesce(func.sum(table.c.n_seconds), 0))
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.start >= since, table.c.start < until)
        )
        with self._faults("read"), self._connection() as connection:
            return int(connection.scalar(query) or 0)

    def n_minutes(self, room: str, since: datetime, until: datetime) -> int:
        """How many minutes of `room` start from `since` to `until` (excluded): time listened."""
        table, _ = TABLES[MinuteSummary]
        query = (
            select(func.count())
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.start >= since, table.c.start < until)
        )
        with self._faults("read"), self._connection() as connection:
            return int(connection.scalar(query) or 0)

    def summaries(
        self, room: str, since: datetime, until: datetime, *, bucket_s: float
    ) -> list[Summary]:
        """The minutes of `room` from `since` to `until`, summed up per `bucket_s` from `since`
        (in the database: a month is 43,200 minutes a room, too many to read for a chart)."""
        table, _ = TABLES[MinuteSummary]
        origin: float
        width: float
        if self._engine.dialect.name == "sqlite":  # integer microseconds: integer division
            origin, width = (since - EPOCH) // ONE_US, round(bucket_s * 1e6)
            start: ColumnElement[Any] = type_coerce(table.c.start, BigInteger)
        else:
            origin, width = since.timestamp(), bucket_s
            start = func.extract("epoch", table.c.start)
        n_seconds = func.sum(table.c.n_seconds)
        query = (
            select(
                func.min(table.c.start).label("start"),
                n_seconds.label("n_seconds"),
                (func.sum(table.c.mean_level_dbfs * table.c.n_seconds) / n_seconds).label(
                    "mean_level_dbfs"
                ),
                func.max(table.c.max_level_dbfs).label("max_level_dbfs"),
                (func.sum(table.c.crying_fraction * table.c.n_seconds) / n_seconds).label(
                    "crying_fraction"
                ),
            )
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.start >= since, table.c.start < until)
            .group_by((start - origin) // width)
            .order_by(func.min(table.c.start))
        )
        with self._faults("read"), self._connection() as connection:
            return [Summary(**row) for row in connection.execute(query).mappings()]

    def levels(self, room: str, since: datetime, until: datetime) -> list[tuple[float, float]]:
        """The seconds of `room` from `since` to `until` as (seconds after `since`, loudness in
        dBFS), in time order: what calibration reads of whole nights, twenty times faster than
        `seconds` (a night is 43,200 of them)."""
        table, _ = TABLES[SecondRecord]
        after_s: ColumnElement[Any]
        if self._engine.dialect.name == "sqlite":  # integer microseconds
            after_s = (type_coerce(table.c.at, BigInteger) - (since - EPOCH) // ONE_US) / 1e6
        else:
            after_s = func.extract("epoch", table.c.at) - since.timestamp()
        query = (
            select(after_s, table.c.level_dbfs)
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.at >= since, table.c.at < until)
            .order_by(table.c.at)
        )
        with self._faults("read"), self._connection() as connection:
            return [(float(after), float(level)) for after, level in connection.execute(query)]


def _room_ids(connection: Connection, names: Iterable[str]) -> dict[int, str]:
    """The rooms of `names` that exist, by id."""
    query = select(rooms.c.id, rooms.c.name).where(rooms.c.name.in_(list(names)))
    return {room_id: name for room_id, name in connection.execute(query)}
