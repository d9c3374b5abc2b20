"""Push notifications through apprise to a real HTTP server on 127.0.0.1, from a replayed night."""

from __future__ import annotations

import hashlib
import socket
import threading
import tomllib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from miserymeter.capture.sources import FileSource
from miserymeter.config import read_table
from miserymeter.delivery.courier import Courier
from miserymeter.delivery.destination import DeliveryError, Destination
from miserymeter.delivery.notify.destination import NotifyDestination, Service, from_config
from miserymeter.delivery.notify.messages import duration_text
from miserymeter.delivery.notify.settings import KEYS
from miserymeter.errors import ConfigError
from miserymeter.events import Event, events_from
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import Listener, ListenSettings
from miserymeter.records import CryingContinues, Episode, ListenerEvent, Record
from miserymeter.sinks.store import StoreSink
from miserymeter.store import Store, open_store
from miserymeter.store.outbox import OutboxCounts, OutboxEntry
from push_receiver import PushReceiver
from test_deploy import DEPLOY_DIR
from test_listen import CRYING, RATE_HZ, START, clip, quiet
from webhook_receiver import refused_port

DASHBOARD = "http://127.0.0.1:8080"
WHERE = "listen.toml: [notify]"


def three_episodes() -> np.ndarray:
    """Crying at 20-40 s, 100-120 s (soon after) and 270-350 s (80 s): 370 s in all."""
    crying = clip(CRYING)
    pieces = [quiet(20), np.tile(crying, 5), quiet(60), np.tile(crying, 5), quiet(150)]
    pieces += [np.tile(crying, 20), quiet(20)]
    return np.concatenate(pieces).astype(np.float32)


class Collect:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.records += records


