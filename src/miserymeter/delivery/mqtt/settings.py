"""The `[mqtt]` config table as settings, and the topics of one room.

    [mqtt]
    url = "mqtt://homeassistant.local"      # mqtts://host for TLS (port 8883 by default)
    username = "miserymeter"
    password = "${MQTT_PASSWORD}"

Every key of `KEYS` is optional but `url`; an unknown key or a value of the wrong type is a
ConfigError naming where it was found and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from miserymeter.errors import ConfigError
from miserymeter.rooms import room_slug

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
DEFAULT_TOPIC_PREFIX = "miserymeter"
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
DEFAULT_KEEPALIVE_S = 60
KEYS: dict[str, type | tuple[type, ...]] = {
    "url": str,
    "username": str,
    "password": str,
    "topic_prefix": str,
    "client_id": str,
    "tls_ca_certs": str,
    "tls_certfile": str,
    "tls_keyfile": str,
    "tls_insecure": bool,
    "discovery": bool,
    "discovery_prefix": str,
    "keepalive_s": (int, float),
}

# What a value of each kind of key looks like in TOML, for the error that says what to write.
_EXPECTED: dict[type | tuple[type, ...], str] = {
    str: "text in quotes",
    bool: "true or false, without quotes",
    (int, float): "a number, without quotes",
}


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how to talk to it (see the module docstring for the keys)."""

    host: str
    port: int = DEFAULT_PORTS["mqtt"]
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    client_id: str | None = None
    tls_ca_certs: Path | None = None
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    tls_insecure: bool = False
    discovery: bool = True
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    keepalive_s: int = DEFAULT_KEEPALIVE_S

    @property
    def url(self) -> str:
        """The broker's address without credentials, for messages."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def mqtt_settings(table: dict[str, Any], *, where: str) -> MqttSettings:
    """Settings from an `[mqtt]` table; `where` (e.g. "listen.toml: [mqtt]") names it in errors."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be one table, [mqtt], not [[mqtt]]")
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(
                f"{where}: unknown key {key}; the keys are {', '.join(KEYS)} "
                "(see docs/reference.md)"
            )
        if not isinstance(value, KEYS[key]) or (isinstance(value, bool) and KEYS[key] is not bool):
            raise ConfigError(f"{where}: {key} = {value!r}: write {_EXPECTED[KEYS[key]]}")
    if "url" not in table:
        raise ConfigError(f'{where}: url is missing; e.g. url = "mqtt://homeassistant.local"')
    scheme, host, port, username, password = _parse_url(table["url"], where=where)
    keepalive_s = round(table.get("keepalive_s", DEFAULT_KEEPALIVE_S))
    if keepalive_s < 5:
        raise ConfigError(f"{where}: keepalive_s must be at least 5 (s), not {keepalive_s}")
    for key in ("topic_prefix", "discovery_prefix"):
        _check_prefix(table.get(key, "x"), key=key, where=where)
    paths = {
        key: Path(table[key]).expanduser() if key in table else None
        for key in ("tls_ca_certs", "tls_certfile", "tls_keyfile")
    }
    for key, path in paths.items():
        if path is not None and not path.is_file():
            raise ConfigError(
                f"{where}: {key} = '{path}' is not a file; write the path of the certificate "
                "(PEM) file"
            )
    return MqttSettings(
        host=host,
        port=port,
        tls=scheme == "mqtts",
        username=table.get("username", username),
        password=table.get("password", password),
        topic_prefix=table.get("topic_prefix", DEFAULT_TOPIC_PREFIX),
        client_id=table.get("client_id"),
        tls_ca_certs=paths["tls_ca_certs"],
        tls_certfile=paths["tls_certfile"],
        tls_keyfile=paths["tls_keyfile"],
        tls_insecure=table.get("tls_insecure", False),
        discovery=table.get("discovery", True),
        discovery_prefix=table.get("discovery_prefix", DEFAULT_DISCOVERY_PREFIX),
        keepalive_s=keepalive_s,
    )


def _parse_url(url: str, *, where: str) -> tuple[str, str, int, str | None, str | None]:
    """Scheme, host, port, user name and password of an mqtt:// or mqtts:// URL."""
    hint = 'write url = "mqtt://[user:password@]host[:port]" (mqtts:// for TLS)'
    if "@" in url:
        hint += (
            "; in the URL a password's / # ? @ : are written %2F %23 %3F %40 %3A, or give it "
            "as password = ..."
        )
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(
            f"{where}: url {_without_password(url)!r} has a bad port; {hint}"
        ) from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"{where}: url {_without_password(url)!r} is not a broker URL; {hint}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], username, password


def _without_password(url: str) -> str:
    """`url` with all that stands between `user:` and its last @ hidden (a password with a
    / or # in it is not one that urlsplit finds)."""
    return re.sub(r"^([^:/]*://[^:/@]*:).*@", r"\1***@", url)


def _check_prefix(prefix: str, *, key: str, where: str) -> None:
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or set(prefix) & set("+#"):
        raise ConfigError(
            f"{where}: {key} = {prefix!r} is not a topic prefix; use words and '/' (no +, #, "
            "no leading or trailing /)"
        )


@dataclass(frozen=True)
class RoomTopics:
    """The MQTT topics of one room (docs/notifications.md, "Home Assistant (MQTT)", lists them)."""

    base: str

    @classmethod
    def of(cls, settings: MqttSettings, room: str) -> RoomTopics:
        return cls(f"{settings.topic_prefix}/{room_slug(room)}")

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def crying(self) -> str:
        return f"{self.base}/crying"

    @property
    def probability(self) -> str:
        return f"{self.base}/probability"

    @property
    def loudness_dbfs(self) -> str:
        return f"{self.base}/loudness_dbfs"

    @property
    def episodes_tonight(self) -> str:
        return f"{self.base}/episodes_tonight"

    @property
    def minutes_cried_tonight(self) -> str:
        return f"{self.base}/minutes_cried_tonight"

    @property
    def event(self) -> str:
        return f"{self.base}/event"
