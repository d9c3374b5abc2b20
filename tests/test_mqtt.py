"""MQTT and Home Assistant discovery against a real mosquitto broker on loopback."""

from __future__ import annotations

import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import soundfile as sf

from conftest import cli_env
from miserymeter.capture.sources import FileSource
from miserymeter.delivery.destination import DeliveryError
from miserymeter.delivery.mqtt import client as mqtt_client
from miserymeter.delivery.mqtt.client import connect_failure
from miserymeter.delivery.mqtt.destination import MqttDestination, from_config
from miserymeter.delivery.mqtt.settings import mqtt_settings
from miserymeter.delivery.mqtt.tonight import NightTally
from miserymeter.errors import ConfigError
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, Event, events_from, make_event
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.nights import night_bounds, night_of
from miserymeter.pipeline import Listener, ListenSettings
from miserymeter.records import CryingStarted, Episode, Record, SecondRecord
from miserymeter.rooms import room_slug
from miserymeter.store import open_store
from mosquitto_broker import WAIT_S, MosquittoBroker, Watcher
from test_listen import RATE_HZ, small_night
from webhook_receiver import refused_port

Broker = Callable[..., MosquittoBroker]
Destinations = Callable[..., MqttDestination]
Watchers = Callable[..., Watcher]
ACK_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("night") / "night.flac"
    sf.write(path, small_night(), RATE_HZ)
    return path


@pytest.fixture
def destinations() -> Iterator[Callable[..., MqttDestination]]:
    """`destination(broker, room="nursery", **table)`: connected, closed at the end."""
    made: list[MqttDestination] = []

    def connect(
        broker: MosquittoBroker, *, room: str = "nursery", **table: object
    ) -> MqttDestination:
        destination = from_config(
            {"url": broker.url, **table},
            where="test [mqtt]",
            room=room,
            ack_timeout_s=ACK_TIMEOUT_S,
        )
        made.append(destination)
        return destination

    yield connect
    for destination in made:
        destination.close()


@pytest.fixture
def watchers() -> Iterator[Callable[..., Watcher]]:
    made: list[Watcher] = []

    def watch(broker: MosquittoBroker, *topics: str, **credentials: str) -> Watcher:
        made.append(Watcher(broker, *topics, **credentials))
        return made[-1]

    yield watch
    for watcher in made:
        watcher.close()


def started(room: str = "nursery", *, at: datetime | None = None) -> Event:
    """A crying_started event as the listener makes it."""
    at = at or datetime.now(UTC)
    return make_event(room, at, CRYING_STARTED, {"label": "crying", "start": _iso(at)})


def stopped(room: str = "nursery", *, start: datetime, duration_s: float) -> Event:
    end = start + timedelta(seconds=duration_s)
    data = {"label": "crying", "start": _iso(start), "end": _iso(end), "duration_s": duration_s}
    return make_event(room, end, CRYING_STOPPED, data)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def connected(destination: MqttDestination) -> MqttDestination:
    assert destination.connection.wait_connected(WAIT_S), destination.connection.why_not_connected()
    return destination


# --- settings ---------------------------------------------------------------------------------


def test_a_broker_url_gives_host_port_tls_and_credentials() -> None:
    settings = mqtt_settings({"url": "mqtts://ha%40home:p%3Ass@broker.lan"}, where="x")
    assert (settings.host, settings.port, settings.tls) == ("broker.lan", 8883, True)
    assert (settings.username, settings.password) == ("ha@home", "p:ss")
    assert "p:ss" not in repr(settings)
    plain = mqtt_settings({"url": "mqtt://broker.lan", "password": "k"}, where="x")
    assert (plain.port, plain.tls, plain.discovery, plain.topic_prefix) == (
        1883, False, True, "miserymeter",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"url": "http://broker"}, "url"),
        ({"url": "mqtt://:1883"}, "url"),
        ({"url": "mqtt://broker:port"}, "bad port"),
        ({"url": "mqtt://broker", "pasword": "x"}, "unknown key pasword"),
        ({"url": "mqtt://broker", "discovery": "yes"}, "discovery = 'yes': write true or false"),
        ({"url": "mqtt://broker", "keepalive_s": "60"}, "keepalive_s = '60': write a number"),
        ({"url": "mqtt://broker", "client_id": 7}, "client_id = 7: write text in quotes"),
        ({"url": "mqtt://broker", "topic_prefix": "home/#"}, "topic_prefix"),
        ({"url": "mqtt://broker", "keepalive_s": 1}, "keepalive_s"),
        ({"username": "x"}, "url is missing"),
    ],
)
def test_a_bad_table_is_one_error_naming_where_and_the_key(
    table: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match=r"^listen.toml: \[mqtt\]: ") as raised:
        mqtt_settings(table, where="listen.toml: [mqtt]")
    assert named in str(raised.value)


