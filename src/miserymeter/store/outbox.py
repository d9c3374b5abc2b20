"""The outbox: events bound for a destination, kept in the store until the destination took them.

An entry is queued in the same transaction as the records that made its event (`Store.write`),
so nothing is announced that was not stored, and nothing stored is forgotten by a restart. A
courier reads a destination's oldest pending entries of its room, in queue order (`seq`), and
deletes each once delivered; an entry the destination refused for good is kept, marked
rejected, and no longer read. Queuing an event twice for one destination stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from miserymeter.events import Event
from miserymeter.store.schema import outbox, rooms


@dataclass(frozen=True)
class OutboxEntry:
    """`event`, to be sent to the destination named `destination`."""

    destination: str
    event: Event


@dataclass(frozen=True)
class PendingEntry:
    """An entry waiting in the outbox: its place in the queue and how often it was tried."""

    seq: int
    event: Event
    attempts: int
    last_error: str | None


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


def pending_entry(row: Any) -> PendingEntry:
    """A row of `pending_query` as a PendingEntry."""
    event = Event(row.event_id, row.room, row.at, row.kind, row.data)
    return PendingEntry(row.seq, event, row.attempts, row.last_error)


def counts_query(destination: str, *, room: str | None) -> Select[Any]:
    """(rejected, count) of `destination`'s entries of `room` (None: every room)."""
    query = select(outbox.c.rejected, func.count()).where(outbox.c.destination == destination)
    if room is not None:
        query = query.join_from(outbox, rooms).where(rooms.c.name == room)
    return query.group_by(outbox.c.rejected)


def undelivered_query(room: str, *, refused_since: datetime) -> Select[Any]:
    """(destination, waiting, refused, oldest time, latest seq), a row per destination, of
    `room`'s entries that were tried and failed: all that still wait, and those refused for good
    since `refused_since`. Entries not yet tried are on their way, not undelivered."""
    return (
        select(
            outbox.c.destination,
            func.count().filter(~outbox.c.rejected),
            func.count().filter(outbox.c.rejected),
            func.min(outbox.c.at),
            func.max(outbox.c.seq),
        )
        .join_from(outbox, rooms)
        .where(
            rooms.c.name == room,
            outbox.c.attempts > 0,
            ~outbox.c.rejected | (outbox.c.at >= refused_since),
        )
        .group_by(outbox.c.destination)
        .order_by(outbox.c.destination)
    )


def errors_query(seqs: list[int]) -> Select[Any]:
    """(seq, last error) of the outbox entries `seqs`."""
    return select(outbox.c.seq, outbox.c.last_error).where(outbox.c.seq.in_(seqs))
