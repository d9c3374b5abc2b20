"""The store: open a database, write batches of records in one transaction, read them back.

    store = open_store(default_db_path())         # or "postgresql://user@host/db"
    store.write([second, minute, episode])        # all or nothing
    store.episodes(room="nursery", since=night_start)
    store.write(records, outbox=[OutboxEntry("webhook:...", event)])  # records and events at once
    store.pending("webhook:...", room="nursery")  # the oldest events waiting for a destination

Every database fault becomes a one-line StorageError; a failed write leaves nothing behind, so
the caller keeps its records and writes them again later. A record replaces the stored one of
the same key (room and time; plus the detector for episodes, the kind for events): writing a
batch twice stores it once, and an episode written again with a later end is updated.
The outbox (`outbox.py`) holds the events bound for destinations until they are delivered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    delete,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from miserymeter.errors import StorageError
from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    SecondRecord,
)
from miserymeter.store.engines import (
    BUSY_TIMEOUT_S,
    WRITE_OPTION,
    create_store_engine,
    database_url,
    display_name,
)
from miserymeter.store.faults import storage_error
from miserymeter.store.outbox import (
    OutboxCounts,
    OutboxEntry,
    PendingEntry,
    Undelivered,
    counts_query,
    entry_row,
    errors_query,
    pending_entry,
    pending_query,
    undelivered_query,
)
from miserymeter.store.schema import (
    EPOCH,
    ONE_US,
    SCHEMA_VERSION,
    TABLES,
    UPGRADABLE_FROM,
    StoredRecord,
    metadata,
    outbox,
    rooms,
    schema_version,
)

# PostgreSQL advisory lock taken while creating or upgrading the tables (any fixed number).
SCHEMA_LOCK_KEY = 0x6D6D_0001

R = TypeVar("R", SecondRecord, MinuteSummary, Episode, ListenerEvent, ListenerStatus)


@dataclass(frozen=True)
class Summary:
    """Minutes summed up: from the first one's `start`, their seconds, their loudness (the mean
    of the minutes' means, weighted by seconds, and the max) and the share of crying seconds."""

    start: datetime
    n_seconds: int
    mean_level_dbfs: float
    max_level_dbfs: float
    crying_fraction: float


