"""Many rooms, one server: two real `listen` processes at once, "Room 1" and "Toddlers", into
one real PostgreSQL and one real mosquitto with Home Assistant discovery. Each room is its own
device with its own topics and ids, its events are stored and published once, and a listener
that dies takes only its own room offline (its last will)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console

from conftest import CliRunner, assert_one_error_line, cli_command, cli_env
from live_listener import LiveListener
from miserymeter.clock import utc_now
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, LISTENER, events_from
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.records import ListenerEvent, Record, SecondRecord
from miserymeter.sinks.console import Terminal
from miserymeter.store import Store, open_store
from miserymeter.store.outbox import OutboxCounts
from miserymeter.wiring.listen import run_listen
from miserymeter.wiring.listen_options import ListenOptions
from mosquitto_broker import MosquittoBroker, Watcher
from test_listen_webhook import FAST_RETRY, StderrLines, example_night, pcm

ROOMS = {"Room 1": "room_1", "Toddlers": "toddlers"}  # room → its topic level
ENTITIES = ("crying", "loudness", "probability", "episodes_tonight", "minutes_cried_tonight")
NIGHT_S = 180  # the example night: two crying episodes, and a cat the model may take for one
QUIET_S = 40  # quiet after it, so that its last episode ends while the listener still runs
WAIT_S = 60.0


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("nights")
    return {room: example_night(folder, seed) for seed, room in enumerate(ROOMS, start=1)}


@pytest.fixture
def broker(mosquitto: Callable[..., MosquittoBroker]) -> MosquittoBroker:
    return mosquitto()


@pytest.fixture
def watcher(broker: MosquittoBroker) -> Iterator[Watcher]:
    watching = Watcher(broker, "miserymeter/#", "homeassistant/#")
    yield watching
    watching.close()


def quiet_pcm(seconds: int, *, rate_hz: int = 16_000) -> bytes:
    """A quiet room (faint noise, not digital silence) as S16_LE."""
    noise = np.random.default_rng(0).normal(0.0, 3e-4, seconds * rate_hz)
    return (noise * 32767).astype("<i2").tobytes()


class RoomListener:
    """`miserymeter listen --input - --room ROOM` fed a night through stdin, kept running."""

    def __init__(self, room: str, night: Path, config: Path, database: str) -> None:
        self.room = room
        self.process = subprocess.Popen(
            [*cli_command(), "listen", "--input", "-", "--room", room, "--db", database,
             "--config", str(config), "--no-clips", *FAST_RETRY],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )  # fmt: skip
        self.stderr = StderrLines(self.process)
        assert self.process.stdin is not None
        self.process.stdin.write(pcm(night, 0, NIGHT_S) + quiet_pcm(QUIET_S))
        self.process.stdin.flush()

    def finish(self) -> int:
        """End the input (a clean stop) and wait for the exit code."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=WAIT_S)

    def kill(self) -> None:
        """Die without a goodbye, as a Pi that loses power."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT_S)
        if self.process.stdin is not None:
            self.process.stdin.close()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline_s = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline_s, f"waited {WAIT_S} s for {what}"
        time.sleep(0.1)


def settled(store: Store, room: str) -> bool:
    """The room's whole input is heard and stored (so its episodes are closed), and its
    outbox is empty."""
    latest = store.latest_second(room)
    heard_all = latest is not None and latest.offset_s >= NIGHT_S + QUIET_S - 2
    return heard_all and store.outbox_counts("mqtt", room=room) == OutboxCounts(0, 0)


def room_events(watcher: Watcher, slug: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in watcher.payloads(f"miserymeter/{slug}/event")]


def received(watcher: Watcher, slug: str, ids: set[str]) -> bool:
    """Whether the watcher has every event of `ids` from the room."""
    return {e["id"] for e in room_events(watcher, slug)} >= ids


def stored_events(store: Store, room: str) -> set[str]:
    """The ids of the events MQTT wants that the room's stored records make."""
    stored: list[Record] = [*store.episodes(room=room), *store.events(room=room)]
    return {e.id for e in events_from(stored) if e.kind in (CRYING_STOPPED, LISTENER)}


def assert_refused_after_watching(process: subprocess.CompletedProcess[str], *names: str) -> None:
    """The room was watched (said in one line, not a silent wait), then refused in one error
    line naming every one of `names`."""
    watching, *error = process.stderr.splitlines()
    assert " watching: " in watching and "making sure no other listener" in watching, watching
    refused = subprocess.CompletedProcess(
        process.args, process.returncode, process.stdout, "\n".join(error)
    )
    assert_one_error_line(refused, *names)


