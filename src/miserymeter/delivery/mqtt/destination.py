"""MQTT for one room: events through the outbox (`MqttDestination`), live state from the
listener (`MqttStateSink`), both over one connection.

Topics, under `<topic_prefix>/<room>/` (the room as `rooms.room_slug` spells it:
lower case ASCII letters, digits and _):

    availability           online / offline (the last will), retained
    crying                 ON / OFF, retained; set by the crying_started / crying_stopped events
    probability            the last second's crying probability 0-1, retained; 0 when the
                           model was not run (a quiet room, or windows dropped to keep up)
    loudness_dbfs          the last second's loudness (RMS dBFS), retained
    episodes_tonight       episodes that started tonight (noon to noon, local time), retained
    minutes_cried_tonight  their crying, in minutes (0.1), retained
    event                  every event as JSON (`Event.to_json`, with its id), QoS 1, not retained

The destination wants the room's crying_started, crying_stopped and listener events (not the
minute summaries: the live state covers them). `send` publishes at QoS 1 and waits for the
broker's acknowledgement, or raises DeliveryError. The retained state follows the listener's
records as they come (not the delivery of their events: after an outage the broker gets the
state of now, while the backlog replays on `event` only). It is published at QoS 0 when
connected and again on every connect; never a QoS 1 message that paho would send again after
a reconnect, over the newer state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from miserymeter.clock import utc_now
from miserymeter.delivery.mqtt.client import MqttConnection
from miserymeter.delivery.mqtt.home_assistant import discovery_messages
from miserymeter.delivery.mqtt.settings import mqtt_settings
from miserymeter.delivery.mqtt.tonight import NightTally
from miserymeter.errors import ConfigError
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, LISTENER, Event
from miserymeter.nights import night_bounds, night_of
from miserymeter.records import CryingStarted, Episode, Record, SecondRecord

if TYPE_CHECKING:
    from miserymeter.store import Store

WANTED_KINDS = (CRYING_STARTED, CRYING_STOPPED, LISTENER)
DEFAULT_ACK_TIMEOUT_S = 10.0


def from_config(
    table: dict[str, Any],
    *,
    where: str,
    room: str,
    store: Store | None = None,
    left_open: Episode | None = None,
    ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
) -> MqttDestination:
    """The `[mqtt]` table's destination for `room`, connecting in the background; its
    `state_sink` goes to the listener. With a `store`, tonight's totals start from its episodes
    and `left_open`, the one the last run left open (it counted that one, and this run closes
    it: counted only once closed, the totals would dip meanwhile).
    """
    settings = mqtt_settings(table, where=where)
    now = utc_now()
    tally = NightTally()
    tally.roll(now)
    if store is not None:
        since, until = night_bounds(night_of(now))
        episodes = [e for e in store.episodes(room, since, until) if e.start >= since]
        tally.seed([*episodes, *([left_open] if left_open is not None else [])], at=now)
    try:
        connection = MqttConnection(settings, room=room)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from e
    destination = MqttDestination(connection, room=room, tally=tally, ack_timeout_s=ack_timeout_s)
    connection.start()
    return destination


class MqttDestination:
    """Events of one room to MQTT (see the module docstring); `state_sink` shares its connection."""

    name = "mqtt"

    def __init__(
        self,
        connection: MqttConnection,
        *,
        room: str,
        tally: NightTally,
        ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.room = room
        self.connection = connection
        self.ack_timeout_s = ack_timeout_s
        # A listener that starts hears no crying; older events no longer change the state.
        self.state_sink = MqttStateSink(connection, tally, now=clock())
        self._tally = tally
        self._topics = connection.topics
        # Discovery turned off takes the room's entities out of Home Assistant: an empty
        # retained config removes one (and the broker forgets the config it kept).
        for topic, payload in discovery_messages(connection.settings, room=room):
            connection.retain(topic, payload if connection.settings.discovery else "")
        connection.retain(self._topics.crying, "OFF")
        self.state_sink.retain_totals()

    def why_down(self) -> str | None:
        """None while connected to the broker; else why not."""
        return None if self.connection.is_connected else self.connection.why_not_connected()

    def on_connection_change(self, changed: Callable[[], None]) -> None:
        self.connection.on_change = changed

    def wants(self, event: Event) -> bool:
        return event.room == self.room and event.kind in WANTED_KINDS

    def send(self, event: Event) -> None:
        """Publish the event (and the state it changes); DeliveryError if not acknowledged."""
        messages = [(self._topics.event, json.dumps(event.to_json()), False)]
        if event.kind in (CRYING_STARTED, CRYING_STOPPED):
            start = datetime.fromisoformat(event.data["start"])
            if event.kind == CRYING_STARTED:
                self._tally.started(start)
            else:
                self._tally.stopped(start, float(event.data["duration_s"]))
            self.state_sink.set_crying(event.kind == CRYING_STARTED, event.at)
            self.state_sink.retain_totals()
        self.connection.publish_confirmed(messages, timeout_s=self.ack_timeout_s)

    def close(self) -> None:
        """Say `offline` and disconnect."""
        self.connection.close()


class MqttStateSink:
    """The listener's live state to MQTT: probability and loudness, crying ON/OFF and tonight's
    totals as the records come (not as their events are delivered: after an outage the broker
    gets the state of now, not a replay of old ones), and tonight's reset at noon."""

    def __init__(self, connection: MqttConnection, tally: NightTally, *, now: datetime) -> None:
        self.connection = connection
        self._tally = tally
        self._topics = connection.topics
        self._crying_at = now  # the time of the crying state set last, and that state
        self._crying = False
        self._lock = threading.Lock()  # the listener's thread and the courier's set it

    def set_crying(self, crying: bool, at: datetime) -> bool:
        """Retain crying ON (or OFF) as of `at`, now if connected and on every connect; not
        when the state is newer already (a replayed event must not turn it back) or the same.
        Whether it changed."""
        with self._lock:
            if at < self._crying_at or (at == self._crying_at and crying == self._crying):
                return False
            self._crying_at, self._crying = at, crying
        self.connection.retain(self._topics.crying, "ON" if crying else "OFF")
        return True

    def handle(self, records: Sequence[Record]) -> None:
        changed = False
        for record in records:
            if isinstance(record, CryingStarted):
                self._tally.started(record.start)
                changed = self.set_crying(True, record.confirmed) or changed
            elif isinstance(record, Episode):
                self._tally.stopped(record.start, record.duration_s)
                changed = self.set_crying(False, record.end) or changed
        if changed:
            self.retain_totals()
        seconds = [r for r in records if isinstance(r, SecondRecord)]
        if not seconds:
            return
        last = seconds[-1]
        if self._tally.roll(last.at):
            self.retain_totals()
        probability = last.crying_probability or 0.0
        self.connection.retain(self._topics.probability, f"{probability:.4f}")
        self.connection.retain(self._topics.loudness_dbfs, f"{last.level_dbfs:.2f}")

    def retain_totals(self) -> None:
        """Retain tonight's totals, now if connected and on every connect."""
        totals = self._tally.totals
        self.connection.retain(self._topics.episodes_tonight, str(totals.n_episodes))
        self.connection.retain(self._topics.minutes_cried_tonight, f"{totals.minutes_cried:.1f}")
