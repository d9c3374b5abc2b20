"""A real mosquitto broker on loopback for the tests, and a subscribing client to watch it.

The broker listens on 127.0.0.1 at a free port, anonymous or with users made by
`mosquitto_passwd -b`, optionally with TLS (certificates made by openssl); `stop()` and
`start()` bring it down and back on the same port (an outage). It keeps no persistence: a
restarted broker has forgotten its retained messages.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from postgres_server import free_port

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = "mosquitto_passwd"
START_TIMEOUT_S = 10.0
WAIT_S = 30.0


def mosquitto_available() -> str | None:
    """None if a mosquitto broker can be started here, else what is missing."""
    if not MOSQUITTO.is_file() or shutil.which(MOSQUITTO_PASSWD) is None:
        return "mosquitto (the broker and mosquitto_passwd)"
    if shutil.which("openssl") is None:
        return "openssl (for the broker's test certificates)"
    return None


@dataclass(frozen=True)
class BrokerTls:
    """Files of a self-signed CA and the broker's certificate for 127.0.0.1 / localhost."""

    ca_cert: Path
    cert: Path
    key: Path


def make_tls(folder: Path) -> BrokerTls:
    """A CA and a server certificate signed by it, made by openssl."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=miserymeter test CA", "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "server.crt")  # fmt: skip
    return BrokerTls(folder / "ca.crt", folder / "server.crt", folder / "server.key")


class MosquittoBroker:
    """A running broker of its own folder; `close()` stops it and deletes its files."""

    def __init__(self, *, users: dict[str, str] | None = None, tls: bool = False) -> None:
        # Not under pytest's tmp_path: its parent folder is private to root.
        self.root = Path(tempfile.mkdtemp(prefix="miserymeter-mosquitto-"))
        self.port = free_port()
        self.tls = make_tls(self.root / "tls") if tls else None
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if users:
            password_file = self.root / "passwords"
            password_file.touch()
            for user, password in users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", password_file, user, password],
                    check=True, capture_output=True,
                )  # fmt: skip
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls is not None:
            tls_files = self.tls
            lines += [f"cafile {tls_files.ca_cert}", f"certfile {tls_files.cert}",
                      f"keyfile {tls_files.key}"]  # fmt: skip
        self.config = self.root / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:  # mosquitto drops root for the `mosquitto` user: let it read
            _give_to_mosquitto(self.root)
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker (again, on the same port) and wait until it accepts connections."""
        log = (self.root / "mosquitto.log").open("ab")
        self._process = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline_s = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline_s:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto failed:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the broker (its clients lose their connections)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=START_TIMEOUT_S)
            self._process = None

    def log(self) -> str:
        path = self.root / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _give_to_mosquitto(root: Path) -> None:
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in [root, *root.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


class Watcher:
    """A paho client subscribed to `topics` that keeps every message it gets (retained ones too)."""

    def __init__(self, broker: MosquittoBroker, *topics: str, **credentials: str) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2)
        if credentials:
            self._client.username_pw_set(credentials["username"], credentials["password"])
        if broker.tls is not None:
            self._client.tls_set(ca_certs=str(broker.tls.ca_cert))
        self._client.on_message = self._got
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_connect = lambda client, *_: client.subscribe([(t, 1) for t in topics])
        self._client.connect("127.0.0.1", broker.port)
        self._client.loop_start()
        assert self._subscribed.wait(WAIT_S), "the watcher could not subscribe"

    def _got(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((message.topic, message.payload.decode(), message.retain))
            self._changed.notify_all()

    def payloads(self, topic: str) -> list[str]:
        with self._changed:
            return [payload for t, payload, _ in self.messages if t == topic]

    def payloads_under(self, prefix: str) -> list[str]:
        with self._changed:
            return [payload for t, payload, _ in self.messages if t.startswith(prefix)]

    def last(self, topic: str) -> str | None:
        payloads = self.payloads(topic)
        return payloads[-1] if payloads else None

    def wait_for(
        self, condition: Callable[[], bool], what: str, *, timeout_s: float = WAIT_S
    ) -> None:
        """Wait until `condition()` holds (re-checked on every message), or fail naming `what`."""
        deadline_s = time.monotonic() + timeout_s
        with self._changed:
            while not condition():
                remaining_s = deadline_s - time.monotonic()
                if remaining_s <= 0:
                    raise AssertionError(f"waited {timeout_s} s for {what}; got {self.messages}")
                self._changed.wait(min(remaining_s, 0.1))

    def wait_last(self, topic: str, payload: str) -> None:
        self.wait_for(lambda: self.last(topic) == payload, f"{topic} = {payload}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
