"""`miserymeter serve` as a real process started while its PostgreSQL server is down (after a
power cut, systemd starts serve before the server answers): one warning line, and the dashboard
is served, saying so (a 503) while its offline watcher pushes "cannot read its database"; once
the server answers, all of it works without a restart. A database that will not come by
waiting (a wrong password, no such database) is still one error line."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from conftest import CliRunner, assert_one_error_line, require_system
from miserymeter.store import open_store
from postgres_server import PostgresServer, free_port, postgres_available
from push_receiver import PushReceiver
from test_serve_offline import WAIT_S, second, start_serve, wait_until

DOWN_TITLE = "Misery Meter cannot read its database"
BACK_TITLE = "Misery Meter reads its database again"
OFFLINE_TITLE = "Monitor in Nursery is offline"


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    server = PushReceiver()
    yield server
    server.close()


def test_serve_started_while_postgresql_is_down_says_so_until_the_server_answers(
    receiver: PushReceiver, tmp_path: Path
) -> None:
    require_system(postgres_available())
    postgres = PostgresServer()
    try:
        database = postgres.new_database()
        with open_store(database) as store:
            store.write([second("Nursery", datetime.now(UTC))])
        postgres.shut_down()
        config = tmp_path / "serve.toml"
        config.write_text(
            f'[notify]\nurls = ["{receiver.url()}"]\ntime_zone = "UTC"\noffline_after_min = 0.5\n'
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server, stderr = start_serve(database, port=port, config=config)
        try:
            warning = stderr.wait_for("warning: ")
            assert warning.startswith(f"warning: cannot reach database {database}: ")
            assert "Connection refused" in warning
            assert warning.endswith("; serving the dashboard, which says so until it can\n")
            stderr.wait_for("serving the dashboard on ")
            stderr.wait_for("watching every room: a push when its monitor is silent for 0.5 min")

            page = httpx.get(f"{base}/", timeout=WAIT_S)
            assert page.status_code == 503 and page.headers["retry-after"] == "15"
            assert page.headers["content-type"].startswith("text/html")
            assert "The dashboard cannot read its database" in page.text
            assert "cannot reach the server" in page.text
            api = httpx.get(f"{base}/api/overview", timeout=WAIT_S)
            assert api.status_code == 503
            assert "cannot reach the server" in api.json()["error"]
            wait_until(lambda: receiver.titles() == [DOWN_TITLE], "the push of the database down")

            postgres.start()
            wait_until(
                lambda: httpx.get(f"{base}/api/overview", timeout=WAIT_S).status_code == 200,
                "the dashboard once PostgreSQL answers",
            )
            page = httpx.get(f"{base}/", timeout=WAIT_S, follow_redirects=True)
            assert page.status_code == 200 and page.url.path == "/rooms/Nursery"  # its one room
            # the database is back, and Nursery's listener silent since before it went down
            wait_until(lambda: len(receiver.titles()) == 3, "the pushes once PostgreSQL answers")
            down, *after = receiver.titles()
            assert down == DOWN_TITLE and sorted(after) == [BACK_TITLE, OFFLINE_TITLE]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=WAIT_S)
    finally:
        postgres.stop()
    assert server.returncode == 0, "".join(stderr.lines)
    said = "".join(stderr.lines)
    assert "Traceback" not in said
    assert [line for line in stderr.lines if line.startswith("warning: ")] == [warning]


def test_a_wrong_password_or_a_missing_database_is_still_one_error_line(
    run_cli: CliRunner, postgres_server: PostgresServer
) -> None:
    user, place = postgres_server.new_password_user("right")
    wrong = f"postgresql://{user}:wrong@{place}"
    process = run_cli("serve", "--db", wrong, "--port", str(free_port()))
    assert_one_error_line(process, f"postgresql://{user}:***@{place}", "password")
    missing = postgres_server.url("no_such_database")
    process = run_cli("serve", "--db", missing, "--port", str(free_port()))
    assert_one_error_line(process, missing, "create the database")