@pytest.mark.parametrize("password", ["p#ss", "pa/ss", "p?ss@:x"])
def test_a_password_that_breaks_the_url_is_hidden_and_how_to_write_it_said(password: str) -> None:
    with pytest.raises(ConfigError) as raised:
        mqtt_settings({"url": f"mqtt://miserymeter:{password}@broker.lan:1883"}, where="x")
    said = str(raised.value)
    assert password not in said
    assert "'mqtt://miserymeter:***@broker.lan:1883'" in said
    assert "a password's / # ? @ : are written %2F %23 %3F %40 %3A" in said


def test_an_array_of_tables_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"must be one table"):
        mqtt_settings([{"url": "mqtt://broker"}], where="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["tls_ca_certs", "tls_certfile", "tls_keyfile"])
def test_a_missing_certificate_file_is_a_config_error_naming_it(tmp_path: Path, key: str) -> None:
    missing = tmp_path / "none.crt"
    table = {"url": "mqtts://127.0.0.1", key: str(missing)}
    with pytest.raises(ConfigError) as raised:
        from_config(table, where="listen.toml: [mqtt]", room="nursery")
    assert str(raised.value) == (
        f"listen.toml: [mqtt]: {key} = '{missing}' is not a file; write the path of the "
        "certificate (PEM) file"
    )


@pytest.mark.parametrize(
    ("room", "slug"),
    [
        ("Blue room", "blue_room"),
        ("Room 1", "room_1"),
        ("Toddlers", "toddlers"),
        ("Bärenhöhle", "barenhohle"),
        ("Große Zwerge", "grosse_zwerge"),
        ("Crèche 2 🐻", "creche_2"),
    ],
)
def test_a_room_name_becomes_a_topic_level(room: str, slug: str) -> None:
    assert room_slug(room) == slug


def test_names_without_an_ascii_spelling_get_their_own_slug() -> None:
    names = ["Гномики", "Мишки", "ひよこ組", "ひよこ組 2", "🐻", "Gnome Гномики"]
    slugs = [room_slug(name) for name in names]
    assert len(set(slugs)) == len(names)
    assert slugs == [room_slug(name) for name in names]  # stable: the same name, the same slug
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*_[0-9a-f]{8}", slug), slug
    assert slugs[3].startswith("2_") and slugs[5].startswith("gnome_")


# --- tonight's totals -------------------------------------------------------------------------


def test_tonight_counts_each_episode_once_and_starts_again_at_noon() -> None:
    tally = NightTally(zone=UTC)
    evening = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    tally.roll(evening)
    assert tally.started(evening) and not tally.started(evening)
    assert tally.stopped(evening, 90.0) and not tally.stopped(evening, 90.0)
    tally.stopped(evening + timedelta(hours=5), 30.0)  # 02:00: the same night
    assert (tally.totals.n_episodes, tally.totals.minutes_cried) == (2, 2.0)
    assert not tally.started(evening - timedelta(days=1))  # an earlier night's late event
    assert tally.roll(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))  # noon: the next night
    assert tally.night == date(2026, 11, 26)
    assert (tally.totals.n_episodes, tally.totals.minutes_cried) == (0, 0.0)


# --- against the broker -----------------------------------------------------------------------


