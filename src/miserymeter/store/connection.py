"""The plumbing every part of the store shares: the engine, its faults as StorageErrors, and
reading records back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, select
from sqlalchemy.exc import DBAPIError

from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    SecondRecord,
)
from miserymeter.store.engines import WRITE_OPTION
from miserymeter.store.faults import storage_error
from miserymeter.store.schema import TABLES, rooms

R = TypeVar("R", SecondRecord, MinuteSummary, Episode, ListenerEvent, ListenerStatus)


class StoreConnection:
    """A database's engine (and its writer, which SQLite serialises), named for messages."""

    def __init__(self, engine: Engine, *, name: str, busy_timeout_s: float) -> None:
        self.name = name
        self.busy_timeout_s = busy_timeout_s
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._reads = threading.local()  # the connection `reading` holds, per thread
        self._set_up: Callable[[], None] | None = None  # to do before the next use
        self._setting_up = threading.Lock()

    def set_up_at_first_use(self, set_up: Callable[[], None]) -> None:
        """Do `set_up` before the next use, once (what the server was down for at open): each use
        raises its StorageError until it succeeds."""
        self._set_up = set_up

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Ask the reads inside on one connection, in one transaction: a page that asks the
        store many questions waits for one connection's round trips (checked, begun, ended),
        not for those of each question. Per thread; nested, the outer one holds."""
        if getattr(self._reads, "connection", None) is not None:
            yield
            return
        with self._faults("read"), self._engine.connect() as connection:
            self._reads.connection = connection
            try:
                yield
            finally:
                self._reads.connection = None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The connection of `reading`, or one of the pool's for this read alone."""
        held: Connection | None = getattr(self._reads, "connection", None)
        if held is not None:
            yield held
            return
        with self._engine.connect() as connection:
            yield connection

    def close(self) -> None:
        """Close every connection (SQLite then folds its write-ahead log into the file)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
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
        query = select_rows(table, room=room)
        if since is not None:
            query = query.where(time >= since)
        if until is not None:
            query = query.where(time < until)
        return self._fetch(record_type, query.order_by(*time_order(table, time_column)))

    def _fetch(self, record_type: type[R], query: Select[Any]) -> list[R]:
        with self._faults("read"), self._connection() as connection:
            return [record_type(**row) for row in connection.execute(query).mappings()]

    def _change_entry(self, *statements: Any) -> None:
        with self._faults("write to"), self._writer.begin() as connection:
            for statement in statements:
                connection.execute(statement)

    @contextmanager
    def _faults(self, action: str) -> Iterator[None]:
        """Use the database (set up first, if it could not be at open), its faults as
        StorageErrors."""
        if self._set_up is not None:
            with self._setting_up:
                if self._set_up is not None:
                    self._set_up()
                    self._set_up = None
        with self._as_storage_errors(action):
            yield

    @contextmanager
    def _as_storage_errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except DBAPIError as e:
            raise storage_error(
                e, action=action, database=self.name, busy_timeout_s=self.busy_timeout_s
            ) from e


def select_rows(table: Table, *, room: str | None) -> Select[Any]:
    """The table's rows as record fields: its columns, with the room's name for `room_id`."""
    columns = [c for c in table.c if c.name != "room_id"]
    query = select(rooms.c.name.label("room"), *columns).join_from(table, rooms)
    return query if room is None else query.where(rooms.c.name == room)


def time_order(table: Table, time_column: str) -> list[ColumnElement[Any]]:
    """Time first, then the room's name and the rest of the key: a stable order."""
    rest = [c for c in table.primary_key.columns if c.name not in ("room_id", time_column)]
    return [table.c[time_column], rooms.c.name, *rest]
