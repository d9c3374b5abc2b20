"""`listen` into a real database: SQLite or PostgreSQL, through SIGKILL and a full disk."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import soundfile as sf

from conftest import (
    CliRunner,
    assert_one_error_line,
    cli_command,
    cli_env,
    mount_tmpfs,
    require_system,
)
from miserymeter.events import MINUTE
from miserymeter.store import open_store
from postgres_server import PostgresServer, postgres_available
from test_listen import RATE_HZ, small_night
from webhook_receiver import WebhookReceiver

WAIT_S = 60.0
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("night") / "night.flac"
    sf.write(path, small_night(), RATE_HZ)
    return path


def test_a_night_is_stored_in_both_databases(
    night: Path, store_target: str, run_cli: CliRunner
) -> None:
    process = run_cli(
        "listen", "--input", night, "--json", "--no-clips", "--db", store_target, "--room", "blue"
    )
    assert process.returncode == 0, process.stderr
    printed = json.loads(process.stdout)
    with open_store(store_target) as store:
        assert store.rooms() == ["blue"]
        assert len(store.seconds("blue", SINCE, UNTIL)) == 88
        minutes = store.minutes("blue", SINCE, UNTIL)  # wall-clock minutes: 2 or 3 of them
        assert sum(m.n_seconds for m in minutes) == 88 and len(minutes) in (2, 3)
        (episode,) = store.episodes(room="blue")
        assert (episode.start_offset_s, episode.end_offset_s) == (
            printed["start_s"],
            printed["end_s"],
        )
        kinds = [e.kind for e in store.events(room="blue")]
    assert kinds[0] == "started" and kinds[-1] == "stopped"


def n_seconds_stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM seconds").fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def wait_until_stored(db: Path, n_seconds: int) -> None:
    deadline_s = time.monotonic() + WAIT_S
    while time.monotonic() < deadline_s:
        if n_seconds_stored(db) >= n_seconds:
            return
        time.sleep(0.05)
    pytest.fail(f"{db} did not reach {n_seconds} stored seconds within {WAIT_S} s")


def live_listener(db: Path | str, *args: str) -> subprocess.Popen[bytes]:
    """`listen` on stdin (a live stream: it never ends by itself) into `db`."""
    return subprocess.Popen(
        [*cli_command(), "listen", "--input", "-", "--no-clips", "--db", str(db), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )


def listener_with_stored(db: Path, n_seconds: int) -> subprocess.Popen[bytes]:
    """A live listener into `db` that has stored the night's first `n_seconds`."""
    process = live_listener(db)
    assert process.stdin is not None
    process.stdin.write(pcm(slice(0, n_seconds)))
    process.stdin.flush()
    wait_until_stored(db, n_seconds)
    return process


def pcm(seconds: slice) -> bytes:
    samples = small_night()[seconds.start * RATE_HZ : seconds.stop * RATE_HZ]
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def test_sigkill_loses_at_most_the_last_second(tmp_path: Path) -> None:
    db = tmp_path / "night.db"
    process = listener_with_stored(db, 30)  # every second is stored while stdin is still open
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=WAIT_S)
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with open_store(db) as store:
        assert len(store.seconds("nursery", SINCE, UNTIL)) == 30


def fill(disk: Path) -> Path:
    """Fill `disk` up with one file; returns it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """An 8 MB tmpfs: room for SQLite's write-ahead log, until the test fills it up."""
    mount_tmpfs(tmp_path / "small", "8m")
    return tmp_path / "small"


def wait_for_log(process: subprocess.Popen[bytes], kind: str) -> str:
    """Read the listener's stderr up to the first log line of this event kind."""
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    while f" {kind}: " not in line:
        line = process.stderr.readline().decode()
        assert line, f"the listener ended without a {kind} event"
    return line


def test_a_full_disk_holds_the_records_until_there_is_room_again(small_disk: Path) -> None:
    db = small_disk / "night.db"
    process = listener_with_stored(db, 5)
    assert process.stdin is not None and process.stderr is not None
    filler = fill(small_disk)
    process.stdin.write(pcm(slice(5, 45)))  # crying: an episode, and minutes of records
    process.stdin.flush()
    failed = wait_for_log(process, "sink_failed")
    assert "night.db" in failed
    filler.unlink()
    _, stderr = process.communicate(pcm(slice(45, 88)), timeout=WAIT_S)
    assert process.returncode == 0, stderr
    assert " store_recovered: " in stderr.decode()  # told when it works again
    with open_store(db) as store:
        assert len(store.seconds("nursery", SINCE, UNTIL)) == 88  # nothing was lost
        assert len(store.episodes(room="nursery")) == 1
        assert "sink_failed" in [e.kind for e in store.events(room="nursery")]


