"""The store on real databases: every test runs on a new SQLite file and on a new database of a
real PostgreSQL server (the `store_target` fixture)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect

from miserymeter.detect.minutes import summarize
from miserymeter.errors import StorageError
from miserymeter.paths import default_db_path
from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    SecondRecord,
)
from miserymeter.store import Store, StoredRecord, open_store
from miserymeter.store.schema import SCHEMA_VERSION
from postgres_server import PostgresServer, tables_bytes
from store_records import NIGHT_START, episode, event, minute_of_records


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with open_store(store_target) as opened:
        yield opened


def of_type(records: list[StoredRecord], record_type: type) -> list:
    return [r for r in records if isinstance(r, record_type)]


def at(seconds: float) -> datetime:
    return NIGHT_START + timedelta(seconds=seconds)


def two_rooms(n_minutes: int = 2) -> list[StoredRecord]:
    """Minutes of the nursery and the attic, two episodes and events, interleaved."""
    rng = np.random.default_rng(7)
    records: list[StoredRecord] = []
    for minute in range(n_minutes):
        records += minute_of_records("nursery", minute, rng=rng)
        records += minute_of_records("attic", minute, rng=rng)
    return [
        *records,
        episode("nursery", 10.0, 30.5),
        episode("attic", 5.0, 20.0, detector="rms"),
        event("nursery", 0.0),
        event("attic", 0.5, "input_lost", "the microphone is gone"),
    ]


def test_a_mixed_batch_reads_back_equal(store: Store) -> None:
    records = two_rooms()
    store.write(records)
    assert store.rooms() == ["attic", "nursery"]
    end = at(3600)
    for room in ("nursery", "attic"):
        mine = [r for r in records if r.room == room]
        assert store.seconds(room, NIGHT_START, end) == of_type(mine, SecondRecord)
        assert store.minutes(room, NIGHT_START, end) == of_type(mine, MinuteSummary)
        assert store.episodes(room=room) == of_type(mine, Episode)
        assert store.events(room=room) == of_type(mine, ListenerEvent)
    # Every room, in time order.
    assert store.episodes() == [records[-3], records[-4]]
    assert store.events() == [records[-2], records[-1]]
    gated = [s for s in store.seconds("nursery", NIGHT_START, end) if s.top_label is None]
    assert gated and all(s.crying_probability is None for s in gated)


def test_ranges_include_since_and_exclude_until(store: Store) -> None:
    records = two_rooms()
    store.write(records)
    seconds = store.seconds("nursery", at(10), at(20))
    assert [s.offset_s for s in seconds] == [float(k) for k in range(10, 20)]
    assert [m.start for m in store.minutes("attic", at(0), at(60))] == [at(0)]
    assert [m.start for m in store.minutes("attic", at(1), at(121))] == [at(60)]
    assert store.events(since=at(0.5)) == [records[-1]]
    assert store.events(until=at(0.5)) == [records[-2]]
    assert store.seconds("kitchen", at(0), at(60)) == []


def test_episodes_that_overlap_the_range_are_returned(store: Store) -> None:
    nursery = episode("nursery", 10.0, 30.0)  # 10 s to 40 s
    store.write([nursery])
    assert store.episodes(since=at(39), until=at(50)) == [nursery]
    assert store.episodes(since=at(0), until=at(11)) == [nursery]
    assert store.episodes(since=at(40)) == []
    assert store.episodes(until=at(10)) == []
    assert store.episodes(room="attic") == []


def test_writing_a_batch_again_stores_it_once(store: Store) -> None:
    records = two_rooms(n_minutes=1)
    store.write(records)
    store.write(records)
    store.write(records[:10])
    assert store.seconds("attic", at(0), at(60)) == of_type(
        [r for r in records if r.room == "attic"], SecondRecord
    )
    assert len(store.episodes()) == 2
    assert len(store.events()) == 2


def test_a_minute_written_in_parts_is_stored_whole(store: Store) -> None:
    """A listener restarted within a minute: each run writes its part of it; a part written
    again (a retried batch) is not counted twice."""
    heard = of_type(minute_of_records("nursery", 0, rng=np.random.default_rng(3)), SecondRecord)
    first, second = heard[:25], heard[35:]
    store.write([*first, summarize(first)])
    store.write([*second, summarize(second)])
    store.write([*first, summarize(first)])
    (stored,) = store.minutes("nursery", at(-1), at(60))
    assert stored == summarize([*first, *second]) and stored.n_seconds == 50
    assert (summarize(first).first_second, summarize(second).first_second) == (0, 35)


def test_a_record_of_a_stored_key_replaces_it(store: Store) -> None:
    growing = episode("nursery", 10.0, 30.0)
    store.write([growing, episode("nursery", 10.0, 5.0, detector="rms")])
    grown = replace(growing, end=at(70.0), end_offset_s=70.0, clip_path=None)
    store.write([grown, replace(event("nursery", 0.0), message="again")])
    assert store.episodes() == [grown, episode("nursery", 10.0, 5.0, detector="rms")]
    assert store.events() == [replace(event("nursery", 0.0), message="again")]


def test_a_failed_write_stores_nothing_and_can_be_retried(store: Store) -> None:
    store.write([event("nursery", 0.0)])
    records = [*two_rooms(n_minutes=1), episode("kitchen", 3.0, 4.0)]
    # NOT NULL fails on the last table, after every other table's rows went in.
    broken = [*records, replace(event("kitchen", 9.0), kind=None)]  # type: ignore[arg-type]
    with pytest.raises(StorageError) as failure:
        store.write(broken)
    assert "\n" not in str(failure.value)
    assert store.rooms() == ["nursery"]
    assert store.seconds("attic", at(0), at(60)) == []
    assert store.episodes() == []
    assert store.events() == [event("nursery", 0.0)]
    # The rooms the failed batch added were rolled back with it, and are added again.
    store.write(records)
    assert store.rooms() == ["attic", "kitchen", "nursery"]
    assert store.episodes(room="kitchen") == [records[-1]]
    assert len(store.seconds("attic", at(0), at(60))) == 60


def test_a_thread_writes_while_another_reads(store: Store) -> None:
    rng = np.random.default_rng(1)
    batches = [minute_of_records("nursery", minute, rng=rng) for minute in range(20)]

    def write_all() -> None:
        for batch in batches:
            store.write(batch)

    writer = threading.Thread(target=write_all)
    writer.start()
    seen = [len(store.seconds("nursery", at(0), at(1200))) for _ in range(20)]
    writer.join()
    assert seen == sorted(seen) and all(n % 60 == 0 for n in seen)  # whole batches only
    assert len(store.seconds("nursery", at(0), at(1200))) == 1200


def test_records_are_kept_across_reopening(store_target: str) -> None:
    records = two_rooms(n_minutes=1)
    with open_store(store_target) as store:
        store.write(records[:30])
    with open_store(store_target) as store:
        store.write(records[30:])
        assert store.seconds("nursery", at(0), at(60)) == of_type(records[:60], SecondRecord)
        assert len(store.events()) == 2


def test_a_database_of_another_schema_version_is_refused(store_target: str) -> None:
    open_store(store_target).close()
    with open_store(store_target) as store, store._engine.begin() as connection:
        connection.exec_driver_sql("UPDATE schema_version SET version = 99")
    with pytest.raises(StorageError, match="schema version 99") as refused:
        open_store(store_target)
    assert "\n" not in str(refused.value)


def status(room: str, minute: int, *, n_dropped: int = 0) -> ListenerStatus:
    return ListenerStatus(room, at(60.0 * minute), 60.0, 2.5 + minute, n_dropped)


def test_listener_statuses_read_back_per_room_in_order(store: Store) -> None:
    store.write([status("nursery", 2, n_dropped=3), status("attic", 1), status("nursery", 1)])
    found = store.statuses("nursery", at(60.0), at(180.0))
    assert found == [status("nursery", 1), status("nursery", 2, n_dropped=3)]
    assert store.statuses("nursery", at(61.0), at(120.0)) == []


def test_a_version_2_database_gets_the_newer_tables_and_keeps_its_records(
    store_target: str,
) -> None:
    records = two_rooms(n_minutes=1)
    with open_store(store_target) as store:
        store.write(records)
        with store._engine.begin() as connection:  # as version 2 left it
            connection.exec_driver_sql("DROP TABLE listener_status")
            connection.exec_driver_sql("DROP TABLE outbox_taken")
            connection.exec_driver_sql("UPDATE schema_version SET version = 2")
    with open_store(store_target) as store:
        with store._engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version FROM schema_version").scalar()
        assert version == SCHEMA_VERSION == 4
        assert store.events() == of_type(records, ListenerEvent)
        store.write([status("nursery", 0, n_dropped=1)])
        assert store.statuses("nursery", at(0.0), at(60.0)) == [status("nursery", 0, n_dropped=1)]


def test_a_database_without_the_episodes_end_index_gets_it_and_keeps_its_version(
    store_target: str,
) -> None:
    records = two_rooms(n_minutes=1)
    with open_store(store_target) as store:
        store.write(records)
        with store._engine.begin() as connection:  # as the schema left it before the index
            connection.exec_driver_sql("DROP INDEX episodes_end")
    with open_store(store_target) as store:
        indexes = [i["name"] for i in inspect(store._engine).get_indexes("episodes")]
        with store._engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version FROM schema_version").scalar()
        assert "episodes_end" in indexes and version == SCHEMA_VERSION
        assert store.episodes() == sorted(of_type(records, Episode), key=lambda e: e.start)


def test_naive_times_and_foreign_records_are_refused(store: Store) -> None:
    naive = SecondRecord("nursery", datetime(2026, 11, 25, 1, 0), 0.0, -50.0, None, None)
    with pytest.raises(Exception, match="naive datetime"):
        store.write([naive])
    with pytest.raises(TypeError, match="does not keep str"):
        store.write(["crying"])  # type: ignore[list-item]
    assert store.rooms() == []


def store_bytes(target: str) -> int:
    """The size of a closed store: its SQLite file, or its PostgreSQL tables and indexes."""
    if target.startswith("postgresql://"):
        return tables_bytes(target)
    return Path(target).stat().st_size


# Per second of audio: an hour takes 44 and 125 bytes (`make bench-store`: 48 and 111 over a
# night, fixed costs included). Text timestamps or a second index on the seconds break these.
BYTES_PER_SECOND = {"sqlite": 55, "postgresql": 140}


def test_an_hour_of_records_stays_small(store_target: str) -> None:
    open_store(store_target).close()
    empty_bytes = store_bytes(store_target)
    rng = np.random.default_rng(0)
    with open_store(store_target) as store:
        for minute in range(60):
            store.write(minute_of_records("nursery", minute, rng=rng))
    hour_bytes = store_bytes(store_target) - empty_bytes
    backend = "postgresql" if store_target.startswith("postgresql://") else "sqlite"
    assert hour_bytes < 3600 * BYTES_PER_SECOND[backend]


def test_sqlite_is_a_wal_file_in_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "miserymeter.db"
    with open_store(f"sqlite:///{path}") as store:
        store.write(two_rooms(n_minutes=1))
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM seconds").fetchone() == (120,)


def test_the_default_database_is_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    open_store(default_db_path()).close()
    assert (tmp_path / "data" / "miserymeter" / "miserymeter.db").is_file()


def test_postgresql_stores_utc_timestamps(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    with open_store(url) as store:
        store.write([event("nursery", 0.25)])
    database = url.rsplit("/", 1)[1]
    shown = postgres_server.psql("SET TIME ZONE 'UTC'; SELECT at FROM events", database=database)
    assert shown.strip().splitlines()[-1] == "2026-11-24 19:00:00.500123+00"