def test_two_rooms_share_one_postgresql_and_one_broker(
    nights: dict[str, Path],
    broker: MosquittoBroker,
    watcher: Watcher,
    postgres_server: Any,
    tmp_path: Path,
) -> None:
    database = postgres_server.new_database()
    config = tmp_path / "listen.toml"  # every Pi's file; only --room differs
    config.write_text(f'[mqtt]\nurl = "{broker.url}"\n')
    listeners = {room: RoomListener(room, nights[room], config, database) for room in ROOMS}
    try:
        with open_store(database) as store:
            for room, slug in ROOMS.items():
                wait_until(partial(settled, store, room), f"{room}'s episodes, stored and sent")
                stored = stored_events(store, room)
                watcher.wait_for(  # sent is not yet received by another subscriber
                    partial(received, watcher, slug, stored), f"{room}'s stored events, received"
                )
                published = room_events(watcher, slug)
                ids = [e["id"] for e in published]
                assert len(ids) == len(set(ids)), f"{room}: an event was published twice"
                assert {e["room"] for e in published} == {room}
                kinds = [e["kind"] for e in published]
                n_episodes = len(store.episodes(room=room))
                assert n_episodes >= 2
                assert kinds.count(CRYING_STARTED) == kinds.count(CRYING_STOPPED) == n_episodes
                started = [e for e in store.events(room=room) if e.kind == "started"]
                assert len(started) == 1
            assert store.rooms() == sorted(ROOMS)
        configs = {
            topic: json.loads(payload)
            for topic, payload, _ in list(watcher.messages)
            if topic.startswith("homeassistant/")
        }
        assert len(configs) == len(ROOMS) * len(ENTITIES)
        unique_ids = [c["unique_id"] for c in configs.values()]
        assert len(set(unique_ids)) == len(unique_ids)
        for room, slug in ROOMS.items():
            mine = {t: c for t, c in configs.items() if f"/miserymeter_{slug}/" in t}
            assert {t.split("/")[3] for t in mine} == set(ENTITIES)
            for config_ in mine.values():
                assert config_["device"]["name"] == f"Misery Meter {room}"
                assert config_["device"]["identifiers"] == [f"miserymeter_{slug}"]
                assert config_["availability_topic"] == f"miserymeter/{slug}/availability"
                assert config_["state_topic"].startswith(f"miserymeter/{slug}/")
            watcher.wait_last(f"miserymeter/{slug}/availability", "online")
            assert float(watcher.last(f"miserymeter/{slug}/loudness_dbfs") or "nan") < 0

        listeners["Toddlers"].kill()
        watcher.wait_last("miserymeter/toddlers/availability", "offline")  # the last will
        assert watcher.last("miserymeter/room_1/availability") == "online"
        assert listeners["Room 1"].finish() == 0, "".join(listeners["Room 1"].stderr.lines)
        watcher.wait_last("miserymeter/room_1/availability", "offline")
    finally:
        for listener in listeners.values():
            if listener.process.poll() is None:
                listener.kill()
    with open_store(database) as store:  # the killed room never said it stopped
        assert [e.kind for e in store.events(room="Room 1")][-1] == "stopped"
        assert "stopped" not in [e.kind for e in store.events(room="Toddlers")]


def test_a_second_listener_given_a_room_in_use_is_refused(
    store_target: str, run_cli: CliRunner, tmp_path: Path
) -> None:
    """A config copied to a new Pi unchanged: its listener starts while the room's own one
    stores a second each second. It is refused in one line naming the room, before it stores,
    closes or sends anything, and the room's listener goes on, alone in it; so is one whose
    room differs only in case (its topics, MQTT client id and files would be the same)."""
    rate_hz = 16_000
    quiet = np.random.default_rng(0).normal(0.0, 3e-4, 60 * rate_hz)
    recording = tmp_path / "quiet.flac"
    sf.write(recording, quiet[: 5 * rate_hz], rate_hz)
    with LiveListener(quiet, room="Bärenhöhle", db=store_target, serve=False) as first:
        with open_store(store_target) as store:
            wait_until(lambda: store.latest_second("Bärenhöhle") is not None, "a stored second")
        second = run_cli(
            "listen", "--input", recording, "--room", "Bärenhöhle", "--db", store_target,
            "--no-clips",
        )  # fmt: skip
        assert_refused_after_watching(second, "'Bärenhöhle'", "another listener", "--room")
        alike = run_cli(  # one MQTT client id, one file name: barenhohle
            "listen", "--input", recording, "--room", "BÄRENHÖHLE", "--db", store_target,
            "--no-clips",
        )  # fmt: skip
        assert_refused_after_watching(alike, "'Bärenhöhle'", "'BÄRENHÖHLE'", "case or punctuation")
        first.process.send_signal(signal.SIGTERM)
        assert first.finish() == 0, first.stderr
    with open_store(store_target) as store:
        kinds = [e.kind for e in store.events(room="Bärenhöhle")]
        assert store.rooms() == ["Bärenhöhle"]
    assert kinds == ["started", "stopped"]


