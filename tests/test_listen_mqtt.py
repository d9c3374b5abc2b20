"""`listen` with an `[mqtt]` table as a real process against a real mosquitto: Home Assistant
discovery, crying ON/OFF and every event arrive; events made while the broker is down wait in
the outbox and are published, in order, by the next run."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import soundfile as sf

from conftest import CliRunner, zone_at_midnight_now
from live_listener import LiveListener
from mosquitto_broker import MosquittoBroker, Watcher
from test_listen import RATE_HZ, quiet, small_night
from test_listen_store import WAIT_S, live_listener, pcm, wait_until_stored
from test_listen_webhook import FAST_RETRY, example_night

Broker = Callable[..., MosquittoBroker]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("nights")
    return example_night(folder, 1), example_night(folder, 2)


@pytest.fixture
def broker(mosquitto: Broker) -> Iterator[MosquittoBroker]:
    yield mosquitto()


@pytest.fixture
def watcher(broker: MosquittoBroker) -> Iterator[Watcher]:
    watching = Watcher(broker, "miserymeter/#", "homeassistant/#")
    yield watching
    watching.close()


def listen_args(folder: Path, broker: MosquittoBroker) -> tuple[object, ...]:
    config = folder / "listen.toml"
    config.write_text(f'[listen]\nroom = "Blue room"\n[mqtt]\nurl = "{broker.url}"\n')
    return ("--no-clips", "--db", folder / "night.db", "--config", config, *FAST_RETRY)


def events(watcher: Watcher) -> list[dict[str, object]]:
    return [json.loads(p) for p in watcher.payloads("miserymeter/blue_room/event")]


def events_of_runs(watcher: Watcher, runs: int) -> list[dict[str, object]]:
    """Every event of `runs` listener runs, once the last run's "stopped" has arrived: a
    listener publishes it last, and its events arrive in order (the process may have ended
    before the watcher has them all)."""

    def stopped() -> int:
        return sum(e["kind"] == "listener" and e["event"] == "stopped" for e in events(watcher))

    watcher.wait_for(lambda: stopped() >= runs, f"{runs} listener run(s) stopped")
    return events(watcher)


def test_home_assistant_sees_the_room_and_every_event(
    nights: tuple[Path, Path],
    broker: MosquittoBroker,
    watcher: Watcher,
    run_cli: CliRunner,
    tmp_path: Path,
) -> None:
    process = run_cli("listen", "--input", nights[0], *listen_args(tmp_path, broker))
    assert process.returncode == 0, process.stderr
    binary = "homeassistant/binary_sensor/miserymeter_blue_room/crying/config"
    watcher.wait_for(lambda: bool(watcher.payloads(binary)), "the crying sensor's discovery")
    assert json.loads(watcher.payloads(binary)[-1])["device_class"] == "sound"
    kinds = [e["kind"] for e in events_of_runs(watcher, 1)]
    assert kinds.count("crying_started") == kinds.count("crying_stopped") == 2
    assert float(watcher.last("miserymeter/blue_room/loudness_dbfs") or "nan") < 0
    watcher.wait_last("miserymeter/blue_room/availability", "offline")
    # A replayed night of 2026-11-25 01:00 is history: it never turns the live state ON.
    assert watcher.payloads("miserymeter/blue_room/crying") == ["OFF"]


def test_events_wait_for_a_broker_that_is_down(
    nights: tuple[Path, Path],
    broker: MosquittoBroker,
    run_cli: CliRunner,
    tmp_path: Path,
) -> None:
    args = listen_args(tmp_path, broker)
    broker.stop()
    first = run_cli("listen", "--input", nights[0], *args)
    assert first.returncode == 0, first.stderr
    # with why (the replay may end before the broker's refusal: then "not connected ... yet")
    (waiting,) = [line for line in first.stderr.splitlines() if "wait in the outbox" in line]
    assert " event(s) wait in the outbox for mqtt (" in waiting, waiting
    assert f"the MQTT broker {broker.url}" in waiting, waiting
    broker.start()
    watcher = Watcher(broker, "miserymeter/blue_room/event")
    try:
        second = run_cli("listen", "--input", nights[1], *args)
        assert second.returncode == 0, second.stderr
        received = events_of_runs(watcher, 2)
    finally:
        watcher.close()
    ids = [e["id"] for e in received]
    assert len(ids) == len(set(ids))
    runs = [
        e["event"]
        for e in received
        if e["kind"] == "listener" and e["event"] in ("started", "stopped")
    ]
    assert runs == ["started", "stopped", "started", "stopped"]
    times = [str(e["timestamp"]) for e in received if e["kind"] == "crying_started"]
    assert times == sorted(times) and len(times) >= 4


def test_a_restart_after_sigkill_mid_episode_never_lowers_tonights_totals(
    broker: MosquittoBroker,
    watcher: Watcher,
    run_cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILLed in the night's second crying, after it was told (2 episodes tonight): the
    next run closes that episode, and Home Assistant's `total_increasing` sensors never see
    tonight's totals go down on the way (it would take a dip for a new night)."""
    monkeypatch.setenv("TZ", zone_at_midnight_now())  # its 2 minutes ahead stay in one night
    args = listen_args(tmp_path, broker)
    db = tmp_path / "night.db"
    killed = live_listener(db, "--config", str(tmp_path / "listen.toml"))
    assert killed.stdin is not None
    killed.stdin.write(pcm(slice(0, 88)) + pcm(slice(0, 36)))  # a whole episode, and 16 s
    killed.stdin.flush()
    episodes = "miserymeter/blue_room/episodes_tonight"
    minutes = "miserymeter/blue_room/minutes_cried_tonight"
    watcher.wait_last(episodes, "2")
    wait_until_stored(db, 88 + 36)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=WAIT_S)
    cried_before = float(watcher.last(minutes) or "nan")
    quiet = tmp_path / "quiet.flac"
    sf.write(quiet, small_night()[: 5 * RATE_HZ], RATE_HZ)
    restart = run_cli("listen", "--input", quiet, *args)
    assert restart.returncode == 0, restart.stderr
    assert " episode_closed: " in restart.stderr
    events_of_runs(watcher, 1)  # the killed run never said "stopped"
    counts = [int(p) for p in watcher.payloads(episodes)]
    cried = [float(p) for p in watcher.payloads(minutes)]
    assert counts == sorted(counts) and counts[-1] == 2, counts
    assert cried == sorted(cried) and cried[-1] > cried_before > 0, cried  # and the closed one