def test_records_that_could_never_be_stored_are_one_clear_error(small_disk: Path) -> None:
    db = small_disk / "night.db"
    process = listener_with_stored(db, 3)
    fill(small_disk)
    _, stderr = process.communicate(pcm(slice(3, 20)), timeout=WAIT_S)
    assert process.returncode == 1
    last = stderr.decode().splitlines()[-1]
    assert last.startswith("error: ") and "night.db" in last and "could not be stored" in last
    assert "the disk is full; free some space on it" in last  # the failure, named
    assert "Traceback" not in stderr.decode()


def test_a_listener_stopped_while_postgresql_is_down_names_the_failure(tmp_path: Path) -> None:
    """SIGTERM while the server is down: the held records are tried again at stop, then one
    error line says how many are lost and the server's failure (not "free space")."""
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()
        process = live_listener(url)
        assert process.stdin is not None and process.stderr is not None
        process.stdin.write(pcm(slice(0, 3)))
        process.stdin.flush()
        wait_until_stored_in(url, 3)
        server.shut_down()
        process.stdin.write(pcm(slice(3, 30)))
        process.stdin.flush()
        wait_for_log(process, "sink_failed")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        server.stop()
    assert process.returncode == 1
    errors = [line for line in stderr.decode().splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr.decode(), stderr.decode()
    assert "record(s) could not be stored: cannot write to database postgresql://" in errors[0]
    assert "cannot reach the server" in errors[0] and "free space" not in errors[0], errors[0]


def wait_until_stored_in(url: str, n_seconds: int) -> None:
    """Wait until the PostgreSQL database at `url` holds `n_seconds` of the nursery."""
    deadline_s = time.monotonic() + WAIT_S
    while time.monotonic() < deadline_s:
        with open_store(url) as store:
            if len(store.seconds("nursery", SINCE, UNTIL)) >= n_seconds:
                return
        time.sleep(0.05)
    pytest.fail(f"{url} did not reach {n_seconds} stored seconds within {WAIT_S} s")


def test_an_unreachable_database_server_is_one_clear_error(run_cli: CliRunner) -> None:
    process = run_cli(
        "listen", "--input", os.devnull, "--db", "postgresql://nobody:secret@127.0.0.1:1/none"
    )
    assert process.returncode == 1
    assert "secret" not in process.stderr and "Traceback" not in process.stderr
    assert process.stderr.startswith("error: ")


def test_a_database_locked_by_another_program_gets_the_records_later(tmp_path: Path) -> None:
    db = tmp_path / "night.db"
    process = listener_with_stored(db, 5)
    assert process.stdin is not None and process.stderr is not None
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # held past the listener's 5 s busy timeout
    process.stdin.write(pcm(slice(5, 30)))
    process.stdin.flush()
    failed = wait_for_log(process, "sink_failed")
    assert "locked" in failed
    locker.execute("ROLLBACK")
    locker.close()
    _, stderr = process.communicate(pcm(slice(30, 88)), timeout=WAIT_S)
    assert process.returncode == 0, stderr
    recovered = [line for line in stderr.decode().splitlines() if " store_recovered: " in line]
    assert len(recovered) == 1 and "night.db takes records again" in recovered[0]
    with open_store(db) as store:
        assert len(store.seconds("nursery", SINCE, UNTIL)) == 88


def test_a_recording_corrupt_midway_keeps_every_second_heard_before_it(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    """The listener fails mid-run: its teardown still writes what the store sink holds, and
    stops the metrics server and the couriers, before the one error line."""
    night = tmp_path / "night.flac"
    sf.write(night, np.tile(small_night(), 2), RATE_HZ)
    data = bytearray(night.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = np.random.default_rng(0).bytes(20_000)
    night.write_bytes(bytes(data))
    decodable = 0
    with sf.SoundFile(night) as f, pytest.raises(sf.LibsndfileError):
        for block in f.blocks(1_600):
            decodable += len(block)
    db = tmp_path / "r.db"
    process = run_cli("listen", "--input", night, "--no-clips", "--db", db, "--metrics_port", "0")
    assert_one_error_line_after_start(process, night)
    with open_store(str(db)) as store:
        n_stored = len(store.seconds("nursery", SINCE, UNTIL))
    # Every whole hop the decoder gave (the last block read may be the one cut short).
    assert decodable // RATE_HZ - 1 <= n_stored <= decodable // RATE_HZ


def assert_one_error_line_after_start(process: subprocess.CompletedProcess[str], name: Path) -> str:
    assert process.returncode == 1, process.stderr
    assert "Traceback" not in process.stderr
    errors = [line for line in process.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(name) in errors[0], process.stderr
    return errors[0]


def test_an_episode_open_when_the_listener_was_killed_is_closed_by_the_next_run(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    """SIGKILL 16 s into the night's crying (20-40 s): crying_started was told, the episode
    never stored. The next run of the room stores it, ending at the last crying heard, and
    says so; a run after a clean stop finds nothing left open."""
    db = tmp_path / "night.db"
    killed = listener_with_stored(db, 36)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=WAIT_S)
    with open_store(db) as store:
        assert store.episodes(room="nursery") == []
    quiet = tmp_path / "quiet.flac"
    sf.write(quiet, small_night()[: 5 * RATE_HZ], RATE_HZ)
    process = run_cli("listen", "--input", quiet, "--no-clips", "--db", db, "--json")
    assert process.returncode == 0, process.stderr
    (printed,) = [json.loads(line) for line in process.stdout.splitlines()]
    with open_store(db) as store:
        (episode,) = store.episodes(room="nursery")
        closed = [e for e in store.events(room="nursery") if e.kind == "episode_closed"]
    assert 18 <= episode.start_offset_s <= 22 and 30 <= episode.end_offset_s <= 36
    assert (printed["start_s"], printed["end_s"]) == (
        episode.start_offset_s,
        episode.end_offset_s,
    )
    assert len(closed) == 1 and f"{episode.end:%H:%M:%S}" in closed[0].message
    again = run_cli("listen", "--input", quiet, "--no-clips", "--db", db, "--json")
    assert again.returncode == 0 and again.stdout == ""


def test_a_recording_that_breaks_off_ends_what_was_heard_and_says_where(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    """A FLAC cut short after the night's crying (20-40 s): the crying is stored as an
    episode and the run as stopped, then one line says how far the file was heard."""
    whole = tmp_path / "whole.flac"
    sf.write(whole, small_night(), RATE_HZ)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 5])
    db = tmp_path / "night.db"
    process = run_cli("listen", "--input", cut, "--no-clips", "--db", db)
    line = assert_one_error_line_after_start(process, cut)
    assert " s of 88 s: what came before was listened to and stored" in line, line
    with open_store(db) as store:
        (episode,) = store.episodes(room="nursery")
        kinds = [e.kind for e in store.events(room="nursery")]
    assert 18 <= episode.start_offset_s <= 22 and 36 <= episode.end_offset_s <= 42
    assert kinds[0] == "started" and kinds[-1] == "stopped"


def test_a_listener_restarted_within_a_minute_adds_to_it(
    store_target: str, run_cli: CliRunner, tmp_path: Path
) -> None:
    """Two runs of a room each hear a part of 03:00 (20 s from :10, with crying from :20; 20 s
    from :35, crying until :45): the minute is stored whole, as the summary of both parts'
    seconds, and each part is told as a minute event of its own."""
    receiver = WebhookReceiver()
    try:
        for k, (night_s, start) in enumerate(((10, "03:00:10"), (30, "03:00:35"))):
            part = tmp_path / f"part-{k}.flac"
            sf.write(part, small_night()[night_s * RATE_HZ : (night_s + 20) * RATE_HZ], RATE_HZ)
            process = run_cli(
                "listen", "--input", part, "--start", f"2026-11-25T{start}+00:00",
                "--no-clips", "--db", store_target, "--webhook", receiver.url(),
            )  # fmt: skip
            assert process.returncode == 0, process.stderr
    finally:
        receiver.stop()
    minute = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with open_store(store_target) as store:
        heard = store.seconds("nursery", minute, minute + timedelta(minutes=1))
        (stored,) = store.minutes("nursery", SINCE, UNTIL)
    n_crying = sum(1 for s in heard if (s.crying_probability or 0.0) >= 0.5)
    assert len(heard) == stored.n_seconds == 40 and 0 < n_crying < 40
    assert stored.crying_fraction == round(n_crying / 40, 4)
    assert stored.max_level_dbfs == max(s.level_dbfs for s in heard)
    assert stored.mean_level_dbfs == round(sum(s.level_dbfs for s in heard) / 40, 2)
    told = [e for e in receiver.events if e["kind"] == MINUTE]
    parts = [(e["timestamp"], e["n_seconds"]) for e in told]
    assert parts == [("2026-11-25T03:00:00.000Z", 20)] * 2
    assert len({e["id"] for e in told}) == 2


def test_a_dated_night_listened_to_again_into_the_same_store_is_refused(
    night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    """Replaying a night (with another model, say) into the database that already holds it
    would count its episodes twice on the dashboard: refused in one line naming another --db
    or --room; as another room it is stored beside the first, and the recording that follows
    it (the archive's next segment) is stored as usual."""
    db = tmp_path / "night.db"

    def heard(path: Path, start: str, *room: str) -> subprocess.CompletedProcess[str]:
        return run_cli("listen", "--input", path, "--start", start, "--no-clips", "--db", db, *room)

    assert heard(night, "2026-11-25T21:00Z").returncode == 0
    again = heard(night, "2026-11-25T21:00:30Z")
    assert_one_error_line(again, db, "night.flac", "--db", "--room")
    assert heard(night, "2026-11-25T21:00Z", "--room", "nursery-again").returncode == 0
    assert heard(night, "2026-11-25T21:01:28Z").returncode == 0  # right after it: 88 s long
    with open_store(db) as store:
        assert len(store.episodes(room="nursery")) == 2
        assert len(store.episodes(room="nursery-again")) == 1


# Every character that is special in a URL's user and password; "%41" must stay three.
SPECIAL_PASSWORD = "p@ss:w/rd%41#x?"


def password_pieces(password: str) -> list[str]:
    """Every three-character piece of `password`: none may be printed."""
    return [password[i : i + 3] for i in range(len(password) - 2)]


def test_a_password_with_url_characters_from_the_environment_opens_the_database(
    night: Path,
    tmp_path: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: CliRunner,
) -> None:
    """`db = "postgresql://user:${VAR}@host/db"` works whatever the password holds: the value
    is percent-encoded into the URL; a wrong password is one line naming no part of it."""
    user, place = postgres_server.new_password_user(SPECIAL_PASSWORD)
    config = tmp_path / "r1.toml"
    config.write_text(
        f'[listen]\ndb = "postgresql://{user}:${{MISERYMETER_DB_PASSWORD}}@{place}"\n'
    )
    monkeypatch.setenv("MISERYMETER_DB_PASSWORD", SPECIAL_PASSWORD)
    args = ("listen", "--config", config, "--input", night, "--no-clips", "--room", "blue")
    process = run_cli(*args)
    assert process.returncode == 0, process.stderr
    with open_store(f"postgresql://{user}:{quote(SPECIAL_PASSWORD, safe='')}@{place}") as store:
        assert len(store.seconds("blue", SINCE, UNTIL)) == 88
    wrong = "p@ss:wrong/"
    monkeypatch.setenv("MISERYMETER_DB_PASSWORD", wrong)
    refused = run_cli(*args)
    line = assert_one_error_line(refused, f"postgresql://{user}:***@{place}", "password")
    assert not [piece for piece in password_pieces(wrong) if piece in line], line


def test_a_password_written_with_at_signs_in_db_is_read_up_to_the_last_one(
    night: Path, postgres_server: PostgresServer, run_cli: CliRunner
) -> None:
    """`--db postgresql://user:p@ss:w/rd#x@host/db`, as a shell expands it: the password ends
    at the last `@`; a wrong one is one line showing none of it."""
    password = "p@ss:w/rd#x?"
    user, place = postgres_server.new_password_user(password)
    args = ("listen", "--input", night, "--no-clips", "--room", "blue", "--db")
    assert run_cli(*args, f"postgresql://{user}:{password}@{place}").returncode == 0
    refused = run_cli(*args, f"postgresql://{user}:p@ss@{place}")
    line = assert_one_error_line(refused, f"postgresql://{user}:***@{place}")
    assert "ss@" not in line and "p@ss" not in line
    typo = run_cli(*args, f"postgresql://{user}:p@ss:w/rd@127.0.0.1:54x2/db")
    line = assert_one_error_line(typo, f"postgresql://{user}:***@127.0.0.1:54x2/db", "port")
    assert not [piece for piece in password_pieces("p@ss:w/rd") if piece in line], line
