"""Database faults are one-line StorageErrors, a failed write leaves nothing behind, and a killed
writer leaves a whole SQLite file: on real files, a tiny tmpfs, and a real PostgreSQL server."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from conftest import require_system
from miserymeter.errors import ServerUnreachable, StorageError
from miserymeter.records import SecondRecord
from miserymeter.sinks.store import StoreSink
from miserymeter.store import Store, open_store
from miserymeter.store.engines import OUR_MARK_TABLE
from miserymeter.store.schema import schema_version
from postgres_server import PostgresServer, postgres_available
from store_records import NIGHT_START, event
from store_writer import batch
from webhook_receiver import refused_port

TESTS_DIR = Path(__file__).parent
NIGHT_END = NIGHT_START + timedelta(hours=12)


def one_line_naming(error: pytest.ExceptionInfo[StorageError], database: str | Path) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert f"database {database}" in message, message
    return message


def seconds_of(n: int) -> list[SecondRecord]:
    """The SecondRecords of store_writer's batch n."""
    return [r for r in batch(n) if isinstance(r, SecondRecord)]


def night_seconds(store: Store) -> list[SecondRecord]:
    return store.seconds("nursery", NIGHT_START, NIGHT_END)


@pytest.fixture
def read_only_disk(tiny_disk: Path) -> Path:
    """A read-only tmpfs holding `existing.db`, a store with one event."""
    with open_store(tiny_disk / "existing.db") as store:
        store.write([event("nursery", 0.0)])
    subprocess.run(["mount", "-o", "remount,ro", tiny_disk], check=True)
    return tiny_disk


