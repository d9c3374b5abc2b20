"""`listen --serve`: the dashboard inside the listening process, over its own store. Its bad
settings are one clear error before listening starts; nothing the web side does stops the
listener. (The pages in a browser: test_web_browser.py.)"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI

from conftest import CliRunner, assert_one_error_line
from live_listener import RATE_HZ, LiveListener
from miserymeter.store import open_store
from miserymeter.web.server import DashboardThread, bind
from postgres_server import free_port
from test_listen import CRYING, clip, quiet

PASSWORD = "the baby sleeps"
ROOM = "Room 2/B"
ROOM_URL = "Room%202%2FB"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-night") / "night.flac"
    sf.write(path, quiet(5), RATE_HZ)
    return path


def test_serve_needs_the_database(run_cli: CliRunner, night: Path) -> None:
    process = run_cli("listen", "--input", night, "--no-db", "--serve")
    assert_one_error_line(process, "--no-db", "--serve")


def test_a_port_in_use_is_one_clear_error_before_listening(
    run_cli: CliRunner, night: Path, tmp_path: Path
) -> None:
    db = tmp_path / "listen.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run_cli(
            "listen", "--input", night, "--db", db, "--no-clips", "--serve",
            "--serve_port", str(port),
        )  # fmt: skip
    assert_one_error_line(process, f"127.0.0.1:{port}", "--serve_port")
    with open_store(db) as store:
        assert store.rooms() == []  # nothing was heard


def test_other_hosts_need_the_password_hash_of_serve(
    run_cli: CliRunner, night: Path, tmp_path: Path
) -> None:
    db = tmp_path / "listen.db"
    refused = run_cli("listen", "--input", night, "--db", db, "--serve", "--serve_host", "0.0.0.0")
    assert_one_error_line(refused, "--serve_host 0.0.0.0", "password", "hash-password")
    line = run_cli("hash-password", "--password", PASSWORD).stdout
    port = free_port()
    config = tmp_path / "listen.toml"
    config.write_text(
        f"[listen]\nserve = true\nserve_host = '0.0.0.0'\nserve_port = {port}\nno_clips = true\n"
        f"\n[serve]\n{line}"
    )
    process = run_cli("listen", "--config", config, "--input", night, "--db", db)
    assert process.returncode == 0, process.stderr
    assert f"serving the dashboard on http://0.0.0.0:{port}/" in process.stderr


def wait_until(what: str, check: object, *, timeout_s: float = 20.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline_s, f"timed out waiting for {what}"
        time.sleep(0.2)


BAD_REQUESTS = [
    "/api/rooms/%ff%fe/level",
    f"/api/rooms/{ROOM_URL}/live",
    f"/api/rooms/{ROOM_URL}/live?after=nope",
    f"/api/rooms/{ROOM_URL}/live?after=9999-12-31T23:59:59.999999Z",
    f"/api/rooms/{ROOM_URL}/live?after=0001-01-01T00:00",
    f"/api/rooms/{ROOM_URL}/episodes/x/audio",
    f"/api/rooms/{ROOM_URL}/timeline?since=2020-01-01&until=2026-01-01",
    "/rooms/%00/level",
    "/static/../../etc/passwd",
]


def test_the_dashboard_serves_while_listening_and_bad_requests_never_stop_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "listen.db"
    audio = np.concatenate([quiet(4), np.tile(clip(CRYING), 2), quiet(4)])  # 16 s
    with LiveListener(audio, room=ROOM, db=db) as live:
        assert "127.0.0.1" in live.wait_for("serving the dashboard on")
        with httpx.Client(base_url=live.base, timeout=10.0) as client:
            url = f"/api/rooms/{ROOM_URL}/live?after=2000-01-01T00:00"
            wait_until("the first second", lambda: client.get(url).json()["times"])
            heard = client.get(url).json()
            assert heard["room"] == ROOM and client.get("/api/rooms").json() == [ROOM]
            level = client.get(f"/api/rooms/{ROOM_URL}/level").json()
            assert level["source"] == "listener" and level["level_dbfs"] is not None
            with socket.create_connection(("127.0.0.1", live.port)) as raw:
                raw.sendall(b"GARBAGE \x00\xff HTTP/9\r\n\r\n")
                raw.recv(1024)
            for url in BAD_REQUESTS:
                answer = client.get(url)
                assert answer.status_code < 500, (url, answer.text)
            posted = client.post(f"/api/rooms/{ROOM_URL}/episodes/x/review", json={})
            assert posted.status_code == 403
            last = heard["times"][-1]
            wait_until(
                "more seconds after the bad requests",
                lambda: client.get(f"/api/rooms/{ROOM_URL}/live", params={"after": last}).json()[
                    "times"
                ],
            )
        code = live.finish()
    assert code == 0, live.stderr
    assert "Traceback" not in live.stderr and "dashboard_failed" not in live.stderr
    assert "listened to 16 s" in live.stderr
    with open_store(db) as store:
        # The audio that waited in the pipe while the listener started is dated from when it
        # was written, so no second lies ahead of the clock.
        now = datetime.now(UTC)
        seconds = store.seconds(ROOM, now - timedelta(hours=1), now)
        assert len(seconds) == 16
        (status,) = store.statuses(ROOM)  # less than a minute: the one written at the end
        # its period: from the start (after the model loaded, however slowly) to the end
        assert 0 < status.period_s < 60 and status.n_dropped == 0 and status.cpu_percent > 0


def test_a_dashboard_that_fails_only_says_so() -> None:
    @asynccontextmanager
    async def failing(_app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("the start-up failed")
        yield

    errors: list[str] = []
    stopped = threading.Event()

    def on_error(message: str) -> None:
        errors.append(message)
        stopped.set()

    dashboard = DashboardThread(FastAPI(lifespan=failing), bind("127.0.0.1", 0), on_error=on_error)
    dashboard.start()
    assert stopped.wait(10.0)
    dashboard.close()
    assert errors == ["the dashboard could not start; listening goes on"]