def test_home_assistant_discovery_configs_are_retained(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    connected(destinations(broker, room="Blue room"))
    first = watchers(broker, "homeassistant/#")
    first.wait_for(lambda: len(first.payloads_under("homeassistant/")) == 5, "5 configs")
    watcher = watchers(broker, "homeassistant/#", "miserymeter/#")  # now: retained ones only
    watcher.wait_for(lambda: len(watcher.payloads_under("homeassistant/")) == 5, "5 configs")
    configs = {
        topic: json.loads(payload)
        for topic, payload, retained in watcher.messages
        if topic.startswith("homeassistant/") and retained
    }
    crying = configs["homeassistant/binary_sensor/miserymeter_blue_room/crying/config"]
    assert crying["device_class"] == "sound"
    assert crying["state_topic"] == "miserymeter/blue_room/crying"
    assert (crying["payload_on"], crying["payload_off"]) == ("ON", "OFF")
    sensors = {
        t.split("/")[3]: c for t, c in configs.items() if t.startswith("homeassistant/sensor")
    }
    assert set(sensors) == {"loudness", "probability", "episodes_tonight", "minutes_cried_tonight"}
    assert sensors["loudness"]["unit_of_measurement"] == "dBFS"
    assert sensors["loudness"]["state_class"] == "measurement"
    assert sensors["minutes_cried_tonight"]["unit_of_measurement"] == "min"
    assert len({c["unique_id"] for c in configs.values()}) == 5
    for topic, config in configs.items():
        # the entity ids docs/notifications.md's automation names, in Home Assistant from
        # 2025.10 (default_entity_id) and before it (object_id)
        component = topic.split("/")[1]
        assert config["default_entity_id"] == f"{component}.{config['unique_id']}"
        assert config["availability_topic"] == "miserymeter/blue_room/availability"
        assert config["device"]["identifiers"] == ["miserymeter_blue_room"]
        assert config["device"]["name"] == "Misery Meter Blue room"
        assert config["object_id"] == config["unique_id"]
        assert config["device"]["sw_version"]
    watcher.wait_last("miserymeter/blue_room/availability", "online")
    # the state of the crying sensor and tonight's totals is known before the first second
    state_topics = {c["state_topic"] for c in configs.values()} - {
        "miserymeter/blue_room/loudness_dbfs",
        "miserymeter/blue_room/probability",
    }
    watcher.wait_for(
        lambda: all(watcher.last(t) is not None for t in state_topics), "every state topic"
    )


def test_discovery_turned_off_takes_the_rooms_entities_out_of_home_assistant(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    """Home Assistant removes an entity on an empty config; the broker keeps none."""
    broker = mosquitto()
    discovered = watchers(broker, "homeassistant/#")
    connected(destinations(broker)).close()
    discovered.wait_for(lambda: len(discovered.payloads_under("homeassistant/")) == 5, "configs")
    connected(destinations(broker, discovery=False, topic_prefix="home/baby"))
    discovered.wait_for(
        lambda: discovered.payloads_under("homeassistant/")[5:] == [""] * 5, "5 empty configs"
    )
    watcher = watchers(broker, "#")  # retained ones only
    watcher.wait_last("home/baby/nursery/availability", "online")
    assert watcher.payloads_under("homeassistant/") == []


class Deliver:
    """What the outbox does, without the store: every wanted event of the records, sent."""

    def __init__(self, destination: MqttDestination) -> None:
        self.destination = destination
        self.records: list[Record] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.records += records
        for event in events_from(records):
            if self.destination.wants(event):
                self.destination.send(event)


def test_a_night_turns_crying_on_then_off_and_counts_the_episode(
    night: Path,
    mosquitto: Broker,
    destinations: Destinations,
    watchers: Watchers,
) -> None:
    broker = mosquitto()
    destination = connected(destinations(broker))
    watcher = watchers(broker, "miserymeter/#")
    watcher.wait_last("miserymeter/nursery/crying", "OFF")
    deliver = Deliver(destination)
    listener = Listener(
        FileSource(night, clock=lambda: datetime.now(UTC), start=datetime.now(UTC)),  # as live
        Classifier(DEFAULT_MODEL_PATH),
        ListenSettings(),
        sinks=[destination.state_sink, deliver],
    )
    listener.run(threading.Event())
    (episode,) = [r for r in deliver.records if isinstance(r, Episode)]
    minutes = f"{episode.duration_s / 60:.1f}"
    watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", minutes)
    watcher.wait_for(
        lambda: '"event": "stopped"' in (watcher.last("miserymeter/nursery/event") or ""),
        "the listener's last event",
    )
    assert watcher.payloads("miserymeter/nursery/crying") == ["OFF", "ON", "OFF"]
    watcher.wait_last("miserymeter/nursery/episodes_tonight", "1")
    events = [json.loads(p) for p in watcher.payloads("miserymeter/nursery/event")]
    kinds = [e["kind"] if e["kind"] != "listener" else e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "stopped"
    assert [k for k in kinds if k.startswith("crying")] == ["crying_started", "crying_stopped"]
    (stop_event,) = [e for e in events if e["kind"] == "crying_stopped"]
    assert stop_event["duration_s"] == round(episode.duration_s, 3)
    loudness = [float(p) for p in watcher.payloads("miserymeter/nursery/loudness_dbfs")]
    probability = [float(p) for p in watcher.payloads("miserymeter/nursery/probability")]
    assert loudness and all(-100 < x < 0 for x in loudness)
    assert max(probability) > 0.6 and all(0 <= p <= 1 for p in probability)


def test_a_listener_that_dies_is_offline_by_its_last_will(
    mosquitto: Broker, watchers: Watchers
) -> None:
    broker = mosquitto()
    watcher = watchers(broker, "miserymeter/+/availability")
    script = (
        "import sys, time\n"
        "from miserymeter.delivery.mqtt.destination import from_config\n"
        f"d = from_config({{'url': '{broker.url}'}}, where='x', room='nursery')\n"
        "assert d.connection.wait_connected(10)\n"
        "print('connected', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=cli_env(), text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "connected\n"
        watcher.wait_last("miserymeter/nursery/availability", "online")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(WAIT_S)
    watcher.wait_last("miserymeter/nursery/availability", "offline")


def test_close_says_offline(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    destination = connected(destinations(broker))
    watcher = watchers(broker, "miserymeter/nursery/availability")
    watcher.wait_last("miserymeter/nursery/availability", "online")
    destination.close()
    watcher.wait_last("miserymeter/nursery/availability", "offline")


def test_the_broker_wants_the_right_password(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto(users={"miserymeter": "s3cret"})
    good = destinations(broker, username="miserymeter", password="s3cret")
    url = broker.url.replace("mqtt://", "mqtt://miserymeter:wrong@")
    wrong = from_config({"url": url}, where="x", room="nursery", ack_timeout_s=ACK_TIMEOUT_S)
    anonymous = destinations(broker, room="green")
    try:
        connected(good).send(started())
        watcher = watchers(broker, "miserymeter/#", username="miserymeter", password="s3cret")
        watcher.wait_last("miserymeter/nursery/crying", "ON")
        assert good.why_down() is None
        for refused in (wrong, anonymous):
            answered(refused)
            assert "refused the connection" in (refused.why_down() or "")
            with pytest.raises(
                DeliveryError, match=r"refused the connection.*username and password"
            ):
                refused.send(started())
        assert "wrong" not in wrong.connection.why_not_connected()
    finally:
        wrong.close()


def test_events_wait_for_a_broker_that_was_down(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    destination = connected(destinations(broker))
    start = datetime.now(UTC)
    destination.send(started(at=start))
    broker.stop()
    with pytest.raises(DeliveryError, match=broker.url):
        _wait_until_disconnected(destination)
        destination.send(stopped(start=start, duration_s=60.0))
    broker.start()  # it forgot every retained message
    connected(destination).send(stopped(start=start, duration_s=60.0))
    watcher = watchers(broker, "miserymeter/#", "homeassistant/#")
    watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", "1.0")
    watcher.wait_last("miserymeter/nursery/crying", "OFF")
    watcher.wait_last("miserymeter/nursery/episodes_tonight", "1")
    watcher.wait_last("miserymeter/nursery/availability", "online")
    # ... and the discovery configs, published again on the new connection
    watcher.wait_for(lambda: len(watcher.payloads_under("homeassistant/")) == 5, "5 configs")


def test_on_reconnect_the_broker_gets_the_state_of_now_not_a_replay(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    """Down while one episode ends and the next begins: back, the retained state is that of
    now (crying ON, 2 tonight); the backlog then replays on the event topic without turning
    crying OFF and ON again (a Home Assistant automation would fire twice)."""
    broker = mosquitto()
    destination = connected(destinations(broker))
    first = datetime.now(UTC) + timedelta(seconds=1)
    second = first + timedelta(seconds=90)
    broker.stop()
    _wait_until_disconnected(destination)
    destination.state_sink.handle(
        [
            crying_started(first),
            crying_episode(first, duration_s=20.0),
            crying_started(second),
        ]
    )
    broker.start()
    connected(destination)
    watcher = watchers(broker, "miserymeter/#")
    watcher.wait_last("miserymeter/nursery/episodes_tonight", "2")
    watcher.wait_last("miserymeter/nursery/crying", "ON")
    for event in (started(at=first + timedelta(seconds=3)), stopped(start=first, duration_s=20.0)):
        destination.send(event)
    destination.send(started(at=second + timedelta(seconds=3)))
    watcher.wait_for(
        lambda: len(watcher.payloads("miserymeter/nursery/event")) == 3, "the 3 events"
    )
    assert watcher.payloads("miserymeter/nursery/crying") == ["ON"]


def crying_started(start: datetime) -> CryingStarted:
    return CryingStarted("nursery", start, start + timedelta(seconds=3), 0.0, 3.0, "model")


def crying_episode(start: datetime, *, duration_s: float) -> Episode:
    end = start + timedelta(seconds=duration_s)
    return Episode("nursery", start, end, 0.0, duration_s, 3.0, 0.9, 0.7, "model")


def _wait_until_disconnected(destination: MqttDestination) -> None:
    connection = destination.connection
    deadline = datetime.now(UTC) + timedelta(seconds=WAIT_S)
    while connection.is_connected and datetime.now(UTC) < deadline:
        threading.Event().wait(0.02)


def test_two_rooms_on_one_broker_do_not_mix(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    blue = connected(destinations(broker, room="blue"))
    green = connected(destinations(broker, room="green"))
    watcher = watchers(broker, "miserymeter/#", "homeassistant/#")
    assert not blue.wants(started("green")) and green.wants(started("green"))
    blue.send(started("blue"))
    watcher.wait_last("miserymeter/blue/crying", "ON")
    watcher.wait_last("miserymeter/green/crying", "OFF")
    assert watcher.payloads("miserymeter/green/event") == []
    watcher.wait_for(lambda: len(watcher.payloads_under("homeassistant/")) == 10, "10 configs")
    unique_ids = {json.loads(p)["unique_id"] for p in watcher.payloads_under("homeassistant/")}
    assert len(unique_ids) == 10


def test_rooms_named_without_ascii_letters_are_two_devices(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    watcher = watchers(broker, "miserymeter/#", "homeassistant/#")
    rooms = ("Гномики", "Мишки")
    for room in rooms:
        connected(destinations(broker, room=room))
    watcher.wait_for(lambda: len(watcher.payloads_under("homeassistant/")) == 10, "10 configs")
    configs = [json.loads(p) for p in watcher.payloads_under("homeassistant/")]
    assert len({c["unique_id"] for c in configs}) == 10
    assert {c["device"]["name"] for c in configs} == {f"Misery Meter {r}" for r in rooms}
    for room in rooms:
        watcher.wait_last(f"miserymeter/{room_slug(room)}/availability", "online")
    assert all(t.isascii() for t, _, _ in watcher.messages)


def test_tonight_starts_from_the_stored_episodes(
    tmp_path: Path, mosquitto: Broker, watchers: Watchers
) -> None:
    broker = mosquitto()
    now = datetime.now(UTC)
    start = max(now - timedelta(minutes=3), night_bounds(night_of(now))[0])  # tonight, even at noon
    episode = Episode(
        "nursery", start, start + timedelta(seconds=90), 0.0, 90.0, 5.0, 1.0, 0.9, "model"
    )
    with open_store(tmp_path / "db.sqlite") as store:
        store.write([episode])
        destination = from_config({"url": broker.url}, where="x", room="nursery", store=store)
    try:
        connected(destination)
        watcher = watchers(broker, "miserymeter/#")
        watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", "1.5")
        watcher.wait_last("miserymeter/nursery/episodes_tonight", "1")
        destination.send(stopped(start=start, duration_s=90.0))  # delivered again: counted once
        watcher.wait_last("miserymeter/nursery/episodes_tonight", "1")
        watcher.wait_for(lambda: len(watcher.payloads("miserymeter/nursery/event")) == 1, "event")
        watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", "1.5")
    finally:
        destination.close()


def test_tonights_totals_start_from_zero_at_noon(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto()
    destination = connected(destinations(broker))
    destination.send(stopped(start=datetime.now(UTC), duration_s=120.0))
    watcher = watchers(broker, "miserymeter/nursery/+")
    watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", "2.0")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    destination.state_sink.handle([SecondRecord("nursery", tomorrow, 0.0, -50.0, None, None)])
    watcher.wait_last("miserymeter/nursery/minutes_cried_tonight", "0.0")
    watcher.wait_last("miserymeter/nursery/episodes_tonight", "0")
    watcher.wait_last("miserymeter/nursery/probability", "0.0000")  # the model was not run


def answered(destination: MqttDestination) -> None:
    """Wait until the client's attempt to connect has failed: what it then says is the
    broker's answer, not "not connected yet" (on a busy machine the answer takes a while)."""
    deadline_s = time.monotonic() + WAIT_S
    while destination.connection.last_error is None:
        assert time.monotonic() < deadline_s, destination.connection.why_not_connected()
        time.sleep(0.05)


def test_tls_with_the_brokers_ca(
    mosquitto: Broker, destinations: Destinations, watchers: Watchers
) -> None:
    broker = mosquitto(tls=True)
    assert broker.tls is not None
    destination = destinations(broker, tls_ca_certs=str(broker.tls.ca_cert))
    untrusted = destinations(broker, room="green")  # the system's CAs do not know this one
    connected(destination).send(started())
    watcher = watchers(broker, "miserymeter/#")
    watcher.wait_last("miserymeter/nursery/crying", "ON")
    answered(untrusted)
    assert not untrusted.connection.wait_connected(0.5)
    with pytest.raises(DeliveryError, match=r"certificate is not trusted .*set tls_ca_certs"):
        untrusted.send(started("green"))


def test_tls_to_a_plain_port_and_plain_to_a_tls_port_are_told_apart(
    mosquitto: Broker, destinations: Destinations
) -> None:
    plain, tls = mosquitto(), mosquitto(tls=True)
    assert tls.tls is not None
    tls_to_plain = destinations(plain, url=plain.url.replace("mqtt://", "mqtts://"))
    plain_to_tls = destinations(tls, url=tls.url.replace("mqtts://", "mqtt://"))
    for destination in (tls_to_plain, plain_to_tls):
        answered(destination)
    said = tls_to_plain.connection.why_not_connected()
    assert "broke off the TLS handshake: is that port a TLS one? write mqtt://" in said
    said = plain_to_tls.connection.why_not_connected()
    assert "hung up before it answered as an MQTT broker: is the port an MQTT broker's" in said
    assert said.endswith("for a TLS port write mqtts://host:port"), said


def test_two_listeners_with_one_client_id_are_told_so_and_stop_taking_turns(
    mosquitto: Broker, destinations: Destinations, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config copied to a second room with its client_id set: the broker drops the older
    of two clients with one id, each time the other connects. The one dropped twice soon
    after connecting says why, and leaves the broker to the other for a minute."""
    monkeypatch.setattr(mqtt_client, "SHORT_LIVED_S", 120.0)  # however busy the machine is
    broker = mosquitto()
    first = connected(destinations(broker, room="ladybirds", client_id="miserymeter-nursery"))
    second = destinations(broker, room="bees", client_id="miserymeter-nursery")
    deadline_s = time.monotonic() + WAIT_S
    while not any(
        "another client uses" in (d.connection.last_error or "") for d in (first, second)
    ):
        assert time.monotonic() < deadline_s, first.connection.why_not_connected()
        time.sleep(0.05)
    dropped, kept = (first, second) if first.connection.last_error else (second, first)
    said = dropped.connection.why_not_connected()
    assert "'miserymeter-nursery'" in said and "give each listener its own client_id" in said
    assert kept.connection.wait_connected(WAIT_S)  # the other one has the broker now


def test_a_port_where_nothing_listens_says_so() -> None:
    with refused_port() as port:
        url = f"mqtt://127.0.0.1:{port}"
        destination = from_config({"url": url}, where="x", room="nursery")
        try:
            answered(destination)
            said = destination.connection.why_not_connected()
        finally:
            destination.close()
    assert said == (
        f"nothing listens at the MQTT broker {url}: is the broker running, and is the port right?"
    )


def test_a_certificate_for_another_host_says_to_write_its_name(mosquitto: Broker) -> None:
    broker = mosquitto(tls=True)
    assert broker.tls is not None
    context = ssl.create_default_context(cafile=str(broker.tls.ca_cert))
    with (
        socket.create_connection(("127.0.0.1", broker.port)) as connection,
        pytest.raises(ssl.SSLCertVerificationError) as mismatch,
    ):  # the certificate names localhost and 127.0.0.1
        context.wrap_socket(connection, server_hostname="broker.example")
    settings = mqtt_settings({"url": "mqtts://broker.example"}, where="x")
    said = connect_failure(settings, mismatch.value)
    assert said.startswith(
        "the MQTT broker mqtts://broker.example:8883's certificate is not for broker.example ("
    )
    assert said.endswith("); write the host name it names in url")
