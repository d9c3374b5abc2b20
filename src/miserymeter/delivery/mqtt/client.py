"""One connection to an MQTT broker (paho-mqtt), kept up in paho's own thread.

The connection is made in the background and remade with backoff (1 s doubling to 1 min)
whenever it drops; nothing here blocks the listener. The broker holds a last will: the
room's availability topic becomes `offline` (retained) when the connection dies without a
goodbye, and the connection sets it `online` (retained) on every connect. Retained state
(`retain`) is remembered and published again on every connect, so a broker that restarted
without persistence gets it back.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from miserymeter.delivery.destination import DeliveryError
from miserymeter.delivery.mqtt.settings import MqttSettings, RoomTopics
from miserymeter.errors import ConfigError
from miserymeter.rooms import room_slug

ONLINE = "online"
OFFLINE = "offline"
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 5  # a broker back after a restart hears the next alert within seconds
# QoS 1 messages paho may hold unacknowledged: beyond it, `publish_confirmed` fails at once.
MAX_QUEUED_MESSAGES = 1000
GOODBYE_TIMEOUT_S = 2.0
# A connection the broker closes this soon after it is made, this many times in a row, is
# taken by another client with the same client id (two listeners with one config file): this
# one then tries again only every SHARED_ID_RECONNECT_S, not every second, as both would.
SHORT_LIVED_S = 5.0
N_SHORT_LIVED = 2
SHARED_ID_RECONNECT_S = 60
X509_HOSTNAME_MISMATCH = 62  # OpenSSL's X509_V_ERR_HOST_NAME_MISMATCH
X509_IP_ADDRESS_MISMATCH = 64  # X509_V_ERR_IP_ADDRESS_MISMATCH


class MqttConnection:
    """A room's connection: started by `start`, ended by `close` (which says `offline`)."""

    def __init__(self, settings: MqttSettings, *, room: str) -> None:
        self.settings = settings
        self.topics = RoomTopics.of(settings, room)
        self.last_error: str | None = None
        self.on_change: Callable[[], None] = lambda: None  # lost or made again (paho's thread)
        self._retained: dict[str, str] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client_id = settings.client_id or f"miserymeter-{room_slug(room)}"
        self._connected_at_s = 0.0
        self._n_short_lived = 0  # connections in a row the broker closed soon after
        self._client = _client(settings, client_id=self.client_id)
        self._client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        self._client.on_connect = self._connected_to
        self._client.on_connect_fail = self._not_connected
        self._client.on_disconnect = self._disconnected

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background (returns at once) and keep connecting."""
        self._client.connect_async(
            self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
        )
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Whether the connection is up within `timeout_s`."""
        return self._connected.wait(timeout_s)

    def why_not_connected(self) -> str:
        """One line on why the broker cannot be used now."""
        return self.last_error or f"not connected to the MQTT broker {self.settings.url} yet"

    def retain(self, topic: str, payload: str) -> None:
        """Set the retained state of `topic` now if connected (best effort) and on every connect."""
        with self._lock:
            self._retained[topic] = payload
        self.publish_now(topic, payload, retain=True)

    def publish_now(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """Publish at QoS 0 if connected; otherwise the message is dropped (live state)."""
        if self.is_connected:
            self._client.publish(topic, payload, qos=0, retain=retain)

    def publish_confirmed(
        self, messages: Sequence[tuple[str, str, bool]], *, timeout_s: float
    ) -> None:
        """Publish (topic, payload, retain) messages at QoS 1 and wait for every PUBACK;
        raise DeliveryError if not connected or not acknowledged within `timeout_s`."""
        if not self.is_connected:
            raise DeliveryError(self.why_not_connected())
        infos = []
        for topic, payload, retain in messages:
            if retain:
                with self._lock:
                    self._retained[topic] = payload
            info = self._client.publish(topic, payload, qos=1, retain=retain)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise DeliveryError(f"{self.settings.url}: {paho.error_string(info.rc)}")
            infos.append(info)
        deadline_s = time.monotonic() + timeout_s
        for info in infos:
            try:
                info.wait_for_publish(max(0.0, deadline_s - time.monotonic()))
            except (RuntimeError, ValueError) as e:
                raise DeliveryError(f"{self.settings.url}: {e}") from e
            if not info.is_published():
                raise DeliveryError(
                    f"the MQTT broker {self.settings.url} did not acknowledge within "
                    f"{timeout_s:g} s"
                )

    def close(self) -> None:
        """Say `offline` (retained), disconnect and stop paho's thread."""
        if self.is_connected:
            info = self._client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                info.wait_for_publish(GOODBYE_TIMEOUT_S)
        self._client.disconnect()
        self._client.loop_stop()

    def _connected_to(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if reason.is_failure:
            self.last_error = (
                f"the MQTT broker {self.settings.url} refused the connection: {reason}; "
                "check username and password (and the broker's access list)"
            )
            return
        self.last_error = None
        self._connected_at_s = time.monotonic()
        client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        with self._lock:
            retained = list(self._retained.items())
        for topic, payload in retained:  # QoS 0: never re-sent over a newer state later
            client.publish(topic, payload, qos=0, retain=True)
        self._connected.set()
        self.on_change()

    def _not_connected(self, _client: paho.Client, _userdata: Any) -> None:
        # paho calls this while it handles the attempt's error: sys.exception() is that error
        self.last_error = connect_failure(self.settings, sys.exception())

    def _disconnected(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        was_connected = self.is_connected
        if was_connected:
            short_lived = time.monotonic() - self._connected_at_s < SHORT_LIVED_S
            self._n_short_lived = self._n_short_lived + 1 if short_lived else 0
            shared = self._n_short_lived >= N_SHORT_LIVED
            delay_s = SHARED_ID_RECONNECT_S if shared else RECONNECT_MIN_S
            self._client.reconnect_delay_set(delay_s, max(delay_s, RECONNECT_MAX_S))
        if reason.is_failure and self.last_error is None:
            self.last_error = self._why_disconnected(was_connected)
        self._connected.clear()
        if was_connected:
            self.on_change()

    def _why_disconnected(self, was_connected: bool) -> str:
        url = self.settings.url
        if self._n_short_lived >= N_SHORT_LIVED:
            return (
                f"the MQTT broker {url} closes the connection each time soon after it is made: "
                f"another client uses client id {self.client_id!r} (a second listener with this "
                "config?); give each listener its own client_id, or leave it unset "
                f"(miserymeter-<room>); trying again every {SHARED_ID_RECONNECT_S} s"
            )
        if was_connected or self.settings.tls:
            return f"lost the connection to the MQTT broker {url}"
        return (
            f"{url} hung up before it answered as an MQTT broker: is the port an MQTT broker's "
            "(1883; Home Assistant's web port 8123 is not)? for a TLS port write mqtts://host:port"
        )


def connect_failure(settings: MqttSettings, error: BaseException | None) -> str:
    """One line on why an attempt to connect failed with `error`, naming what to fix."""
    broker = f"the MQTT broker {settings.url}"
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code in (X509_HOSTNAME_MISMATCH, X509_IP_ADDRESS_MISMATCH):
            return (
                f"{broker}'s certificate is not for {settings.host} ({error.verify_message}); "
                "write the host name it names in url"
            )
        return (
            f"{broker}'s certificate is not trusted ({error.verify_message}); set tls_ca_certs "
            "to the file of the CA that signed it (tls_insecure = true: for testing only)"
        )
    if isinstance(error, ssl.SSLError) or (
        settings.tls and isinstance(error, ConnectionResetError)
    ):
        return (
            f"{broker} broke off the TLS handshake: is that port a TLS one? write "
            f"mqtt://{settings.host}:PORT for a port without TLS (1883 by default)"
        )
    if isinstance(error, socket.gaierror):
        return (
            f"cannot find the host {settings.host} of {broker} ({error.strerror}); check the "
            "host name in url, or write the broker's IP address"
        )
    if isinstance(error, ConnectionRefusedError):
        return f"nothing listens at {broker}: is the broker running, and is the port right?"
    why = f" ({error})" if error is not None else ""
    return f"cannot reach {broker}{why}: is it running, and are host, port and TLS settings right?"


def _client(settings: MqttSettings, *, client_id: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        _set_tls(client, settings)
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
    return client


def _set_tls(client: paho.Client, settings: MqttSettings) -> None:
    """TLS with the system's CAs, or `tls_ca_certs`; a client certificate if given;
    `tls_insecure` accepts any certificate for any host name (for testing only)."""
    try:
        client.tls_set(
            ca_certs=_path(settings.tls_ca_certs),
            certfile=_path(settings.tls_certfile),
            keyfile=_path(settings.tls_keyfile),
            cert_reqs=ssl.CERT_NONE if settings.tls_insecure else ssl.CERT_REQUIRED,
        )
    except (OSError, ssl.SSLError, ValueError) as e:
        raise ConfigError(
            f"cannot use the TLS certificate files ({e}); check tls_ca_certs, tls_certfile "
            "and tls_keyfile"
        ) from e
    client.tls_insecure_set(settings.tls_insecure)


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)
