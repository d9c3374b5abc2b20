"""Webhooks: each event POSTed as one JSON object to a URL (a Keen-style collection URL works).

    [[webhook]]
    url = "https://api.keen.io/3.0/projects/PROJECT/events/crying?api_key=${KEEN_KEY}"
    headers = { Authorization = "Bearer ${HOOK_TOKEN}" }   # sent with every POST
    secret = "${HOOK_SECRET}"    # signs the body: X-MiseryMeter-Signature: sha256=<hex HMAC>
    kinds = ["crying_started", "crying_stopped"]   # default: every kind
    timeout_s = 10.0

The body is `Event.to_json()`: id, room, timestamp, kind and the event's fields (a minute's
label, probability and loudness: the original's time series). `X-MiseryMeter-Event` carries
the event id, for consumers to de-duplicate (delivery is at least once). A 2xx answer is
delivered; no answer, a timeout, 408, 429 and 5xx are tried again later, and so are 401, 403
and 404, which say the webhook's credentials or url need fixing (its events wait meanwhile,
across restarts); any other answer refuses the event for good. Messages show the URL with its
query values hidden.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

from miserymeter import __version__
from miserymeter.delivery.destination import DeliveryError, EventRejected
from miserymeter.errors import ConfigError
from miserymeter.events import EVENT_KINDS, Event

KEYS = {"url", "headers", "secret", "kinds", "timeout_s"}
DEFAULT_TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-MiseryMeter-Signature"
EVENT_HEADER = "X-MiseryMeter-Event"
# Answers about the webhook's settings, not the event: its events wait until they are fixed.
SETTINGS_FIXES = {
    401: "fix the webhook's credentials (its headers, or the key in its url)",
    403: "fix the webhook's credentials (its headers, or the key in its url)",
    404: "fix the webhook's url",
}
RETRIED_STATUSES = {408, 429, *SETTINGS_FIXES}


@dataclass(frozen=True)
class WebhookSettings:
    """One `[[webhook]]` table (or `--webhook URL`)."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    secret: str | None = None
    kinds: tuple[str, ...] = EVENT_KINDS
    timeout_s: float = DEFAULT_TIMEOUT_S


def from_config(table: dict[str, Any], *, where: str) -> WebhookDestination:
    """The webhook of a `[[webhook]]` table; `where` names the table in error messages."""
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a webhook has {', '.join(sorted(KEYS))}"
        )
    if "url" not in table:
        raise ConfigError(f'{where}: no url; add url = "https://..."')
    return WebhookDestination(
        WebhookSettings(
            url=checked_url(table["url"], where=where),
            headers=_headers(table.get("headers", {}), where=where),
            secret=_secret(table.get("secret"), where=where),
            kinds=_kinds(table.get("kinds", list(EVENT_KINDS)), where=where),
            timeout_s=_timeout_s(table.get("timeout_s", DEFAULT_TIMEOUT_S), where=where),
        )
    )


class WebhookDestination:
    """POSTs events to one URL; see the module docstring."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.name = destination_name(settings.url)
        self.shown_url = redacted(settings.url)
        self._client: httpx.Client | None = None

    def wants(self, event: Event) -> bool:
        return event.kind in self.settings.kinds

    def send(self, event: Event) -> None:
        body = json.dumps(event.to_json(), separators=(",", ":")).encode()
        try:
            response = self._http().post(
                self.settings.url, content=body, headers=self._headers(event, body)
            )
        except httpx.TimeoutException as e:
            raise DeliveryError(
                f"POST {self.shown_url}: no answer within {self.settings.timeout_s:g} s"
            ) from e
        except httpx.HTTPError as e:
            raise DeliveryError(f"POST {self.shown_url}: {_first_line(str(e)) or repr(e)}") from e
        status = response.status_code
        if 200 <= status < 300:
            return
        answer = f"POST {self.shown_url}: HTTP {status} {response.reason_phrase}".rstrip()
        detail = _first_line(response.text)
        if detail:
            answer += f" ({detail})"
        if status in SETTINGS_FIXES:
            raise DeliveryError(f"{answer}: {SETTINGS_FIXES[status]}")
        if status in RETRIED_STATUSES or status >= 500:
            raise DeliveryError(answer)
        raise EventRejected(f"{answer}: event {event.id} refused")

    def check(self) -> None:
        """Connect to the URL's host and port (nothing is sent)."""
        parts = urlsplit(self.settings.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = (parts.hostname, port)
            socket.create_connection(address, timeout=self.settings.timeout_s).close()
        except OSError as e:
            reason = e.strerror or str(e) or type(e).__name__
            raise DeliveryError(f"cannot reach {self.shown_url} ({reason})") from e

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.settings.timeout_s)
        return self._client

    def _headers(self, event: Event, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"miserymeter/{__version__}",
            EVENT_HEADER: event.id,
            **self.settings.headers,
        }
        if self.settings.secret is not None:
            headers[SIGNATURE_HEADER] = "sha256=" + signature(self.settings.secret, body)
        return headers


def signature(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` with `secret`: what a receiver recomputes to verify."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def destination_name(url: str) -> str:
    """`webhook:<host>[:port]/<path>`, plus a short hash of the query if it has one: stable
    across restarts, one per URL, and without the query's secrets."""
    parts = urlsplit(url)
    name = f"webhook:{parts.netloc.rpartition('@')[2]}{parts.path}"
    if parts.query:
        name += "?" + hashlib.sha256(parts.query.encode()).hexdigest()[:12]
    return name


def redacted(url: str) -> str:
    """`url` with its password and query values hidden: `...?api_key=***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    query = "&".join(f"{quote(key)}=***" for key in keys)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def checked_url(url: Any, *, where: str) -> str:
    """`url` if it is an http(s) URL with a host, else a ConfigError."""
    example = "write e.g. https://example.org/hook"
    if not isinstance(url, str):
        raise ConfigError(f"{where}: url must be a string; {example}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError as e:
        raise ConfigError(f"{where}: url is not a valid URL ({e}); {example}") from e
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise ConfigError(
            f"{where}: url {redacted(url)!r} is not an http(s) URL with a host; {example}"
        )
    return url


def _headers(headers: Any, *, where: str) -> dict[str, str]:
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ConfigError(f'{where}: headers must be a table of strings: {{ Name = "value" }}')
    return dict(headers)


def _secret(secret: Any, *, where: str) -> str | None:
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConfigError(f"{where}: secret must be a non-empty string (or left out)")
    return secret


def _kinds(kinds: Any, *, where: str) -> tuple[str, ...]:
    known = ", ".join(EVENT_KINDS)
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise ConfigError(f"{where}: kinds must be a list of event kinds, from {known}")
    unknown = sorted(set(kinds) - set(EVENT_KINDS))
    if unknown:
        raise ConfigError(
            f"{where}: kinds: unknown event kind(s) {', '.join(unknown)}; choose from {known}"
        )
    return tuple(kinds)


def _timeout_s(timeout_s: Any, *, where: str) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
        raise ConfigError(f"{where}: timeout_s must be a positive number of seconds")
    return float(timeout_s)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line[:200]
