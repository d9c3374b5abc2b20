"""`miserymeter serve` with a [notify] table, as a real process over a real PostgreSQL, pushing
to a real local server: a room that stops writing gets exactly one "offline" push, and one
"back" push when it writes again; a live room, a room stopped cleanly and a room out of
service for weeks get none; a push server that is down at first gets the push once it is up;
a [notify] table with wrong settings is one warning line, and the dashboard is served."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conftest import cli_command, cli_env
from miserymeter.records import ListenerEvent, SecondRecord
from miserymeter.store import Store, open_store
from postgres_server import free_port
from push_receiver import PushReceiver
from test_listen_webhook import StderrLines

OFFLINE_AFTER_MIN = 0.5  # the shortest: checks every 3 s
WAIT_S = 60.0


def second(room: str, at: datetime) -> SecondRecord:
    return SecondRecord(room, at, 0.0, -48.0, 0.02, "_silence_")


class LiveRoom:
    """A room whose listener stores a second every 0.5 s, from a thread, until `stop`."""

    def __init__(self, store: Store, room: str) -> None:
        self._stop = threading.Event()
        self._store, self._room = store, room
        self._store.write([second(room, datetime.now(UTC))])
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while not self._stop.wait(0.5):
            self._store.write([second(self._room, datetime.now(UTC))])

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline_s = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline_s, f"waited {WAIT_S} s for {what}"
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    server = PushReceiver()
    yield server
    server.close()


def start_serve(
    database: str, *, port: int, config: Path
) -> tuple[subprocess.Popen[bytes], StderrLines]:
    """`miserymeter serve` on `database` with `config`, and its stderr lines as they come."""
    server = subprocess.Popen(
        [*cli_command(), "serve", "--db", database, "--port", str(port), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    return server, StderrLines(server)


def health(port: int, room: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/rooms/{quote(room, safe='')}/health"
    return httpx.get(url, timeout=WAIT_S).json()["status"]


def test_a_room_that_stops_writing_is_pushed_offline_once_then_back_once(
    postgres_server: Any, receiver: PushReceiver, tmp_path: Path
) -> None:
    database = postgres_server.new_database()
    now = datetime.now(UTC)
    store = open_store(database)
    store.write([
        # Room 1's listener wrote its last second 20 s ago: offline 10 s from now.
        ListenerEvent("Room 1", now - timedelta(minutes=60), "started", "listening"),
        *(second("Room 1", now - timedelta(seconds=s)) for s in range(80, 19, -1)),
        # Naps was stopped cleanly 10 min ago; Moved out went silent weeks ago.
        second("Naps", now - timedelta(minutes=10, seconds=1)),
        ListenerEvent("Naps", now - timedelta(minutes=10), "stopped", "stopped after 3600 s"),
        second("Moved out", now - timedelta(days=30)),
    ])  # fmt: skip
    toddlers = LiveRoom(store, "Toddlers")
    config = tmp_path / "serve.toml"
    config.write_text(
        f'[notify]\nurls = ["{receiver.url()}"]\ntime_zone = "UTC"\n'
        f"offline_after_min = {OFFLINE_AFTER_MIN}\n"
    )
    port = free_port()
    receiver.status = 503  # the push service is down when the room goes offline
    server, stderr = start_serve(database, port=port, config=config)
    try:
        stderr.wait_for("watching every room: a push when its monitor is silent for 0.5 min")
        failed = stderr.wait_for("offline_watch_push_failed: notify: ")
        assert "json:// (URL 1 of 1 in urls)" in failed and "HTTP 503" in failed
        assert "monitor_offline: Room 1: last heard " in "".join(stderr.lines)
        assert health(port, "Room 1") == "offline"
        assert health(port, "Toddlers") == "listening"
        receiver.status = 200
        wait_until(lambda: len(receiver.pushes) == 1, "the offline push")
        (offline,) = receiver.pushes
        assert offline.title == "Monitor in Room 1 is offline"
        last_heard = (now - timedelta(seconds=20)).strftime("%H:%M")
        assert offline.body == f"Last heard at {last_heard}; check its power and network."
        assert offline.notify_type == "failure"
        stderr.wait_for("offline_watch_push_resumed: notify: pushing again")

        store.write([second("Room 1", datetime.now(UTC))])  # its listener is back
        wait_until(lambda: len(receiver.pushes) == 2, "the back push")
        assert receiver.pushes[1].title == "Monitor in Room 1 is back"
        assert receiver.pushes[1].body.startswith("Heard again at ")
        time.sleep(7.0)  # two more checks: nothing else to tell
        assert receiver.titles() == ["Monitor in Room 1 is offline", "Monitor in Room 1 is back"]
    finally:
        toddlers.stop()
        store.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=WAIT_S)
    assert server.returncode == 0, "".join(stderr.lines)
    assert "Traceback" not in "".join(stderr.lines)


@pytest.mark.parametrize(
    ("notify_table", "named"),
    [
        ('urls = ["json://127.0.0.1/x"]\noffline_after_min = 0.1', ["offline_after_min", "0.5"]),
        ('urls = ["tgram://s3cr3t/"]', ["[notify]", "tgram:// (URL 1 of 1 in urls)"]),
        ('urls = ["json://127.0.0.1/x"]\nofline_after_min = 5', ["unknown key", "ofline"]),
    ],
)
def test_a_bad_notify_table_is_one_warning_line_and_the_dashboard_is_served(
    notify_table: str, named: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(f"[notify]\n{notify_table}\n")
    db = tmp_path / "night.db"
    open_store(db).close()
    port = free_port()
    server, stderr = start_serve(str(db), port=port, config=config)
    try:
        stderr.wait_for("serving the dashboard on ")
        assert httpx.get(f"http://127.0.0.1:{port}/api/rooms", timeout=WAIT_S).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=WAIT_S)
    assert server.returncode == 0, "".join(stderr.lines)
    (line,) = [line for line in stderr.lines if line.startswith("warning: ")]
    for name in [str(config), *named]:
        assert name in line, f"{name} not in {line!r}"
    assert line.rstrip().endswith("; serve runs without offline pushes until it is fixed")
    assert "s3cr3t" not in "".join(stderr.lines)
    assert "watching every room" not in "".join(stderr.lines)
    assert "Traceback" not in "".join(stderr.lines)