def open_store(target: str | Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Store:
    """The store in `target`: a SQLite file (a path or `sqlite:///path`, created with its
    folder if missing) or a PostgreSQL database (`postgresql://user:password@host/db`).

    A SQLite write waits up to `busy_timeout_s` for another process to release the database.
    """
    url = database_url(target)
    engine = create_store_engine(url, busy_timeout_s=busy_timeout_s)
    store = Store(engine, name=display_name(url), busy_timeout_s=busy_timeout_s)
    try:
        store._create_tables()
    except BaseException:
        store.close()
        raise
    return store


class Store:
    """Records of the listener in a SQLite or PostgreSQL database; safe to share by threads."""

    def __init__(self, engine: Engine, *, name: str, busy_timeout_s: float) -> None:
        self.name = name
        self.busy_timeout_s = busy_timeout_s
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._room_ids: dict[str, int] = {}
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert_room = dialect.insert(rooms).on_conflict_do_nothing()
        self._upserts = {t: _upsert(dialect.insert(t), t) for t, _ in TABLES.values()}
        self._queue = dialect.insert(outbox).on_conflict_do_nothing(
            index_elements=["destination", "event_id"]
        )

    def _create_tables(self) -> None:
        """Create the missing tables (upgrading an older version that only lacks some); refuse a
        read-only database or another schema version."""
        with self._faults("open"), self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":  # listeners starting at once wait in turn
                connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
            metadata.create_all(connection)
            version = connection.scalar(select(schema_version.c.version))
            if version is None:
                connection.execute(schema_version.insert(), {"version": SCHEMA_VERSION})
            else:  # a write now, so that a read-only database fails here, not at the first write
                upgraded = SCHEMA_VERSION if version in UPGRADABLE_FROM else version
                connection.execute(schema_version.update().values(version=upgraded))
        if version not in (None, SCHEMA_VERSION, *UPGRADABLE_FROM):
            raise StorageError(
                f"database {self.name} has schema version {version}, this miserymeter reads "
                f"version {SCHEMA_VERSION}; use a matching miserymeter or another database"
            )

    def write(self, records: Sequence[StoredRecord], *, outbox: Sequence[OutboxEntry] = ()) -> None:
        """Store a batch of records of any types, and queue the `outbox` entries, in one
        transaction: all of them or none."""
        rows_by_table = _rows_by_table(records)
        if not rows_by_table and not outbox:
            return
        names = {r.room for r in records} | {e.event.room for e in outbox}
        with self._faults("write to"), self._writer.begin() as connection:
            room_ids = self._ensure_rooms(connection, names)
            for table, rows in rows_by_table.items():
                for row in rows:
                    row["room_id"] = room_ids[row.pop("room")]
                connection.execute(self._upserts[table], rows)
            if outbox:
                rows = [entry_row(e, room_ids[e.event.room]) for e in outbox]
                connection.execute(self._queue, rows)
        self._room_ids.update(room_ids)  # only once committed: a rollback forgets new rooms

    def pending(self, destination: str, *, room: str, limit: int = 100) -> list[PendingEntry]:
        """The oldest `limit` entries of `room` waiting for `destination`, oldest first."""
        query = pending_query(destination, room=room, limit=limit)
        with self._faults("read"), self._engine.connect() as connection:
            return [pending_entry(row) for row in connection.execute(query)]

    def delivered(self, seq: int) -> None:
        """The outbox entry `seq` reached its destination: forget it."""
        self._change_entry(delete(outbox).where(outbox.c.seq == seq))

    def failed(self, seq: int, error: str) -> None:
        """Delivering entry `seq` failed for now: count the attempt, keep the reason."""
        change = {"attempts": outbox.c.attempts + 1, "last_error": error}
        self._change_entry(update(outbox).where(outbox.c.seq == seq).values(change))

    def rejected(self, seq: int, error: str) -> None:
        """The destination refused entry `seq` for good: keep it, never send it again."""
        change = {"attempts": outbox.c.attempts + 1, "last_error": error, "rejected": True}
        self._change_entry(update(outbox).where(outbox.c.seq == seq).values(change))

    def outbox_counts(self, destination: str, *, room: str | None = None) -> OutboxCounts:
        """How many entries of `room` (default: every room) wait for `destination`, and how
        many it refused."""
        query = counts_query(destination, room=room)
        with self._faults("read"), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        counts: dict[bool, int] = {bool(rejected): n for rejected, n in rows}
        return OutboxCounts(counts.get(False, 0), counts.get(True, 0))

    def undelivered(self, room: str, *, refused_since: datetime) -> list[Undelivered]:
        """Per destination, `room`'s events that failed to reach it: tried and still waiting,
        or refused for good since `refused_since`; sorted by destination name."""
        query = undelivered_query(room, refused_since=refused_since)
        with self._faults("read"), self._engine.connect() as connection:
            rows = connection.execute(query).all()
            errors: dict[int, str | None] = {
                seq: error
                for seq, error in connection.execute(errors_query([seq for *_, seq in rows]))
            }
        return [
            Undelivered(destination, n_waiting, n_refused, since, errors[seq])
            for destination, n_waiting, n_refused, since, seq in rows
        ]

    def rooms(self) -> list[str]:
        """The names of the rooms that have records, sorted."""
        with self._faults("read"), self._engine.connect() as connection:
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
        query = _select(table, room=room)
        if since is not None:
            query = query.where(table.c.end > since)
        if until is not None:
            query = query.where(table.c.start < until)
        return self._fetch(Episode, query.order_by(*_time_order(table, "start")))

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
        with self._faults("read"), self._engine.connect() as connection:
            found = connection.scalar(query)
        return None if found is None else float(found)

    def latest_second(self, room: str) -> SecondRecord | None:
        """The last second stored for `room` (None: none yet): is its listener still hearing?"""
        table, _ = TABLES[SecondRecord]
        query = _select(table, room=room).order_by(table.c.at.desc()).limit(1)
        found = self._fetch(SecondRecord, query)
        return found[0] if found else None

    def latest_event(self, room: str) -> ListenerEvent | None:
        """The last listener event stored for `room` (None: none yet): did it stop cleanly?"""
        table, _ = TABLES[ListenerEvent]
        query = _select(table, room=room).order_by(table.c.at.desc()).limit(1)
        found = self._fetch(ListenerEvent, query)
        return found[0] if found else None

    def n_minutes(self, room: str, since: datetime, until: datetime) -> int:
        """How many minutes of `room` start from `since` to `until` (excluded): time listened."""
        table, _ = TABLES[MinuteSummary]
        query = (
            select(func.count())
            .select_from(table.join(rooms))
            .where(rooms.c.name == room, table.c.start >= since, table.c.start < until)
        )
        with self._faults("read"), self._engine.connect() as connection:
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
        with self._faults("read"), self._engine.connect() as connection:
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
        with self._faults("read"), self._engine.connect() as connection:
            return [(float(after), float(level)) for after, level in connection.execute(query)]

    def close(self) -> None:
        """Close every connection (SQLite then folds its write-ahead log into the file)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _read(
        self,
        record_type: type[R],
        *,
        room: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[R]:
        table, time_column = TABLES[record_type]
        time = table.c[time_column]
        query = _select(table, room=room)
        if since is not None:
            query = query.where(time >= since)
        if until is not None:
            query = query.where(time < until)
        return self._fetch(record_type, query.order_by(*_time_order(table, time_column)))

    def _fetch(self, record_type: type[R], query: Select[Any]) -> list[R]:
        with self._faults("read"), self._engine.connect() as connection:
            return [record_type(**row) for row in connection.execute(query).mappings()]

    def _ensure_rooms(self, connection: Connection, names: set[str]) -> dict[str, int]:
        ids = {name: self._room_ids[name] for name in names if name in self._room_ids}
        missing = names - ids.keys()
        if missing:
            connection.execute(self._insert_room, [{"name": n} for n in sorted(missing)])
            found = select(rooms.c.name, rooms.c.id).where(rooms.c.name.in_(missing))
            ids.update((name, id_) for name, id_ in connection.execute(found))
        return ids

    def _change_entry(self, statement: Any) -> None:
        with self._faults("write to"), self._writer.begin() as connection:
            connection.execute(statement)

    @contextmanager
    def _faults(self, action: str) -> Iterator[None]:
        try:
            yield
        except DBAPIError as e:
            raise storage_error(
                e, action=action, database=self.name, busy_timeout_s=self.busy_timeout_s
            ) from e


def _rows_by_table(records: Sequence[StoredRecord]) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[Table, list[dict[str, Any]]] = {}
    for record in records:
        if type(record) not in TABLES:
            raise TypeError(f"the store does not keep {type(record).__name__} records")
        table, _ = TABLES[type(record)]
        row = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        rows.setdefault(table, []).append(row)
    return rows


def _upsert(insert: postgresql.Insert | sqlite.Insert, table: Table) -> Insert:
    """`insert` into `table`, its rows replacing the stored rows of the same key."""
    key = [c.name for c in table.primary_key.columns]
    values = {c.name: insert.excluded[c.name] for c in table.c if c.name not in key}
    return insert.on_conflict_do_update(index_elements=key, set_=values)


def _select(table: Table, *, room: str | None) -> Select[Any]:
    """The table's rows as record fields: its columns, with the room's name for `room_id`."""
    columns = [c for c in table.c if c.name != "room_id"]
    query = select(rooms.c.name.label("room"), *columns).join_from(table, rooms)
    return query if room is None else query.where(rooms.c.name == room)


def _time_order(table: Table, time_column: str) -> list[ColumnElement[Any]]:
    """Time first, then the room's name and the rest of the key: a stable order."""
    rest = [c for c in table.primary_key.columns if c.name not in ("room_id", time_column)]
    return [table.c[time_column], rooms.c.name, *rest]
