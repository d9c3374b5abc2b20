"""The store: open a database, write batches of records in one transaction, read them back.

    store = open_store(default_db_path())         # or "postgresql://user@host/db"
    store.write([second, minute, episode])        # all or nothing
    store.episodes(room="nursery", since=night_start)
    store.write(records, outbox=[OutboxEntry("webhook:...", event)])  # records and events at once
    store.pending("webhook:...", room="nursery")  # the oldest events waiting for a destination

Every database fault becomes a one-line StorageError; a failed write leaves nothing behind, so
the caller keeps its records and writes them again later. A record replaces the stored one of
the same key (room and time; plus the detector for episodes, the kind for events): writing a
batch twice stores it once, and an episode written again with a later end is updated. A minute
is kept whole: one that comes in parts (a listener restarted within it) is stored as the summary
of all its stored seconds, so a part written later adds to the one before instead of replacing it.
The outbox (`outbox.py`) holds the events bound for destinations until they are delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from miserymeter.detect.minutes import summarize
from miserymeter.errors import ServerUnreachable, StorageError
from miserymeter.records import SecondRecord
from miserymeter.store.engines import (
    BUSY_TIMEOUT_S,
    create_store_engine,
    database_url,
    display_name,
)
from miserymeter.store.outbox import (
    OutboxEntry,
    OutboxQueue,
    entry_row,
)
from miserymeter.store.queries import DashboardQueries
from miserymeter.store.schema import (
    SCHEMA_VERSION,
    TABLES,
    UPGRADABLE_FROM,
    StoredRecord,
    metadata,
    minutes,
    outbox,
    rooms,
    schema_version,
    seconds,
)

# PostgreSQL advisory lock taken while creating or upgrading the tables (any fixed number).
SCHEMA_LOCK_KEY = 0x6D6D_0001


def open_store(
    target: str | Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S, server_may_be_down: bool = False
) -> Store:
    """The store in `target`: a SQLite file (a path or `sqlite:///path`, created with its
    folder if missing) or a PostgreSQL database (`postgresql://user:password@host/db`).

    A SQLite write waits up to `busy_timeout_s` for another process to release the database.
    If `server_may_be_down`, a server that cannot be reached now is no error: the store is
    opened, `unreachable_at_open` says why, and its tables are created at its first use once
    the server answers (each use raising that ServerUnreachable until then).
    """
    url = database_url(target)
    engine = create_store_engine(url, busy_timeout_s=busy_timeout_s)
    store = Store(engine, name=display_name(url), busy_timeout_s=busy_timeout_s)
    try:
        store._create_tables()
    except ServerUnreachable as e:
        if not server_may_be_down:
            store.close()
            raise
        store.unreachable_at_open = e
        store.set_up_at_first_use(store._create_tables)
    except BaseException:
        store.close()
        raise
    return store


class Store(DashboardQueries, OutboxQueue):
    """Records of the listener in a SQLite or PostgreSQL database; safe to share by threads.
    It writes records (here), answers the dashboard's questions (`queries.py`) and keeps the
    outbox's queue (`outbox.py`)."""

    def __init__(self, engine: Engine, *, name: str, busy_timeout_s: float) -> None:
        super().__init__(engine, name=name, busy_timeout_s=busy_timeout_s)
        self._room_ids: dict[str, int] = {}
        self.unreachable_at_open: ServerUnreachable | None = None
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert_room = dialect.insert(rooms).on_conflict_do_nothing()
        self._upserts = {t: _upsert(dialect.insert(t), t) for t, _ in TABLES.values()}
        self._queue = dialect.insert(outbox).on_conflict_do_nothing(
            index_elements=["destination", "event_id"]
        )

    def _create_tables(self) -> None:
        """Create the missing tables and indexes (upgrading an older version that only lacks
        some); refuse a read-only database or another schema version."""
        with self._as_storage_errors("open"), self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":  # listeners starting at once wait in turn
                connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
            metadata.create_all(connection)
            for table in metadata.sorted_tables:  # create_all makes those of new tables only
                for index in table.indexes:
                    index.create(connection, checkfirst=True)
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
            for table, rows in sorted(rows_by_table.items(), key=lambda item: item[0] is minutes):
                for row in rows:  # minutes last: they may be summaries of the stored seconds
                    row["room_id"] = room_ids[row.pop("room")]
                if table is minutes:
                    rows = [_whole_minute(connection, row) for row in rows]
                connection.execute(self._upserts[table], rows)
            if outbox:
                rows = [entry_row(e, room_ids[e.event.room]) for e in outbox]
                connection.execute(self._queue, rows)
        self._room_ids.update(room_ids)  # only once committed: a rollback forgets new rooms

    def _ensure_rooms(self, connection: Connection, names: set[str]) -> dict[str, int]:
        ids = {name: self._room_ids[name] for name in names if name in self._room_ids}
        missing = names - ids.keys()
        if missing:
            connection.execute(self._insert_room, [{"name": n} for n in sorted(missing)])
            found = select(rooms.c.name, rooms.c.id).where(rooms.c.name.in_(missing))
            ids.update((name, id_) for name, id_ in connection.execute(found))
        return ids


def _rows_by_table(records: Sequence[StoredRecord]) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[Table, list[dict[str, Any]]] = {}
    for record in records:
        if type(record) not in TABLES:
            raise TypeError(f"the store does not keep {type(record).__name__} records")
        table, _ = TABLES[type(record)]
        row = {c.name: getattr(record, c.name) for c in table.c if c.name != "room_id"}
        rows.setdefault(table, []).append({**row, "room": record.room})
    return rows


def _whole_minute(connection: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """The minutes row `row`, or the summary of the minute's stored seconds when they are more
    than it summarizes: it is a part of the minute, and a part of it was stored before."""
    start = row["start"]
    query = select(
        seconds.c.at,
        seconds.c.offset_s,
        seconds.c.level_dbfs,
        seconds.c.crying_probability,
        seconds.c.top_label,
    ).where(
        seconds.c.room_id == row["room_id"],
        seconds.c.at >= start,
        seconds.c.at < start + timedelta(minutes=1),
    )
    stored = [SecondRecord("", *r) for r in connection.execute(query.order_by(seconds.c.at))]
    if len(stored) <= row["n_seconds"]:
        return row
    whole = summarize(stored)
    return {**row, **{c.name: getattr(whole, c.name) for c in minutes.c if c.name != "room_id"}}


def _upsert(insert: postgresql.Insert | sqlite.Insert, table: Table) -> Insert:
    """`insert` into `table`, its rows replacing the stored rows of the same key."""
    key = [c.name for c in table.primary_key.columns]
    values = {c.name: insert.excluded[c.name] for c in table.c if c.name not in key}
    return insert.on_conflict_do_update(index_elements=key, set_=values)
