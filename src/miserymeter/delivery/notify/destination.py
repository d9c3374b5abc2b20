"""Push notifications through apprise (ntfy, Telegram, e-mail, ...): the `[notify]` destination.

`wants` is the policy's (`policy.py`); `send` pushes one event to every configured URL;
`check` connects to each service's server without pushing (at start-up).
A URL apprise cannot read is left out (with a message) and the others are used; with none
left, the destination is a ConfigError. A URL that failed is tried again on the next `send` of
the same event, the others are not:
a retry never pushes twice to a service that already took the event. Through the outbox
(`send_to_rest`) the courier records each URL that took an event, under a key (`url_keys`) that
a copy of the database does not let anyone check a guess of the URL's secrets against (a
short ntfy topic), so this holds across restarts of `listen` too. Errors name the
service's scheme and the URL's position in `urls`, never the URL itself (it holds tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from miserymeter.clock import utc_now
from miserymeter.config import expand_variables
from miserymeter.delivery.destination import DeliveryError, PartsFailed
from miserymeter.delivery.notify.apprise_log import kept_log, plugin_logger
from miserymeter.delivery.notify.messages import Push, push_for
from miserymeter.delivery.notify.policy import NotifyPolicy
from miserymeter.delivery.notify.settings import NotifySettings, notify_settings
from miserymeter.errors import ConfigError
from miserymeter.events import Event

if TYPE_CHECKING:
    import apprise

NAME = "notify"
# `urls` are expanded one by one: a variable not set in one leaves that URL out, not all.
OWN_VARIABLES = frozenset({"urls"})
APPRISE_URLS_HELP = "https://github.com/caronc/apprise/wiki"
CHECK_TIMEOUT_S = 5.0
# scrypt's work factor (16 MB, about 0.1 s) for the key behind the outbox's names of URLs:
# spent once per start, and again on each guess by someone holding a copy of the database.
KEY_SCRYPT_N = 2**14


@dataclass(frozen=True)
class Service:
    """One configured URL, ready to push to."""

    label: str  # "ntfy:// (URL 1 of 2)": names the URL without its secrets
    apprise: apprise.Apprise
    key: str  # the outbox's name for it (`url_keys`), stable across restarts
    old_key: str  # its name in an outbox written by an earlier miserymeter (`old_url_key`)


class NotifyDestination:
    """Pushes the events its policy wants to every service (see the module docstring)."""

    name = NAME

    def __init__(
        self,
        settings: NotifySettings,
        services: Sequence[Service],
        *,
        left_out: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self.services = tuple(services)
        self.left_out = tuple(left_out)  # one message per URL left out
        self._policy = NotifyPolicy(settings)
        self._took: dict[str, set[str]] = {}  # event id → keys of the services that took it

    def wants(self, event: Event) -> bool:
        return self._policy.wants(event)

    def send(self, event: Event) -> None:
        self.send_to_rest(event, taken=(), waiting=(), on_taken=lambda key: None)

    def send_to_rest(
        self,
        event: Event,
        *,
        taken: Collection[str],
        waiting: Collection[str],
        on_taken: Callable[[str], None],
    ) -> None:
        """`send`, but not to the services whose key is in `taken` (they took it in an earlier
        run) or in `waiting` (they are still to take an earlier push); `on_taken(key)` as each
        service takes the push."""
        push = push_for(event, zone=self.settings.zone, now=utc_now())
        took = self._took.setdefault(event.id, set())
        took.update(taken)
        reasons, tried = [], False
        for service in self.services:
            if _took(service, took):
                continue
            if service.key in waiting:
                reasons.append(f"{service.label}: waits for an earlier push")
                continue
            reason = _push(service, push)
            tried |= reason is not None
            if reason is None:
                took.add(service.key)
                on_taken(service.key)
            else:
                reasons.append(f"{service.label}: {reason}")
        if reasons:
            parts = frozenset(s.key for s in self.services if not _took(s, took))
            raise PartsFailed(f"push failed: {'; '.join(reasons)}", parts=parts, tried=tried)
        del self._took[event.id]

    def check(self, *, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        """Raise DeliveryError naming the services whose server cannot be reached now."""
        failures = []
        for service in self.services:
            reason = _unreachable(service, timeout_s=timeout_s)
            if reason is not None:
                failures.append(f"{service.label}: {reason}")
        if failures:
            raise DeliveryError(f"cannot reach {'; '.join(failures)}")

    def close(self) -> None:
        self._took.clear()


def _took(service: Service, took: Collection[str]) -> bool:
    """Whether `service` took the push: its key is in `took`, or its old one (`old_url_key`)."""
    return service.key in took or service.old_key in took


def from_config(table: dict[str, Any], *, where: str) -> NotifyDestination:
    """The destination a config file's `[notify]` table describes; `where` names the table."""
    settings = notify_settings(table, where=where)
    found, unreadable, repeated = services(settings.urls, where=where)
    if not found and len(unreadable) == 1:
        raise ConfigError(unreadable[0])
    if not found:
        n_others = len(unreadable) - 1
        raise ConfigError(f"{unreadable[0]}; none of the other {n_others} urls can be used either")
    left_out = [f"{m}; pushes go to the other URLs until it is fixed" for m in unreadable]
    return NotifyDestination(settings, found, left_out=left_out + repeated)


