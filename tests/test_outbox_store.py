"""The outbox in a real database (SQLite and PostgreSQL): queued with the records, read in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from miserymeter.events import Event, events_from
from miserymeter.records import ListenerEvent, MinuteSummary, SecondRecord
from miserymeter.store import open_store
from miserymeter.store.outbox import OutboxCounts, OutboxEntry, Undelivered
from miserymeter.store.schema import SCHEMA_VERSION

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
HOOK = "webhook:example.org/hook"
OTHER = "mqtt:broker/miserymeter"
NOTIFY = "notify"


def minute(room: str, n: int) -> MinuteSummary:
    return MinuteSummary(room, START + timedelta(minutes=n), 60, -50.0, -40.0, 0.0, "_silence_")


def entries(events: list[Event], destination: str = HOOK) -> list[OutboxEntry]:
    return [OutboxEntry(destination, e) for e in events]


def test_events_are_queued_with_their_records_and_read_in_order(store_target: str) -> None:
    records = [minute("blue", n) for n in range(5)]
    events = events_from(records)
    with open_store(store_target) as store:
        store.write(records[:3], outbox=entries(events[:3]))
        store.write(records[3:], outbox=entries(events[3:]) + entries(events, OTHER))
        store.write([], outbox=entries(events[:2]))  # queued twice: stored once
        pending = store.pending(HOOK, room="blue")
        assert [p.event for p in pending] == events
        assert [p.seq for p in pending] == sorted(p.seq for p in pending)
        assert store.pending(HOOK, room="blue", limit=2) == pending[:2]
        assert store.pending(HOOK, room="green") == []
        assert len(store.minutes("blue", START, START + timedelta(hours=1))) == 5
    with open_store(store_target) as store:  # and kept across reopening
        assert [p.event for p in store.pending(OTHER, room="blue")] == events


def test_a_failed_write_queues_nothing(store_target: str) -> None:
    event = events_from([minute("blue", 0)])[0]
    naive = SecondRecord("blue", datetime(2026, 11, 25, 1, 0), 0.0, -50.0, None, None)
    with open_store(store_target) as store:
        with pytest.raises(Exception, match="naive datetime"):
            store.write([naive], outbox=entries([event]))
        assert store.pending(HOOK, room="blue") == []


def test_delivered_entries_go_and_rejected_ones_stay_out_of_the_queue(store_target: str) -> None:
    records = [minute("blue", n) for n in range(4)] + [minute("green", 0)]
    events = events_from(records)
    with open_store(store_target) as store:
        store.write(records, outbox=entries(events))
        first, second, third, fourth = store.pending(HOOK, room="blue")
        store.delivered(first.seq)
        store.failed(second.seq, "HTTP 503")
        store.failed(second.seq, "HTTP 502")
        store.rejected(third.seq, "HTTP 400")
        retried, last = store.pending(HOOK, room="blue")
        assert retried.event == second.event
        assert (retried.attempts, retried.last_error) == (2, "HTTP 502")
        assert last == fourth
        assert store.outbox_counts(HOOK) == OutboxCounts(n_pending=3, n_rejected=1)
        assert store.outbox_counts(HOOK, room="blue") == OutboxCounts(n_pending=2, n_rejected=1)
        assert store.outbox_counts(HOOK, room="green") == OutboxCounts(n_pending=1, n_rejected=0)
        assert store.outbox_counts(OTHER) == OutboxCounts(0, 0)


def test_undelivered_counts_only_what_failed_per_destination(store_target: str) -> None:
    """What the dashboard warns of: a destination that failed, every entry still waiting for
    it (tried, or queued behind) and those refused; nothing of those merely on their way."""
    records = [minute("blue", n) for n in range(5)] + [minute("green", 0)]
    events = events_from(records)
    with open_store(store_target) as store:
        store.write(records, outbox=entries(events) + entries(events[:2], OTHER))
        tonight = START
        assert store.undelivered("blue", refused_since=tonight) == []  # queued, not yet tried
        first, second, third, fourth, _ = store.pending(HOOK, room="blue")
        store.failed(second.seq, "HTTP 503")
        store.rejected(third.seq, "HTTP 400")
        store.failed(fourth.seq, "cannot reach example.org (refused)")
        store.failed(first.seq, "HTTP 502")
        store.delivered(first.seq)  # sent in the end: no longer undelivered
        (broker_entry, _) = store.pending(OTHER, room="blue")
        store.failed(broker_entry.seq, "broker down")
        assert store.undelivered("blue", refused_since=tonight) == [
            Undelivered(OTHER, 2, 0, START, "broker down"),  # the second queued behind
            Undelivered(
                HOOK, 3, 1, START + timedelta(minutes=1), "cannot reach example.org (refused)"
            ),
        ]
        # refused before tonight: no longer shown; still waiting: shown whenever queued
        assert store.undelivered("blue", refused_since=START + timedelta(minutes=3)) == [
            Undelivered(OTHER, 2, 0, START, "broker down"),
            Undelivered(
                HOOK, 3, 0, START + timedelta(minutes=1), "cannot reach example.org (refused)"
            ),
        ]
        assert store.undelivered("green", refused_since=tonight) == []


def test_the_parts_that_took_an_entry_are_kept_until_it_is_delivered(store_target: str) -> None:
    first, second, third = events_from([minute("blue", n) for n in range(3)])
    with open_store(store_target) as store:
        store.write([], outbox=entries([first, second], NOTIFY))
        entry, _ = store.pending(NOTIFY, room="blue")
        store.taken(entry.seq, "url-a")
        store.taken(entry.seq, "url-b")
        store.taken(entry.seq, "url-a")  # told twice: kept once
        store.failed(entry.seq, "HTTP 500")
    with open_store(store_target) as store:  # kept across a restart
        retried, other = store.pending(NOTIFY, room="blue")
        assert retried.event == first and retried.taken == {"url-a", "url-b"}
        assert other.event == second and other.taken == frozenset()
        store.delivered(other.seq)
        store.delivered(retried.seq)
        store.write([], outbox=entries([third], NOTIFY))  # SQLite may give it a delivered seq
        (new,) = store.pending(NOTIFY, room="blue")
        assert new.event == third and new.taken == frozenset()


def test_a_version_3_database_gets_outbox_taken_and_keeps_its_outbox(store_target: str) -> None:
    event = events_from([minute("blue", 0)])[0]
    with open_store(store_target) as store:
        store.write([], outbox=entries([event], NOTIFY))
        with store._engine.begin() as connection:  # as version 3 left it
            connection.exec_driver_sql("DROP TABLE outbox_taken")
            connection.exec_driver_sql("UPDATE schema_version SET version = 3")
    with open_store(store_target) as store:
        with store._engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version FROM schema_version").scalar()
        assert version == SCHEMA_VERSION == 4
        (entry,) = store.pending(NOTIFY, room="blue")
        store.taken(entry.seq, "url-a")
        assert store.pending(NOTIFY, room="blue") == [replace(entry, taken=frozenset({"url-a"}))]


def test_listener_events_keep_their_fields(store_target: str) -> None:
    event = events_from([ListenerEvent("blue", START, "started", "listening to x")])[0]
    with open_store(store_target) as store:
        store.write([], outbox=entries([event]))
        (pending,) = store.pending(HOOK, room="blue")
    assert pending.event == event and pending.event.to_json() == event.to_json()


def test_a_version_1_database_gets_the_outbox_and_keeps_its_records(store_target: str) -> None:
    with open_store(store_target) as store:
        store.write([minute("blue", 0)])
        with store._engine.begin() as connection:  # as version 1 left it: no outbox
            connection.exec_driver_sql("DROP TABLE outbox_taken")
            connection.exec_driver_sql("DROP TABLE outbox")
            connection.exec_driver_sql("DROP TABLE listener_status")
            connection.exec_driver_sql("UPDATE schema_version SET version = 1")
    with open_store(store_target) as store:
        assert "outbox" in inspect(store._engine).get_table_names()
        with store._engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version FROM schema_version").scalar()
        assert version == SCHEMA_VERSION == 4
        assert store.minutes("blue", START, START + timedelta(hours=1)) == [minute("blue", 0)]
        event = events_from([minute("blue", 1)])[0]
        store.write([], outbox=entries([event]))
        assert [p.event for p in store.pending(HOOK, room="blue")] == [event]
