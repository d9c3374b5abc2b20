"""`listen --webhook` as a real process against a real local HTTP server: everything arrives, in
order, through a server that is down for a whole run or stopped mid-run, from two rooms at once
into one PostgreSQL; bad settings are one warning line, and listening goes on without them."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from conftest import (
    CliRunner,
    assert_one_error_line,
    assert_one_warning_line,
    cli_command,
    cli_env,
)
from miserymeter.clock import iso_utc
from miserymeter.delivery.webhook.destination import destination_name
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, LISTENER, MINUTE, events_from
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.records import Record
from miserymeter.store import Store, open_store
from miserymeter.store.outbox import OutboxCounts
from webhook_receiver import WebhookReceiver

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
SPAN = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
QUIET = EXAMPLES_DIR / "quiet-room-synthetic.flac"
FAST_RETRY = ("--delivery_retry_s", "0.05", "--delivery_retry_max_s", "0.2")
WAIT_S = 60.0


def example_night(folder: Path, seed: int) -> Path:
    """A 3-minute night of the bundled clips (two crying episodes), made by make_night.py,
    named as an archive segment that starts at `seed` o'clock: two runs replayed faster than
    real time then never share a minute (a minute's event id is its room and time)."""
    out = folder / f"20261125T{seed:02d}0000.000000Z.flac"
    script = SCRIPTS_DIR / "make_night.py"
    subprocess.run(
        [sys.executable, script, "--examples", "--seed", str(seed), "--out", out],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("nights")
    return example_night(folder, 1), example_night(folder, 2)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.stop()


def unique(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with repeats (at least once) left out; a repeat must be the same event."""
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        assert first.setdefault(event["id"], event) == event
    return list(first.values())


def assert_all_arrived_in_order(received: list[dict[str, Any]], store: Store, room: str) -> int:
    """Every event of `room`'s stored records arrived, in the order they happened (a stored
    minute as the minute events of its parts); returns how many events of the room arrived."""
    mine = [e for e in unique(received) if e["room"] == room]
    stored: list[Record] = [*store.episodes(room=room), *store.events(room=room)]
    expected = {e.id for e in events_from(stored)}
    assert expected <= {e["id"] for e in mine}
    heard: Counter[str] = Counter()
    for e in mine:
        if e["kind"] == MINUTE:
            heard[e["timestamp"]] += e["n_seconds"]
    assert heard == {iso_utc(m.start): m.n_seconds for m in store.minutes(room, *SPAN)}
    kinds = [e["kind"] for e in mine]
    assert kinds.count(CRYING_STARTED) == kinds.count(CRYING_STOPPED) == len(store.episodes(room))
    runs = [e for e in mine if e["kind"] == LISTENER and e["event"] in ("started", "stopped")]
    assert [e["event"] for e in runs] == ["started", "stopped"] * (len(runs) // 2)
    minute_times = [e["timestamp"] for e in mine if e["kind"] == MINUTE]
    assert minute_times == sorted(minute_times) and len(minute_times) >= 3
    starts = [e["start"] for e in mine if e["kind"] == CRYING_STARTED]
    stops = [e["start"] for e in mine if e["kind"] == CRYING_STOPPED]
    assert starts == stops == sorted(starts)
    for start in starts:  # each episode is announced before it is reported ended
        announced = next(k for k, e in enumerate(mine) if e.get("start") == start)
        assert mine[announced]["kind"] == CRYING_STARTED
    return len(mine)


def test_every_event_arrives_signed_with_its_headers(
    nights: tuple[Path, Path],
    receiver: WebhookReceiver,
    run_cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MM_TEST_KEEN_KEY", "K3Y")
    monkeypatch.setenv("MM_TEST_SECRET", "s3cret")
    config = tmp_path / "listen.toml"
    config.write_text(
        '[listen]\nroom = "blue"\n'
        "[[webhook]]\n"
        f'url = "{receiver.url("/3.0/projects/P/events/crying")}?api_key=${{MM_TEST_KEEN_KEY}}"\n'
        'headers = { Authorization = "Bearer T" }\n'
        'secret = "${MM_TEST_SECRET}"\n'
    )
    db = tmp_path / "night.db"
    process = run_cli(
        "listen", "--input", nights[0], "--no-clips", "--db", db, "--config", config, *FAST_RETRY
    )
    assert process.returncode == 0, process.stderr
    assert "wait in the outbox" not in process.stderr
    with open_store(db) as store:
        assert_all_arrived_in_order(receiver.events, store, "blue")
        name = destination_name(f"{receiver.url('/3.0/projects/P/events/crying')}?api_key=K3Y")
        assert store.outbox_counts(name) == OutboxCounts(0, 0)
    for post in receiver.posts:
        assert post.path == "/3.0/projects/P/events/crying?api_key=K3Y"
        assert post.headers["Authorization"] == "Bearer T"
        assert post.headers["X-MiseryMeter-Event"] == post.json["id"]
        expected = hmac.new(b"s3cret", post.body, hashlib.sha256).hexdigest()
        assert post.headers["X-MiseryMeter-Signature"] == f"sha256={expected}"


def test_a_server_down_for_a_whole_run_gets_it_all_first_when_it_returns(
    nights: tuple[Path, Path], receiver: WebhookReceiver, run_cli: CliRunner, tmp_path: Path
) -> None:
    db = tmp_path / "night.db"
    hook = ("--webhook", receiver.url(), *FAST_RETRY, "--no-clips", "--db", db)
    receiver.stop()
    first = run_cli("listen", "--input", nights[0], *hook)
    assert first.returncode == 0, first.stderr
    assert " delivery_failed: webhook:127.0.0.1:" in first.stderr
    assert "Connection refused" in first.stderr
    name = destination_name(receiver.url())
    with open_store(db) as store:
        queued = [p.event.to_json() for p in store.pending(name, room="nursery", limit=1000)]
    assert f"{len(queued)} event(s) wait in the outbox" in first.stderr
    receiver.start()
    second = run_cli("listen", "--input", nights[1], *hook)
    assert second.returncode == 0, second.stderr
    received = receiver.events
    assert received[: len(queued)] == queued  # the first run's events first, in order
    with open_store(db) as store:
        n_arrived = assert_all_arrived_in_order(received, store, "nursery")
        assert store.outbox_counts(name) == OutboxCounts(0, 0)
        n_runs = len([e for e in store.events(room="nursery") if e.kind == "started"])
    assert n_runs == 2 and len(queued) >= 5  # started, stopped, minutes, listener news
    print(f"drill: {len(queued)} queued while down, {n_arrived} arrived, {len(received)} posts")


def pcm(path: Path, start_s: int, stop_s: int) -> bytes:
    samples, rate_hz = sf.read(path, dtype="float32")
    part = samples[start_s * rate_hz : stop_s * rate_hz]
    return (np.clip(part, -1, 1) * 32767).astype("<i2").tobytes()


class StderrLines:
    """The lines a process writes to stderr, read by a thread of their own."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        assert process.stderr is not None
        self._stream = process.stderr
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self._stream:
            with self._changed:
                self.lines.append(raw.decode())
                self._changed.notify_all()

    def wait_for(self, text: str) -> str:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines), timeout=WAIT_S
            )
            assert found, f"no {text!r} on stderr:\n{''.join(self.lines)}"
            return next(line for line in self.lines if text in line)