def test_a_broker_lost_while_no_event_is_due_is_one_line_and_its_return_one(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    """The broker dies in a quiet night: the listener says so at once, not when the baby next
    cries, and once for the whole outage, however often it tries to reconnect meanwhile."""
    listen_args(tmp_path, broker)
    args = ("--config", str(tmp_path / "listen.toml"), *FAST_RETRY)
    db = tmp_path / "night.db"
    with LiveListener(quiet(120), room="Blue room", db=db, args=args, serve=False) as live:
        live.wait_for(" started: ")
        watcher = Watcher(broker, "miserymeter/blue_room/loudness_dbfs")
        watcher.wait_for(lambda: len(watcher.messages) >= 2, "the live values of two seconds")
        watcher.close()  # its client would reconnect too
        broker.stop()
        failed = live.wait_for(" delivery_failed: ")
        hang_up_on_attempts(broker.port, 2)
        broker.start()
        resumed = live.wait_for(" delivery_resumed: ")
        said = live.stderr
    assert f"mqtt: lost the connection to the MQTT broker {broker.url}" in failed, said
    assert "event(s) delivered after an outage of " in resumed, said
    assert said.count(" delivery_failed: ") == said.count(" delivery_resumed: ") == 1, said


def hang_up_on_attempts(port: int, n_attempts: int) -> None:
    """Stand in for a broker that is down on `port`: take the next `n_attempts` connections
    (the listener's attempts to reconnect) and hang up on each."""
    with socket.create_server(("127.0.0.1", port)) as server:
        server.settimeout(WAIT_S)
        for _ in range(n_attempts):
            connection, _ = server.accept()
            connection.close()


def test_stopped_while_the_broker_is_down_at_start_it_stops_at_once(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    """Ctrl-C while the listener still waits for the broker, down since before it started: it
    stops there, its events in the outbox, and says nothing after 'stopped' (it waited out
    the 5 s of its start-up check, then said the broker was down after it had stopped)."""
    listen_args(tmp_path, broker)
    args = ("--config", str(tmp_path / "listen.toml"), *FAST_RETRY)
    broker.stop()
    with LiveListener(quiet(120), room="Blue room", db=tmp_path / "night.db", args=args,
                      serve=False) as live:  # fmt: skip
        live.wait_for(" started: ")
        live.process.send_signal(signal.SIGINT)
        assert live.finish() == 0, live.stderr
        said = live.stderr
    after_stopped = said.split(" stopped: ", 1)[1]
    assert " delivery_failed: " not in after_stopped, said
    assert "event(s) wait in the outbox for mqtt" in after_stopped, said