def test_a_database_locked_beyond_the_busy_timeout_fails_then_the_retry_succeeds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "miserymeter.db"
    store = open_store(path, busy_timeout_s=0.3)
    other_writer = sqlite3.connect(path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    started_s = time.monotonic()
    with pytest.raises(StorageError) as locked:
        store.write(batch(0))
    assert time.monotonic() - started_s >= 0.25
    assert "locked for over 0.3 s" in one_line_naming(locked, path)
    assert night_seconds(store) == []  # readers are not blocked by the writer
    other_writer.execute("ROLLBACK")
    store.write(batch(0))
    assert night_seconds(store) == seconds_of(0)
    store.close()


def test_a_lock_released_within_the_busy_timeout_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "miserymeter.db"
    open_store(path).close()
    other_writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_writer.execute("BEGIN IMMEDIATE")
    other_writer.execute("UPDATE schema_version SET version = version")
    started_s = time.monotonic()  # before the timer starts: it cannot fire earlier than 0.3 s on
    threading.Timer(0.3, other_writer.execute, ["COMMIT"]).start()
    # Opening reads the schema, then writes: it must wait for the lock before it reads.
    with open_store(path) as store:
        assert time.monotonic() - started_s >= 0.25
        store.write(batch(0))
        assert night_seconds(store) == seconds_of(0)
    other_writer.close()


def test_a_full_disk_fails_whole_batches_and_the_retry_succeeds(tiny_disk: Path) -> None:
    path = tiny_disk / "db" / "miserymeter.db"
    store = open_store(path)
    written: list[SecondRecord] = []
    for n in range(100):
        try:
            store.write(batch(n))
        except StorageError as e:
            message = str(e)
            break
        written += seconds_of(n)
    else:
        pytest.fail("a 256 KB disk held 100 minutes of records")
    assert "\n" not in message
    assert f"database {path}" in message and "disk is full" in message
    assert written and night_seconds(store) == written  # nothing of the failed batch
    subprocess.run(["mount", "-o", "remount,size=4m", tiny_disk], check=True)  # space freed
    store.write(batch(n))
    assert night_seconds(store) == [*written, *seconds_of(n)]
    store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("start,end,label\n" * 100)
    with pytest.raises(StorageError) as refused:
        open_store(path)
    assert "not a SQLite database" in one_line_naming(refused, path)


@pytest.mark.parametrize("name", ["existing.db", "new.db", "new-folder/miserymeter.db"])
def test_a_read_only_location_is_refused_when_opening(read_only_disk: Path, name: str) -> None:
    path = read_only_disk / name
    with pytest.raises(StorageError) as refused:
        open_store(path)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message and "writable" in message, message


def test_an_unreachable_postgresql_server_is_named_without_its_password() -> None:
    with refused_port() as port, pytest.raises(StorageError) as unreachable:
        open_store(f"postgresql://listener:secret@127.0.0.1:{port}/miserymeter")
    shown = f"postgresql://listener:***@127.0.0.1:{port}/miserymeter"
    assert "cannot reach the server" in one_line_naming(unreachable, shown)
    assert "secret" not in str(unreachable.value)


def test_a_missing_postgresql_database_or_user_is_named(postgres_server: PostgresServer) -> None:
    url = postgres_server.url("no_such_database")
    with pytest.raises(StorageError) as missing:
        open_store(url)
    message = one_line_naming(missing, url)
    assert '(database "no_such_database" does not exist): create the database' in message
    url = f"postgresql://nobody@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(StorageError) as unknown:
        open_store(url)
    assert '(role "nobody" does not exist): fix the user' in one_line_naming(unknown, url)


def test_writes_fail_while_postgresql_is_down_and_succeed_when_it_is_back() -> None:
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()
        store = open_store(url)
        store.write(batch(0))
        server.shut_down()
        with pytest.raises(StorageError) as down:
            store.write(batch(1))
        assert "cannot reach the server" in one_line_naming(down, url)
        server.start()
        store.write(batch(1))
        assert night_seconds(store) == [*seconds_of(0), *seconds_of(1)]
        store.close()
    finally:
        server.stop()


def test_a_store_opened_while_postgresql_is_down_creates_its_tables_once_it_answers() -> None:
    """`serve`'s way (server_may_be_down): the store opens anyway, each use fails while the
    server is down, and the first use once it answers creates the tables, from any thread."""
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()  # empty: no tables yet
        server.shut_down()
        with pytest.raises(ServerUnreachable):
            open_store(url)
        store = open_store(url, server_may_be_down=True)
        assert store.unreachable_at_open is not None
        assert "Connection refused" in store.unreachable_at_open.reason
        with pytest.raises(ServerUnreachable) as down:
            store.write(batch(0))
        assert "cannot reach the server" in one_line_naming(down, url)
        server.start()
        writers = [threading.Thread(target=store.write, args=(batch(n),)) for n in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert night_seconds(store) == [s for n in range(4) for s in seconds_of(n)]
        store.close()
    finally:
        server.stop()


def test_a_postgresql_server_shutting_down_is_unreachable_not_a_refusal_of_the_url() -> None:
    """A server stopping (or starting, after a power cut) refuses new connections without a
    SQLSTATE: that passes (a ServerUnreachable, which `serve` waits out), the URL is right."""
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()
        with open_store(url) as client:  # its connection, kept in its pool, holds the server
            server.shut_down_once_idle()
            refused = None
            while refused is None:  # until the server has heard that it is to stop
                try:
                    open_store(url).close()
                except StorageError as e:
                    refused = e
            assert isinstance(refused, ServerUnreachable), str(refused)
            assert refused.reason == "the database system is shutting down"
            assert str(refused).endswith("try again when it is back")
            assert client.rooms() == []  # the clients it has are still served
    finally:
        server.stop()


def test_records_held_at_stop_are_written_if_postgresql_is_back_in_time() -> None:
    """A sink stopped while its server is down tries its held records again (here until the
    test has restarted the server, its timeout far away): nothing is lost."""
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()
        store = open_store(url)
        sink = StoreSink(store, retry_s=0.05)
        server.shut_down()
        sink.handle(batch(0))
        stopping = threading.Thread(target=sink.finish, kwargs={"timeout_s": 600.0})
        stopping.start()
        server.start()
        stopping.join()
        assert sink.n_pending == 0 and sink.unstored() is None
        assert night_seconds(store) == seconds_of(0)
        store.close()
    finally:
        server.stop()


def run_writer_and_kill(
    path: Path, first: int, *, pause_s: float, rng: np.random.Generator
) -> list[int]:
    """Start store_writer.py, SIGKILL it at a random moment after its 5th batch; the batches
    it reported as written."""
    writer = subprocess.Popen(
        [sys.executable, TESTS_DIR / "store_writer.py", str(path), str(first), str(pause_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    reported = [int(writer.stdout.readline()) for _ in range(5)]
    time.sleep(float(rng.uniform(0.0, 0.2)))
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    return reported + [int(line) for line in rest.split()]


def test_a_writer_killed_mid_run_leaves_a_whole_database(tmp_path: Path) -> None:
    path = tmp_path / "miserymeter.db"
    rng = np.random.default_rng(3)
    reported: list[int] = []
    # A batch every 0.05 s, as the listener writes; then back to back, so that the kill very
    # likely lands inside a transaction. Each run recovers what the last one left.
    for pause_s in (0.05, 0.05, 0.0):
        first = reported[-1] + 1 if reported else 0
        reported += run_writer_and_kill(path, first, pause_s=pause_s, rng=rng)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with open_store(path) as store:
        stored = night_seconds(store)
    # Every reported batch is there, whole; the batch a run was writing when it was killed may
    # be there too (committed, not yet reported), whole.
    present = sorted({round(s.offset_s) // 60 for s in stored})
    assert set(reported) <= set(present) and len(present) - len(reported) <= 3
    assert stored == [s for n in present for s in seconds_of(n)]


def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """`listen --db ~/notes.db` by mistake: no tables of ours added, no WAL mode turned on."""
    other = tmp_path / "notes.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (day TEXT, text TEXT)")
        db.execute("INSERT INTO notes VALUES ('monday', 'buy milk')")
    before = other.read_bytes()
    with pytest.raises(StorageError) as error:
        open_store(other)
    line = one_line_naming(error, other)
    assert "another program's" in line and "notes" in line
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
    assert schema_version.name == OUR_MARK_TABLE
    open_store(tmp_path / "ours.db").close()
    open_store(tmp_path / "ours.db").close()  # ours is ours