def test_a_server_stopped_and_restarted_mid_run_gets_everything(
    nights: tuple[Path, Path], receiver: WebhookReceiver, tmp_path: Path
) -> None:
    options = ["--no-clips", "--db", str(tmp_path / "n.db"), "--webhook", receiver.url()]
    process = subprocess.Popen(
        [*cli_command(), "listen", "--input", "-", *options, *FAST_RETRY],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdin is not None
    stderr = StderrLines(process)
    process.stdin.write(pcm(nights[0], 0, 60))
    process.stdin.flush()
    receiver.wait_until(lambda: len(receiver.events) >= 2)
    receiver.stop()
    process.stdin.write(pcm(nights[0], 60, 120))  # a minute ends and crying starts meanwhile
    process.stdin.flush()
    stderr.wait_for(" delivery_failed: ")
    receiver.start()
    process.stdin.write(pcm(nights[0], 120, 180))
    process.stdin.close()
    assert process.wait(timeout=WAIT_S) == 0, "".join(stderr.lines)
    stderr.wait_for(" delivery_resumed: ")
    with open_store(tmp_path / "n.db") as store:
        assert_all_arrived_in_order(receiver.events, store, "nursery")
        assert store.outbox_counts(destination_name(receiver.url())) == OutboxCounts(0, 0)


def test_two_rooms_into_one_postgresql_deliver_all_their_events(
    nights: tuple[Path, Path], receiver: WebhookReceiver, postgres_server: Any
) -> None:
    database = postgres_server.new_database()
    rooms = {"red": nights[0], "green": nights[1]}
    options = ["--no-clips", "--db", database, "--webhook", receiver.url(), *FAST_RETRY]
    listeners = [
        subprocess.Popen(
            [*cli_command(), "listen", "--input", str(night), "--room", room, *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )
        for room, night in rooms.items()
    ]
    for listener in listeners:
        _, err = listener.communicate(timeout=WAIT_S)
        assert listener.returncode == 0, err.decode()
    with open_store(database) as store:
        for room in rooms:
            assert_all_arrived_in_order(receiver.events, store, room)
        assert store.outbox_counts(destination_name(receiver.url())) == OutboxCounts(0, 0)


@pytest.mark.parametrize(
    ("webhook_table", "named"),
    [
        ('url = "ftp://example.org/hook"', ["[[webhook]] #1", "ftp://example.org/hook"]),
        ('url = "https://example.org/hook"\nsecrt = "x"', ["[[webhook]] #1", "secrt"]),
        ('url = "https://example.org/hook"\nkinds = ["crying"]', ["kinds", "crying_started"]),
        ('url = "https://example.org/hook"\ntimeout_s = 0', ["timeout_s"]),
    ],
)
def test_bad_webhook_settings_are_one_warning_line_and_listening_goes_on(
    webhook_table: str, named: list[str], run_cli: CliRunner, tmp_path: Path
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(f"[[webhook]]\n{webhook_table}\n")
    process = run_cli(
        "listen", "--input", QUIET, "--no-clips", "--db", tmp_path / "n.db", "--config", config
    )
    assert_one_warning_line(process, config, *named)


def test_a_bad_webhook_option_is_one_warning_line_and_no_database_one_error_line(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    process = run_cli(
        "listen", "--input", QUIET, "--db", tmp_path / "n.db", "--webhook", "example.org/hook"
    )
    assert_one_warning_line(process, "--webhook", "example.org/hook", "https://")
    process = run_cli(
        "listen", "--input", "-", "--no-db", "--webhook", "http://127.0.0.1:9/?token=SECRET"
    )
    line = assert_one_error_line(process, "--no-db", "webhook:127.0.0.1:9/")
    assert "SECRET" not in line