@pytest.fixture(scope="module")
def night_records(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    """What a listener makes of the three-episode night, replayed from a file."""
    path = tmp_path_factory.mktemp("night") / "night.flac"
    sf.write(path, three_episodes(), RATE_HZ)
    collect = Collect()
    source = FileSource(path, clock=lambda: START)
    listener = Listener(
        source,
        Classifier(DEFAULT_MODEL_PATH),
        ListenSettings(),
        sinks=[collect],
        clock=lambda: START,
    )
    listener.run(threading.Event())
    return collect.records


@pytest.fixture(scope="module")
def night_events(night_records: list[Record]) -> list[Event]:
    return events_from(night_records, dashboard_url=DASHBOARD)


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    server = PushReceiver()
    yield server
    server.close()


def destination(*urls: object, **table: Any) -> NotifyDestination:
    return from_config({"urls": list(urls), "time_zone": "UTC", **table}, where=WHERE)


def deliver(events: list[Event], to: NotifyDestination) -> None:
    """What the outbox does: ask `wants` in order, then send what it wanted."""
    for event in [e for e in events if to.wants(e)]:
        to.send(event)


def test_the_night_has_three_episodes_and_minutes_of_crying(night_records: list[Record]) -> None:
    episodes = [r for r in night_records if isinstance(r, Episode)]
    assert [round(e.start_offset_s / 10) * 10 for e in episodes] == [20, 100, 270]
    continues = [r for r in night_records if isinstance(r, CryingContinues)]
    (long_one,) = continues  # 80 s of crying: one whole minute
    # Told at the first second of crying once a whole minute has passed.
    assert long_one.start == episodes[2].start and 60 <= long_one.duration_s < 63
    assert long_one.at == long_one.start + timedelta(seconds=long_one.duration_s)
    assert long_one.offset_s == long_one.start_offset_s + long_one.duration_s


def with_its_day(at: datetime) -> str:
    """'Wed 25 Nov 21:24': these nights were long gone when they were pushed."""
    return f"{at:%a} {at.day} {at:%b %H:%M}"


def test_one_push_per_episode_with_its_link(
    night_events: list[Event], receiver: PushReceiver
) -> None:
    deliver(night_events, destination(receiver.url(), cooldown_min=0, escalate_after_min=0))
    starts = [p for p in receiver.pushes if p.title == "Crying in nursery"]
    assert len(starts) == 3
    episodes = [e for e in night_events if e.kind == "crying_stopped"]
    for push, episode in zip(starts, episodes, strict=True):
        start = datetime.fromisoformat(episode.data["start"])
        assert push.body == (
            f"Crying since {with_its_day(start)}.\n"
            f"{DASHBOARD}/rooms/nursery/episodes/{episode.data['start']}"
        )
        assert push.path == "/push"
    assert receiver.titles()[-1] == "Monitor in nursery stopped listening"  # the file ended


def test_the_cooldown_holds_back_the_episode_soon_after(
    night_events: list[Event], receiver: PushReceiver
) -> None:
    # the second episode starts about 65 s after the first ended; the third 230 s after
    deliver(night_events, destination(receiver.url(), cooldown_min=2, escalate_after_min=0))
    starts = [p.body.split("\n")[1] for p in receiver.pushes if p.title == "Crying in nursery"]
    episodes = [e.data["url"] for e in night_events if e.kind == "crying_stopped"]
    assert starts == [episodes[0], episodes[2]]


def test_a_long_episode_escalates_once(night_events: list[Event], receiver: PushReceiver) -> None:
    deliver(night_events, destination(receiver.url(), escalate_after_min=1, on_end=True))
    (still,) = [p for p in receiver.pushes if p.title == "Still crying in nursery"]
    (continues,) = [e for e in night_events if e.kind == "still_crying"]
    start = datetime.fromisoformat(continues.data["start"])
    said = f"Crying for 1 min now, since {with_its_day(start)}.\n{continues.data['url']}"
    assert still.body == said
    ended = [p for p in receiver.pushes if p.title == "Crying stopped in nursery"]
    assert len(ended) == 2  # the second episode was held back by the cool-down: no end either
    last = [e for e in night_events if e.kind == "crying_stopped"][-1]
    assert ended[-1].body.startswith(f"Cried {duration_text(last.data['duration_s'])}, ")
    assert last.data["duration_s"] > 75


def test_quiet_hours_silence_the_night_but_not_the_monitor_stopping(
    night_events: list[Event], receiver: PushReceiver
) -> None:
    deliver(night_events, destination(receiver.url(), quiet_hours="21:00-22:00"))  # 21:30 UTC
    assert receiver.titles() == ["Monitor in nursery stopped listening"]


def test_alerts_on_a_microphone_lost_again_and_again(receiver: PushReceiver) -> None:
    lost = [
        ListenerEvent("nursery", START + timedelta(minutes=m), "microphone_lost", "no audio")
        for m in range(0, 50, 2)
    ]
    back = ListenerEvent("nursery", START + timedelta(minutes=51), "microphone_reopened", "ok")
    deliver(events_from([*lost, back]), destination(receiver.url(), alert_every_min=20))
    assert receiver.titles() == ["Monitor in nursery is not hearing"] * 3 + [
        "Microphone in nursery is back"
    ]
    assert receiver.pushes[1].body == "no audio (Wed 25 Nov 21:50)."  # a night long gone
    assert [p.notify_type for p in receiver.pushes] == ["warning"] * 3 + ["success"]


def test_a_failing_service_is_a_delivery_error_and_the_retry_pushes_once(
    receiver: PushReceiver,
) -> None:
    other = PushReceiver()
    try:
        target = destination(receiver.url("hook/s3cr3t-token"), other.url())
        (event,) = events_from([ListenerEvent("nursery", START, "stopped", "stopped after 10 s")])
        assert target.wants(event)
        receiver.status = 500
        with pytest.raises(DeliveryError) as raised:
            target.send(event)
        message = str(raised.value)
        assert "json:// (URL 1 of 2 in urls)" in message and "HTTP 500" in message
        assert "s3cr3t" not in message and "URL 2" not in message
        assert len(other.pushes) == 1
        receiver.status = 200
        target.send(event)  # the retry: only the service that failed is pushed to again
        assert len(receiver.pushes) == 1 and len(other.pushes) == 1
    finally:
        other.close()


def run_courier_once(store: Store, target: NotifyDestination) -> None:
    """A run of `listen`'s courier that is told to stop as it starts: it tries what waits in
    the outbox once, then closes."""
    courier = Courier(
        store, target, room="nursery", on_event=lambda kind, message: None, close_timeout_s=60.0
    )
    courier.start()
    courier.close()


def test_the_services_that_took_a_push_are_not_pushed_to_again_after_a_restart(
    tmp_path: Path,
) -> None:
    """listen stops (a crash, a power cut) while one of three services is down: its next run
    pushes to that one only, not again to the two that had taken the push."""
    receivers = [PushReceiver() for _ in range(3)]
    try:
        table = {"urls": [r.url() for r in receivers], "time_zone": "UTC"}
        (event,) = events_from([ListenerEvent("nursery", START, "microphone_lost", "gone")])
        receivers[2].status = 500
        with open_store(tmp_path / "outbox.db") as store:
            first_run = from_config(table, where=WHERE)
            assert first_run.wants(event)
            store.write([], outbox=[OutboxEntry(first_run.name, event)])
            run_courier_once(store, first_run)
            (waiting,) = store.pending(first_run.name, room="nursery")
            assert waiting.attempts == 1 and "URL 3 of 3" in (waiting.last_error or "")
        assert [len(r.pushes) for r in receivers] == [1, 1, 0]
        receivers[2].status = 200
        with open_store(tmp_path / "outbox.db") as store:  # the next run: a new process
            next_run = from_config(table, where=WHERE)
            run_courier_once(store, next_run)
            assert store.outbox_counts(next_run.name) == OutboxCounts(0, 0)
        assert [r.titles() for r in receivers] == [["Monitor in nursery is not hearing"]] * 3
    finally:
        for receiver in receivers:
            receiver.close()


def test_the_outbox_names_a_url_that_took_a_push_by_no_hash_of_it_alone(tmp_path: Path) -> None:
    """A copy of the database does not let anyone check a guess of a URL's secrets (a short
    ntfy topic) against it: its name in the outbox depends on every URL of the config."""
    receivers = [PushReceiver() for _ in range(3)]
    try:
        urls = [r.url(f"topic-{i}") for i, r in enumerate(receivers)]
        target = destination(*urls)
        (event,) = events_from([ListenerEvent("nursery", START, "microphone_lost", "gone")])
        receivers[2].status = 500
        with open_store(tmp_path / "outbox.db") as store:
            store.write([], outbox=[OutboxEntry(target.name, event)])
            run_courier_once(store, target)
            (waiting,) = store.pending(target.name, room="nursery")
        plain = {old_url_key(s) for s in target.services}
        assert len(waiting.taken) == 2 and not waiting.taken & plain
        other = destination(*urls[:2], receivers[2].url("another-topic"))
        assert not waiting.taken & {s.key for s in other.services}
    finally:
        for receiver in receivers:
            receiver.close()


def test_an_outbox_of_the_earlier_plain_hashes_pushes_nothing_twice(tmp_path: Path) -> None:
    """A database written by an earlier miserymeter (schema 4), kept where its URLs are named
    by a plain hash: after the upgrade a push that two of three URLs took goes to the third."""
    receivers = [PushReceiver() for _ in range(3)]
    try:
        target = destination(*[r.url() for r in receivers])
        (event,) = events_from([ListenerEvent("nursery", START, "microphone_lost", "gone")])
        with open_store(tmp_path / "outbox.db") as store:
            store.write([], outbox=[OutboxEntry(target.name, event)])
            (entry,) = store.pending(target.name, room="nursery")
            for service in target.services[:2]:
                store.taken(entry.seq, old_url_key(service))
            run_courier_once(store, target)
            assert store.outbox_counts(target.name) == OutboxCounts(0, 0)
        assert [len(r.pushes) for r in receivers] == [0, 0, 1]
    finally:
        for receiver in receivers:
            receiver.close()


def test_a_url_that_took_a_push_before_the_upgrade_is_not_held_back_by_one_that_is_down(
    tmp_path: Path,
) -> None:
    """Of an outbox written by an earlier miserymeter, the first push was taken by URL 1 (named
    by its plain hash) and not by URL 2, which is still down: URL 1 gets the next push at once,
    it does not wait behind URL 2's."""
    receivers = [PushReceiver() for _ in range(2)]
    try:
        target = destination(*[r.url() for r in receivers])
        lost, back = events_from(
            [
                ListenerEvent("nursery", START, "microphone_lost", "gone"),
                ListenerEvent("nursery", START + timedelta(minutes=5), "microphone_reopened", "ok"),
            ]
        )
        receivers[1].status = 500
        with open_store(tmp_path / "outbox.db") as store:
            store.write([], outbox=[OutboxEntry(target.name, e) for e in (lost, back)])
            first, _ = store.pending(target.name, room="nursery")
            store.taken(first.seq, old_url_key(target.services[0]))
            run_courier_once(store, target)
        assert receivers[0].titles() == ["Microphone in nursery is back"]
    finally:
        for receiver in receivers:
            receiver.close()


def old_url_key(service: Service) -> str:
    """What miserymeter wrote to the outbox for a URL before (and still reads): a plain hash."""
    return hashlib.sha256(service.apprise[0].url(privacy=False).encode()).hexdigest()[:16]


def test_a_service_that_is_down_holds_back_its_own_pushes_only(tmp_path: Path) -> None:
    """While one of three services fails, the other two get every push; back, it gets the
    pushes it missed, in order, and no service gets one twice."""
    receivers = [PushReceiver() for _ in range(3)]
    try:
        table = {"urls": [r.url() for r in receivers], "time_zone": "UTC"}
        lost, back = events_from(
            [
                ListenerEvent("nursery", START, "microphone_lost", "gone"),
                ListenerEvent("nursery", START + timedelta(minutes=5), "microphone_reopened", "ok"),
            ]
        )
        target = from_config(table, where=WHERE)
        receivers[1].status = 500
        with open_store(tmp_path / "outbox.db") as store:
            store.write([], outbox=[OutboxEntry(target.name, e) for e in (lost, back)])
            run_courier_once(store, target)
            first, second = store.pending(target.name, room="nursery")
            assert "URL 2 of 3" in (first.last_error or "") and len(second.taken) == 2
            receivers[1].status = 200
            run_courier_once(store, target)
            assert store.outbox_counts(target.name) == OutboxCounts(0, 0)
        titles = ["Monitor in nursery is not hearing", "Microphone in nursery is back"]
        assert [r.titles() for r in receivers] == [titles] * 3
    finally:
        for receiver in receivers:
            receiver.close()


def test_a_service_that_is_down_is_a_delivery_error() -> None:
    with refused_port() as port:
        target = destination(f"json://127.0.0.1:{port}/push")
        (event,) = events_from([ListenerEvent("nursery", START, "stopped", "stopped")])
        with pytest.raises(DeliveryError, match="cannot connect"):
            target.send(event)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose server takes connections (the kernel does) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_service_that_does_not_answer_in_time_is_not_called_down(
    silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    target = destination(f"json://user:s3cr3t@127.0.0.1:{silent_port}/push?rto=0.5")
    (event,) = events_from([ListenerEvent("nursery", START, "stopped", "stopped")])
    with pytest.raises(DeliveryError) as raised:
        target.send(event)
    message = str(raised.value)
    assert "json:// (URL 1 of 1 in urls): the service did not answer within 0.5 s (" in message
    assert "rto=SECONDS in its URL waits longer" in message and "cannot connect" not in message
    assert "s3cr3t" not in message + caplog.text  # apprise's DEBUG lines, kept, are not logged


def test_check_connects_to_each_server_without_pushing(receiver: PushReceiver) -> None:
    destination(receiver.url()).check()
    assert receiver.pushes == []
    with refused_port() as port, pytest.raises(DeliveryError) as raised:
        destination(receiver.url(), f"json://user:s3cr3t@127.0.0.1:{port}/push").check()
    message = str(raised.value)
    assert f"json:// (URL 2 of 2 in urls): 127.0.0.1:{port} (Connection refused)" in message
    assert "URL 1 " not in message and "s3cr3t" not in message
    # Slack keeps a token where a host would be: it is not taken for a server to connect to.
    destination("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ").check()


def test_a_url_apprise_cannot_use_is_left_out_naming_its_place() -> None:
    partly = destination("json://127.0.0.1/push", "tgram://s3cr3t/")
    assert [s.label for s in partly.services] == ["json:// (URL 1 of 2 in urls)"]
    (message,) = partly.left_out
    assert message.startswith(WHERE) and "tgram:// (URL 2 of 2 in urls)" in message
    assert "s3cr3t" not in message
    with pytest.raises(ConfigError, match="URL 1 of 1"):
        destination("no-scheme-here")
    with pytest.raises(ConfigError, match="none of the other 2 urls can be used") as raised:
        destination(42, "tgram://s3cr3t/", "no-scheme-here")
    assert "URL 1 of 3 in urls is 42, not a string" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_a_url_given_twice_is_pushed_to_once_with_a_warning() -> None:
    twice = destination(
        "json://127.0.0.1/push",
        "json://127.0.0.1/other",
        "json://127.0.0.1/push",
        "JSON://127.0.0.1/push?method=POST",  # the same URL, as apprise reads it
    )
    assert [s.label for s in twice.services] == [
        "json:// (URL 1 of 4 in urls)",
        "json:// (URL 2 of 4 in urls)",
    ]
    assert ["is URL 1 again" in m for m in twice.left_out] == [True, True]
    assert "(URL 4 of 4 in urls)" in twice.left_out[1]


def test_the_store_sink_keeps_crying_continues_out_of_the_database(
    night_records: list[Record], tmp_path: Path
) -> None:
    store = open_store(tmp_path / "night.db")
    sink = StoreSink(store)
    sink.handle(night_records)
    sink.close()
    assert sink.n_pending == 0 and sink.n_dropped == 0
    with open_store(tmp_path / "night.db") as reopened:
        assert len(reopened.episodes(room="nursery")) == 3
        since = datetime(2000, 1, 1, tzinfo=UTC)
        assert len(reopened.seconds("nursery", since, START + timedelta(hours=1))) == 370


def test_the_example_config_documents_the_defaults() -> None:
    """deploy/listen.toml's commented [notify] table, uncommented, is the default settings."""
    lines = (DEPLOY_DIR / "listen.toml").read_text().splitlines()
    first = lines.index("# [notify]")
    table = tomllib.loads("\n".join(line.removeprefix("# ") for line in lines[first:]))
    documented = from_config(table["notify"], where=WHERE).settings
    default = from_config({"urls": table["notify"]["urls"]}, where=WHERE).settings
    assert documented == default
    assert set(table["notify"]) == KEYS


def test_a_config_file_with_a_secret_from_the_environment(
    receiver: PushReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text('[notify]\nurls = ["json://127.0.0.1:${PUSH_PORT}/push"]\non_end = true\n')
    monkeypatch.setenv("PUSH_PORT", str(receiver.port))
    table = read_table(config, "notify")
    assert isinstance(table, dict)
    target: Destination = from_config(table, where=f"{config}: [notify]")  # the contract
    (event,) = events_from([ListenerEvent("nursery", START, "microphone_lost", "gone")])
    assert target.wants(event)
    target.send(event)
    assert receiver.titles() == ["Monitor in nursery is not hearing"]
