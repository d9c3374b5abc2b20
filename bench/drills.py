"""Reliability drills: faults made real against real servers on loopback. `make bench-drills`.

Every drill runs `miserymeter listen --input -` on a night of real audio (88 s: quiet, 20 s of
crying, speech, music) with two webhooks: a control that never fails and the one the fault
hits (or MQTT, for the broker drill), then counts what reached them. The control's events are
the ones expected (their ids are stable, so the two are compared id by id): `lost` are
expected ids the drilled destination never got, `duplicated` those it got more than once,
`rows lost` the seconds of audio fed that the database does not hold, `delay` the time from
the end of the fault until the drilled destination had everything. `unfinished` counts
crying_started events without their crying_stopped. Each drill is bounded by --outage_s.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import cli_command, cli_env  # noqa: E402
from miserymeter.store import open_store  # noqa: E402
from mosquitto_broker import MosquittoBroker, Watcher, mosquitto_available  # noqa: E402
from postgres_server import PostgresServer, postgres_available  # noqa: E402
from test_listen import RATE_HZ, small_night  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

ROOM = "drill"
NIGHT_S = 88
WAIT_S = 120.0
POLL_S = 0.05
MQTT_KINDS = ("crying_started", "crying_stopped", "listener")
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    drill: str
    expected: int
    delivered: int
    duplicated: int
    lost: int
    rows_lost: int
    unfinished: int
    delay_s: float


class Listening:
    """A `listen` process on stdin, into `db`, delivering to `webhooks` (and a config file)."""

    def __init__(self, db: str, webhooks: list[str], config: Path | None = None) -> None:
        args = ["listen", "--input", "-", "--no-clips", "--db", db, "--room", ROOM]
        args += ["--delivery_retry_s", "0.2"]
        for url in webhooks:
            args += ["--webhook", url]
        if config is not None:
            args += ["--config", str(config)]
        self.process = subprocess.Popen(
            [*cli_command(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=cli_env(),
        )

    def feed(self, first_s: int, last_s: int) -> None:
        samples = small_night()[first_s * RATE_HZ : last_s * RATE_HZ]
        assert self.process.stdin is not None
        self.process.stdin.write((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        self.process.stdin.flush()

    def end(self, how: signal.Signals | None = None) -> None:
        """Close its input (it finishes), or send it `how`; wait for it."""
        if how is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
        else:
            self.process.send_signal(how)
        self.process.wait(timeout=WAIT_S)


def wait_until(condition: Callable[[], bool]) -> bool:
    deadline_s = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline_s:
            return False
        time.sleep(POLL_S)
    return True


def kinds_of(event: dict[str, object]) -> str:
    return str(event["kind"])


def outcome(
    drill: str,
    expected: list[dict[str, object]],
    delivered: list[dict[str, object]],
    *,
    db: str,
    fed_s: int,
    delay_s: float,
) -> Outcome:
    expected_ids = {str(e["id"]) for e in expected}
    counts = Counter(str(e["id"]) for e in delivered)
    with open_store(db) as store:
        stored = len(store.seconds(ROOM, SINCE, UNTIL))
    started = sum(kinds_of(e) == "crying_started" for e in expected)
    stopped = sum(kinds_of(e) == "crying_stopped" for e in expected)
    return Outcome(
        drill,
        expected=len(expected_ids),
        delivered=len(counts),
        duplicated=sum(n > 1 for n in counts.values()),
        lost=len(expected_ids - counts.keys()),
        rows_lost=max(0, fed_s - stored),
        unfinished=started - stopped,
        delay_s=delay_s,
    )


def webhook_drill(
    name: str, work: Path, fault: Callable[[WebhookReceiver], Iterator[None]], outage_s: float
) -> Outcome:
    """The drilled webhook fails (its way) while the crying happens, for `outage_s`."""
    control, drilled = WebhookReceiver(), WebhookReceiver()
    db = str(work / f"{name.replace(' ', '-')}.db")
    listening = Listening(db, [control.url(), drilled.url()])
    listening.feed(0, 15)
    wait_until(lambda: len(control.events) >= 1)
    with contextmanager(fault)(drilled):
        listening.feed(15, NIGHT_S)
        time.sleep(outage_s)
    recovered_at = time.monotonic()
    wait_until(lambda: {e["id"] for e in drilled.events} >= {e["id"] for e in control.events})
    delay_s = time.monotonic() - recovered_at
    listening.end()
    result = outcome(name, control.events, drilled.events, db=db, fed_s=NIGHT_S, delay_s=delay_s)
    control.stop()
    drilled.stop()
    return result


def server_down(receiver: WebhookReceiver) -> Iterator[None]:
    receiver.stop()
    yield
    receiver.start()


def server_errors(receiver: WebhookReceiver) -> Iterator[None]:
    receiver.answer = lambda _body: 500
    yield
    receiver.answer = lambda _body: 200


def database_drill(name: str, db: str, fault: Callable[[], Iterator[None]]) -> Outcome:
    """The database fails while the crying happens; both webhooks wait on its outbox."""
    control = WebhookReceiver()
    listening = Listening(db, [control.url()])
    listening.feed(0, 15)
    wait_until(lambda: len(control.events) >= 1)
    with contextmanager(fault)():
        listening.feed(15, NIGHT_S)
    recovered_at = time.monotonic()
    with open_store(db) as store:
        wait_until(lambda: len(store.seconds(ROOM, SINCE, UNTIL)) >= NIGHT_S)
    delay_s = time.monotonic() - recovered_at
    listening.end()
    events = control.events
    result = outcome(name, events, events, db=db, fed_s=NIGHT_S, delay_s=delay_s)
    control.stop()
    return result


def mqtt_drill(work: Path, outage_s: float) -> Outcome:
    """The broker is killed while the crying happens, and comes back empty."""
    broker = MosquittoBroker()
    config = work / "mqtt.toml"
    config.write_text(f'[mqtt]\nurl = "{broker.url}"\n')
    control = WebhookReceiver()
    db = str(work / "mqtt.db")
    watcher = Watcher(broker, f"miserymeter/{ROOM}/event")
    listening = Listening(db, [control.url()], config)
    listening.feed(0, 15)
    wait_until(lambda: bool(watcher.payloads(f"miserymeter/{ROOM}/event")))
    watcher.close()
    broker.stop()
    listening.feed(15, NIGHT_S)
    time.sleep(outage_s)
    broker.start()
    recovered_at = time.monotonic()
    watcher = Watcher(broker, f"miserymeter/{ROOM}/event")

    def delivered() -> list[dict[str, object]]:
        return [json.loads(p) for p in watcher.payloads(f"miserymeter/{ROOM}/event")]

    expected = [e for e in control.events if e["kind"] in MQTT_KINDS]
    wait_until(lambda: {e["id"] for e in delivered()} >= {e["id"] for e in expected[1:]})
    delay_s = time.monotonic() - recovered_at
    listening.end()
    expected = [e for e in control.events if e["kind"] in MQTT_KINDS][1:]  # minus the first
    result = outcome(
        "MQTT broker down", expected, delivered(), db=db, fed_s=NIGHT_S, delay_s=delay_s
    )
    watcher.close()
    broker.close()
    control.stop()
    return result


def kill_drill(name: str, work: Path, how: signal.Signals) -> Outcome:
    """The listener is stopped (`how`) 10 s into the crying, then started again."""
    control = WebhookReceiver()
    db = str(work / f"{how.name}.db")
    first = Listening(db, [control.url()])
    first.feed(0, 30)
    wait_until(lambda: any(e["kind"] == "crying_started" for e in control.events))
    with open_store(db) as store:
        wait_until(lambda: len(store.seconds(ROOM, SINCE, UNTIL)) >= 30)
    first.end(how)
    ended_at = time.monotonic()
    second = Listening(db, [control.url()])
    second.feed(0, 10)
    wait_until(lambda: any(e["kind"] == "crying_stopped" for e in control.events))
    delay_s = time.monotonic() - ended_at
    second.end()
    events = control.events
    result = outcome(name, events, events, db=db, fed_s=40, delay_s=delay_s)
    control.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage_s", type=float, default=20.0, help="How long each fault lasts.")
    args = parser.parse_args()
    console = Console(width=140)
    start = time.monotonic()
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="miserymeter-drills-") as tmp:
        work = Path(tmp)

        def sqlite_locked() -> Iterator[None]:
            locker = sqlite3.connect(work / "locked.db", isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            yield
            time.sleep(args.outage_s)
            locker.execute("ROLLBACK")
            locker.close()

        console.print("drill: webhook down …")
        results.append(webhook_drill("webhook down", work, server_down, args.outage_s))
        console.print("drill: webhook answering 500 …")
        results.append(webhook_drill("webhook 500s", work, server_errors, args.outage_s))
        console.print("drill: SQLite locked by another program …")
        open_store(work / "locked.db").close()
        results.append(database_drill("SQLite locked", str(work / "locked.db"), sqlite_locked))
        if postgres_available() is None:
            server = PostgresServer()
            url = server.new_database()
            open_store(url).close()

            def postgres_restart() -> Iterator[None]:
                server.shut_down()
                yield
                time.sleep(args.outage_s)
                server.start()

            console.print("drill: PostgreSQL restart …")
            results.append(database_drill("PostgreSQL restart", url, postgres_restart))
            server.stop()
        if mosquitto_available() is None:
            console.print("drill: MQTT broker down …")
            results.append(mqtt_drill(work, args.outage_s))
        for how in (signal.SIGKILL, signal.SIGTERM):
            console.print(f"drill: {how.name} mid-episode …")
            results.append(kill_drill(f"{how.name} mid-episode", work, how))
    table = Table(
        title=f"Reliability drills ({time.monotonic() - start:.0f} s; faults of "
        f"{args.outage_s:g} s)",
        title_justify="left",
    )
    columns = ("drill", "events expected", "delivered", "duplicated", "lost", "rows lost")
    for column in (*columns, "unfinished episodes", "delay after recovery (s)"):
        table.add_column(column, justify="left" if column == "drill" else "right")
    for r in results:
        table.add_row(
            r.drill,
            str(r.expected),
            str(r.delivered),
            str(r.duplicated),
            str(r.lost),
            str(r.rows_lost),
            str(r.unfinished),
            f"{r.delay_s:.1f}",
        )
    console.print(table)
    return 1 if any(r.lost or r.rows_lost or r.unfinished for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
