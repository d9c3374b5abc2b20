"""The tables, in SQLAlchemy Core: one per record type, `rooms`, the outbox, the schema version.

Columns are named after the record fields they hold, so a row maps back to its dataclass.
Each record table refers to its room by `room_id`, a small integer, and keys its rows on
(room, time): the dashboard's queries are "this room, this stretch of time". Times are UTC:
`timestamptz` in PostgreSQL, integer microseconds since the epoch in SQLite (8 bytes, where
SQLAlchemy's ISO text would take 26). On SQLite the big tables are WITHOUT ROWID, so the
primary key is the table and no second copy of the key is kept in an index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import BigInteger, TypeDecorator, TypeEngine

from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    SecondRecord,
)

# Bump when a table changes; a database of another version is refused unless it is in
# UPGRADABLE_FROM: versions whose upgrade only adds tables (`create_all` adds them). An index
# added to an existing table needs no bump: opening a database creates the missing ones.
SCHEMA_VERSION = 4
# 1 → 2 added `outbox`; 2 → 3 added `listener_status`; 3 → 4 added `outbox_taken`.
UPGRADABLE_FROM = (1, 2, 3)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored and returned in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value}: the store needs UTC times")
        if dialect.name == "sqlite":
            return (value - EPOCH) // ONE_US
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return EPOCH + value * ONE_US
        return value.astimezone(UTC)


metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

rooms = Table(
    "rooms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
)


def _room_id() -> Column[int]:
    return Column("room_id", ForeignKey("rooms.id"), nullable=False)


# Fixed-width columns first: PostgreSQL pads each column to its alignment.
seconds = Table(
    "seconds",
    metadata,
    Column("at", UtcDateTime, nullable=False),
    Column("offset_s", Double, nullable=False),
    Column("level_dbfs", Double, nullable=False),
    Column("crying_probability", Double),
    _room_id(),
    Column("top_label", Text),
    PrimaryKeyConstraint("room_id", "at"),
    sqlite_with_rowid=False,
)

minutes = Table(
    "minutes",
    metadata,
    Column("start", UtcDateTime, nullable=False),
    Column("mean_level_dbfs", Double, nullable=False),
    Column("max_level_dbfs", Double, nullable=False),
    Column("crying_fraction", Double, nullable=False),
    _room_id(),
    Column("n_seconds", Integer, nullable=False),
    Column("top_label", Text, nullable=False),
    PrimaryKeyConstraint("room_id", "start"),
    sqlite_with_rowid=False,
)

episodes = Table(
    "episodes",
    metadata,
    Column("start", UtcDateTime, nullable=False),
    Column("end", UtcDateTime, nullable=False),
    Column("start_offset_s", Double, nullable=False),
    Column("end_offset_s", Double, nullable=False),
    Column("confirmed_offset_s", Double, nullable=False),
    Column("peak_probability", Double, nullable=False),
    Column("mean_probability", Double, nullable=False),
    _room_id(),
    Column("detector", Text, nullable=False),
    Column("clip_path", Text),
    PrimaryKeyConstraint("room_id", "start", "detector"),
    # Every room's episodes of tonight, or of the past day, without reading their older ones.
    Index("episodes_end", "end"),
)

events = Table(
    "events",
    metadata,
    Column("at", UtcDateTime, nullable=False),
    _room_id(),
    Column("kind", Text, nullable=False),
    Column("message", Text, nullable=False),
    PrimaryKeyConstraint("room_id", "at", "kind"),
)

# The listener's CPU use and dropped windows, once a minute: what the health badge shows.
listener_status = Table(
    "listener_status",
    metadata,
    Column("at", UtcDateTime, nullable=False),
    Column("period_s", Double, nullable=False),
    Column("cpu_percent", Double, nullable=False),
    _room_id(),
    Column("n_dropped", Integer, nullable=False),
    PrimaryKeyConstraint("room_id", "at"),
)

# Events waiting for a destination (webhook, MQTT...), in the order they were queued (`seq`);
# a row is deleted once delivered, and kept with `rejected` set if the destination refused it.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    _room_id(),
    Column("attempts", Integer, nullable=False, default=0),
    Column("rejected", Boolean, nullable=False, default=False),
    Column("destination", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("last_error", Text),
    UniqueConstraint("destination", "event_id"),
    Index("outbox_pending", "destination", "room_id", "rejected", "seq"),
)

# The parts of a destination (the push URLs of [notify]) that took an outbox entry already, so
# that sending it again, also after a restart, goes to the others only; deleted with the entry
# (SQLite reuses the `seq` of a deleted last entry).
outbox_taken = Table(
    "outbox_taken",
    metadata,
    Column("seq", ForeignKey("outbox.seq"), nullable=False),
    Column("part", Text, nullable=False),
    PrimaryKeyConstraint("seq", "part"),
)

# What the store keeps of the listener's records (all but the announcements, CryingStarted).
StoredRecord = SecondRecord | MinuteSummary | Episode | ListenerEvent | ListenerStatus

# Each record type, its table, and the column that orders it in time.
TABLES: dict[type[StoredRecord], tuple[Table, str]] = {
    SecondRecord: (seconds, "at"),
    MinuteSummary: (minutes, "start"),
    Episode: (episodes, "start"),
    ListenerEvent: (events, "at"),
    ListenerStatus: (listener_status, "at"),
}