def test_stopped_while_watching_a_room_the_listener_stops_before_it_stores_anything(
    store_target: str, tmp_path: Path
) -> None:
    """A listener restarted at once after its run was killed watches the room a few seconds,
    in case another one stores it. Ctrl-C (or systemd's SIGTERM) meanwhile stops it there,
    with one 'stopped' line, before it stores, sends or closes anything in a room that may be
    another's (the watch ended and the run went on: it stored its started and stopped events
    and closed the killed run's open episode, though the room's listener may be alive)."""
    room = "nursery"
    now = utc_now()
    with open_store(store_target) as store:
        started = ListenerEvent(room, now - timedelta(seconds=1), "started", "listening")
        store.write([started, SecondRecord(room, now, 0.0, -60.0, 0.1, "silence")])
    recording = tmp_path / "quiet.flac"
    sf.write(recording, np.zeros(16_000 * 5, dtype=np.float32), 16_000)
    options = ListenOptions(input=str(recording), room=room, db=store_target, no_clips=True)
    said = io.StringIO()
    stop = threading.Event()
    stop.set()  # Ctrl-C as the watch begins: the watch sees it at its first look
    terminal = Terminal(Console(file=io.StringIO()), Console(file=said, width=300))
    run_listen(options, config=None, terminal=terminal, stop=stop)
    watching, stopped = said.getvalue().splitlines()  # neither a silent wait nor a traceback
    assert " watching: room 'nursery' was heard " in watching
    assert watching.endswith("making sure no other listener stores it now (up to 5 s)"), watching
    assert stopped.endswith(f" stopped: before listening to room '{room}'")
    with open_store(store_target) as store:
        assert store.events(room=room) == [started]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--input", "missing.flac"], "missing.flac"),
        (["--model", "nope.onnx"], "nope.onnx"),
        (["--label", "dog"], "--label"),
        (["--hop_s", "5"], "--hop_s"),
    ],
)
def test_a_mistake_in_the_options_is_said_at_once_not_after_watching_the_room(
    store_target: str, run_cli: CliRunner, args: list[str], named: str
) -> None:
    """Restarted after a kill, with a typo: the one error line, without the watch of the
    room before it (5 s, then a line that has nothing to do with the mistake)."""
    now = utc_now()
    with open_store(store_target) as store:
        started = ListenerEvent("nursery", now - timedelta(seconds=1), "started", "listening")
        store.write([started, SecondRecord("nursery", now, 0.0, -60.0, 0.1, "silence")])
    quiet = EXAMPLES_DIR / "quiet-room-synthetic.flac"
    mistaken = run_cli(
        "listen", "--input", quiet, "--room", "nursery", "--db", store_target, *args
    )  # fmt: skip
    assert_one_error_line(mistaken, named)


def test_a_replay_of_last_night_is_a_listener_storing_its_room(
    store_target: str, run_cli: CliRunner, tmp_path: Path
) -> None:
    """A replay dates its seconds when they were heard (last night), so they are never recent:
    another run started in its room while it replays (a second night replayed alongside, or
    the live listener) is refused as for a live one. It went on, closed the episode the replay
    was in as one left by a killed run (its crying_stopped sent early, then again), and the
    first of the two to stop made the room look not listening while the other stored it."""
    rate_hz = 16_000
    night = tmp_path / "20261124T210000.000000Z.flac"  # 12 h: minutes to replay, not seconds
    with sf.SoundFile(night, "w", rate_hz, 1, subtype="PCM_16") as recording:
        for _ in range(12 * 60):
            recording.write(np.zeros(60 * rate_hz, dtype=np.float32))
    other_night = tmp_path / "20261125T210000.000000Z.flac"
    sf.write(other_night, np.zeros(5 * rate_hz, dtype=np.float32), rate_hz)
    args = ["--room", "nursery", "--db", store_target, "--no-clips", "--no-gate"]
    replay = subprocess.Popen(
        [*cli_command(), "listen", "--input", str(night), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
    )
    try:
        with open_store(store_target) as store:
            wait_until(lambda: store.latest_second("nursery") is not None, "a replayed second")
        second = run_cli("listen", "--input", other_night, *args)
        assert_refused_after_watching(second, "'nursery'", "another listener", "--room")
    finally:
        replay.send_signal(signal.SIGTERM)
        assert replay.wait(WAIT_S) == 0
