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
broker's acknowledgement, or raises DeliveryError. The state is best effort: published at
QoS 0 when connected, dropped when not; it never blocks and never queues.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from miserymeter.clock import utc_now
from miserymeter.delivery.destination import DeliveryError
from miserymeter.delivery.mqtt.client import MqttConnection
from miserymeter.delivery.mqtt.home_assistant import discovery_messages
from miserymeter.delivery.mqtt.settings import mqtt_settings
from miserymeter.delivery.mqtt.tonight import NightTally
from miserymeter.errors import ConfigError
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, LISTENER, Event
from miserymeter.nights import night_bounds, night_of
from miserymeter.records import Record, SecondRecord

if TYPE_CHECKING:
    from miserymeter.store import Store

WANTED_KINDS = (CRYING_STARTED, CRYING_STOPPED, LISTENER)
DEFAULT_ACK_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 5.0


def from_config(
    table: dict[str, Any],
    *,
    where: str,
    room: str,
    store: Store | None = None,
    ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
) -> MqttDestination:
    """The `[mqtt]` table's destination for `room`, connecting in the background; its
    `state_sink` goes to the listener. With a `store`, tonight's totals start from its episodes.
    """
    settings = mqtt_settings(table, where=where)
    now = utc_now()
    tally = NightTally()
    tally.roll(now)
    if store is not None:
        since, until = night_bounds(night_of(now))
        episodes = [e for e in store.episodes(room, since, until) if e.start >= since]
        tally.seed(episodes, at=now)
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
        self.state_sink = MqttStateSink(connection, tally)
        self._tally = tally
        self._topics = connection.topics
        if connection.settings.discovery:
            for topic, payload in discovery_messages(connection.settings, room=room):
                connection.retain(topic, payload)
        # A listener that starts hears no crying; older events no longer change the state.
        self._crying_at = clock()
        connection.retain(self._topics.crying, "OFF")
        self.state_sink.retain_totals()

    def check(self, *, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        """Raise DeliveryError if the broker is not connected within `timeout_s` (at start-up)."""
        if not self.connection.wait_connected(timeout_s):
            raise DeliveryError(self.connection.why_not_connected())

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
            if event.at >= self._crying_at:
                self._crying_at = event.at
                crying = "ON" if event.kind == CRYING_STARTED else "OFF"
                messages.append((self._topics.crying, crying, True))
            messages += self.state_sink.totals_messages()
        self.connection.publish_confirmed(messages, timeout_s=self.ack_timeout_s)

    def close(self) -> None:
        """Say `offline` and disconnect."""
        self.connection.close()


class MqttStateSink:
    """The listener's live state (probability, loudness) to MQTT, and tonight's reset at noon."""

    def __init__(self, connection: MqttConnection, tally: NightTally) -> None:
        self.connection = connection
        self._tally = tally
        self._topics = connection.topics

    def handle(self, records: Sequence[Record]) -> None:
        seconds = [r for r in records if isinstance(r, SecondRecord)]
        if not seconds:
            return
        last = seconds[-1]
        if self._tally.roll(last.at):
            self.retain_totals()
        probability = last.crying_probability or 0.0
        self.connection.retain(self._topics.probability, f"{probability:.4f}")
        self.connection.retain(self._topics.loudness_dbfs, f"{last.level_dbfs:.2f}")

    def totals_messages(self) -> list[tuple[str, str, bool]]:
        """Tonight's totals as retained (topic, payload, retain) messages."""
        totals = self._tally.totals
        return [
            (self._topics.episodes_tonight, str(totals.n_episodes), True),
            (self._topics.minutes_cried_tonight, f"{totals.minutes_cried:.1f}", True),
        ]

    def retain_totals(self) -> None:
        for topic, payload, _ in self.totals_messages():
            self.connection.retain(topic, payload)
