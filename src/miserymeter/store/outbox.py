"""The outbox: events bound for a destination, kept in the store until the destination took them.

An entry is queued in the same transaction as the records that made its event (`Store.write`),
so nothing is announced that was not stored, and nothing stored is forgotten by a restart. A
courier reads a destination's oldest pending entries of its room, in queue order (`seq`), and
deletes each once delivered; an entry the destination refused for good is kept, marked
rejected, and no longer read. Queuing an event twice for one destination stores it once. For a
destination of several parts (the push URLs of [notify]) it keeps which parts took an entry
already (`outbox_taken`), so that a retry, also after a restart, goes to the others only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from miserymeter.events import Event
from miserymeter.store.connection import StoreConnection
from miserymeter.store.schema import outbox, outbox_taken, rooms


@dataclass(frozen=True)
class OutboxEntry:
    """`event`, to be sent to the destination named `destination`."""

    destination: str
    event: Event


@dataclass(frozen=True)
class PendingEntry:
    """An entry waiting in the outbox: its place in the queue, how often it was tried, and
    which parts of its destination took it already."""

    seq: int
    event: Event
    attempts: int
    last_error: str | None
    taken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OutboxCounts:
    """How many entries of a destination wait, and how many it refused for good."""

    n_pending: int
    n_rejected: int


@dataclass(frozen=True)
class Undelivered:
    """What a room's events failed to reach at a destination: how many wait after a failed
    attempt, how many it refused, since when, and the latest reason."""

    destination: str
    n_waiting: int
    n_refused: int
    since: datetime
    last_error: str | None


def entry_row(entry: OutboxEntry, room_id: int) -> dict[str, Any]:
    """The outbox row of `entry` (its event's room already resolved to `room_id`)."""
    event = entry.event
    return {
        "destination": entry.destination,
        "event_id": event.id,
        "room_id": room_id,
        "at": event.at,
        "kind": event.kind,
        "data": event.data,
    }


def pending_query(destination: str, *, room: str, limit: int) -> Select[Any]:
    """The oldest `limit` entries of `destination` and `room` that are neither sent nor refused."""
    return (
        select(
            outbox.c.seq,
            outbox.c.event_id,
            rooms.c.name.label("room"),
            outbox.c.at,
            outbox.c.kind,
            outbox.c.data,
            outbox.c.attempts,
            outbox.c.last_error,
        )
        .join_from(outbox, rooms)
        .where(outbox.c.destination == destination, rooms.c.name == room, ~outbox.c.rejected)
        .order_by(outbox.c.seq)
        .limit(limit)
    )


def pending_entry(row: Any, *, taken: frozenset[str] = frozenset()) -> PendingEntry:
    """A row of `pending_query` as a PendingEntry, taken already by the parts `taken`."""
    event = Event(row.event_id, row.room, row.at, row.kind, row.data)
    return PendingEntry(row.seq, event, row.attempts, row.last_error, taken)


def taken_query(seqs: list[int]) -> Select[Any]:
    """(seq, part) of the parts that took the outbox entries `seqs` already."""
    return select(outbox_taken.c.seq, outbox_taken.c.part).where(outbox_taken.c.seq.in_(seqs))


def counts_query(destination: str, *, room: str | None) -> Select[Any]:
    """(rejected, count) of `destination`'s entries of `room` (None: every room)."""
    query = select(outbox.c.rejected, func.count()).where(outbox.c.destination == destination)
    if room is not None:
        query = query.join_from(outbox, rooms).where(rooms.c.name == room)
    return query.group_by(outbox.c.rejected)


def undelivered_query(room: str, *, refused_since: datetime) -> Select[Any]:
    """(destination, waiting, refused, oldest time, latest seq tried), a row per destination
    that failed `room`'s entries: all of them that still wait (tried, or queued behind those),
    and those refused for good since `refused_since`. A destination none of whose entries was
    tried yet is not one: they are on their way."""
    tried = outbox.c.attempts > 0
    return (
        select(
            outbox.c.destination,
            func.count().filter(~outbox.c.rejected),
            func.count().filter(outbox.c.rejected),
            func.min(outbox.c.at),
            func.max(outbox.c.seq).filter(tried),
        )
        .join_from(outbox, rooms)
        .where(rooms.c.name == room, ~outbox.c.rejected | (outbox.c.at >= refused_since))
        .group_by(outbox.c.destination)
        .having(func.count().filter(tried) > 0)
        .order_by(outbox.c.destination)
    )


def errors_query(seqs: list[int]) -> Select[Any]:
    """(seq, last error) of the outbox entries `seqs`."""
    return select(outbox.c.seq, outbox.c.last_error).where(outbox.c.seq.in_(seqs))


class OutboxQueue(StoreConnection):
    """The outbox's queue: entries waiting per destination, delivered, failed or refused."""

    def pending(self, destination: str, *, room: str, limit: int = 100) -> list[PendingEntry]:
        """The oldest `limit` entries of `room` waiting for `destination`, oldest first."""
        query = pending_query(destination, room=room, limit=limit)
        with self._faults("read"), self._engine.connect() as connection:
            rows = connection.execute(query).all()
            taken: dict[int, set[str]] = {}
            if rows:
                for seq, part in connection.execute(taken_query([row.seq for row in rows])):
                    taken.setdefault(seq, set()).add(part)
        return [pending_entry(row, taken=frozenset(taken.get(row.seq, ()))) for row in rows]

    def delivered(self, seq: int) -> None:
        """The outbox entry `seq` reached its destination: forget it (and its parts taken)."""
        self._change_entry(
            delete(outbox_taken).where(outbox_taken.c.seq == seq),
            delete(outbox).where(outbox.c.seq == seq),
        )

    def taken(self, seq: int, part: str) -> None:
        """The part `part` of its destination (one push URL) took entry `seq`: it is not sent
        there again, also after a restart, while the other parts are tried."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(outbox_taken).on_conflict_do_nothing()
        self._change_entry(insert.values(seq=seq, part=part))

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
        """Per destination that failed `room`'s events, those not sent to it: still waiting
        (tried, or queued behind), or refused for good since `refused_since`; sorted by
        destination name."""
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