def services(urls: Sequence[object], *, where: str) -> tuple[list[Service], list[str], list[str]]:
    """One apprise object per URL apprise can read; a message naming the place and the fix of
    each URL it cannot (or entry that is not a string), and of each URL given again (pushed
    to once)."""
    import apprise

    found: list[tuple[str, apprise.Apprise, str]] = []  # label, service, URL in apprise's form
    unreadable: list[str] = []
    repeated: list[str] = []
    first_of: dict[str, int] = {}
    for index, written in enumerate(urls):
        if not isinstance(written, str):
            unreadable.append(
                f"{where}: URL {index + 1} of {len(urls)} in urls is {_shown(written)}, not a "
                'string; write the URL in quotes, e.g. "ntfy://ntfy.sh/topic"'
            )
            continue
        label = f"{scheme(written)}:// (URL {index + 1} of {len(urls)} in urls)"
        try:
            url = expand_variables(written, where=f"{where}: {label}")
        except ConfigError as e:
            unreadable.append(str(e))
            continue
        service = apprise.Apprise()
        if not service.add(url):
            unreadable.append(
                f"{where}: {label} is not a URL apprise can use; fix it after the forms at "
                f"{APPRISE_URLS_HELP}"
            )
            continue
        service[0].logger = plugin_logger()
        canonical = service[0].url(privacy=False)  # JSON:// and json://, options in any order
        if canonical in first_of:
            repeated.append(
                f"{where}: {label} is URL {first_of[canonical] + 1} again: each push goes to it "
                "once; remove one"
            )
        else:
            first_of[canonical] = index
            found.append((label, service, canonical))
    keys = url_keys([canonical for *_, canonical in found])
    usable = [
        Service(label, service, key, old_url_key(canonical))
        for (label, service, canonical), key in zip(found, keys, strict=True)
    ]
    return usable, unreadable, repeated


def _shown(value: object) -> str:
    """A TOML value that is not a string, for a message: a number or boolean as written, else
    its kind (a table may hold secrets)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    return "a list" if isinstance(value, list) else "a date or time"


def url_keys(urls: Sequence[str]) -> list[str]:
    """The outbox's names for `urls` (apprise's forms, variables expanded): an HMAC of each
    under a key drawn slowly (scrypt) from all of them, so that checking a guess of one URL
    against a copy of the database takes guessing all the others too, and 0.1 s. They stay the
    same across restarts, reorderings of `urls` and rewritings of a URL, not when a URL is
    added or removed (a push that waited then may go again to the URLs that took it)."""
    joined = "\n".join(sorted(urls)).encode()
    salt = b"miserymeter push URLs"
    key = hashlib.scrypt(joined, salt=salt, n=KEY_SCRYPT_N, r=8, p=1, dklen=32)
    return [hmac.new(key, url.encode(), hashlib.sha256).hexdigest()[:16] for url in urls]


def old_url_key(url: str) -> str:
    """The name of `url` in an outbox written by an earlier miserymeter (a plain hash of the
    URL), recognised so that an event some URLs took before an upgrade goes to the others only."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def scheme(url: str) -> str:
    """The service part of an apprise URL ("ntfy", "tgram", "mailto"), or "?" if none."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return match.group(1).lower() if match else "?"


def _unreachable(service: Service, *, timeout_s: float) -> str | None:
    """None when the service's server takes a connection (or it has none), else why not."""
    endpoint = _endpoint(service.apprise[0])
    if endpoint is None:
        return None
    try:
        socket.create_connection(endpoint, timeout=timeout_s).close()
    except OSError as e:
        return f"{endpoint[0]}:{endpoint[1]} ({e.strerror or e or type(e).__name__})"
    return None


def _endpoint(plugin: Any) -> tuple[str, int] | None:
    """The host and port an apprise plugin pushes to: its service's fixed API (Telegram,
    Pushover...), else its mail server or the host its URL names (ntfy, json://...) when the
    plugin takes a host (others keep a token there); None if unknown."""
    api = urlsplit(getattr(plugin, "notify_url", None) or "")
    if api.hostname and "{" not in api.hostname:
        return api.hostname, api.port or (443 if api.scheme == "https" else 80)
    if "host" not in getattr(plugin, "template_tokens", {}):
        return None
    host = getattr(plugin, "smtp_host", None) or getattr(plugin, "host", None)
    if not isinstance(host, str) or not host:
        return None
    port = getattr(plugin, "port", None)
    secure = bool(getattr(plugin, "secure", False))
    return host.strip("[]"), port if isinstance(port, int) else (443 if secure else 80)


def _push(service: Service, push: Push) -> str | None:
    """None when the service took the push, else why not (without the URL's secrets)."""
    try:
        with kept_log() as records:
            result = service.apprise.notify(
                body=push.body, title=push.title, notify_type=push.notify_type
            )
    except Exception as e:  # a plugin's bug must not stop delivery of the rest
        return f"{type(e).__name__} in apprise"
    return None if result else _reason(records)


def _reason(records: Sequence[logging.LogRecord]) -> str:
    """Why a push failed, from apprise's warnings and the exception its plugin logged at DEBUG
    ("Socket Exception: ..."), never from the rest it logs at DEBUG (the payload, the URL)."""
    warned = " ".join(r.getMessage() for r in records if r.levelno >= logging.WARNING)
    status = re.search(r"error=(\d{3})", warned)
    if status:
        return f"the service answered HTTP {status.group(1)}"
    raised = " ".join(m for r in records if (m := r.getMessage()).startswith("Socket Exception"))
    timeout = re.search(r"\((read|connect) timeout=([\d.]+)\)", raised)
    if timeout:
        option = "rto" if timeout.group(1) == "read" else "cto"
        return (
            f"the service did not answer within {float(timeout.group(2)):g} s (overloaded, or "
            f"behind a slow link? {option}=SECONDS in its URL waits longer)"
        )
    if re.search(r"connection error", warned, re.IGNORECASE):
        return "cannot connect to the service"
    if re.search(r"timed? ?out", warned, re.IGNORECASE):
        return "the service did not answer in time"
    return "the service refused it"
