"""The `[notify]` table of a config file, checked into frozen settings.

    [notify]
    urls = ["ntfy://ntfy.sh/${NTFY_TOPIC}"]   # apprise URLs, one push to each
    on_start = true              # push when crying is confirmed
    on_end = false               # push when an announced episode ends, with its duration
    cooldown_min = 10            # no start push this soon after the last announced episode ended
    escalate_after_min = 5       # one "still crying after N minutes" push per episode; 0 = off
    quiet_hours = "08:00-18:00"  # local time: no crying pushes then (alerts still go out)
    alerts = true                # "the monitor is not hearing" and "microphone back"
    alert_every_min = 30         # at most one alert push this often
    digest_at = "07:00"          # a morning digest of the night (local time); default: none
    time_zone = "Europe/Paris"   # for quiet hours, the digest and times in pushes; default: the
                                 # machine's
    offline_after_min = 5        # serve: "monitor offline" when a room is silent this long
    offline_when_stopped = false # serve: also for a listener that stopped cleanly

`miserymeter serve` reads the same table for its offline alerts (`offline.py`): it uses `urls`,
`alerts`, `alert_every_min`, `time_zone` and the two `offline_` keys; `listen` ignores those two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone

KEYS = {
    "urls",
    "on_start",
    "on_end",
    "cooldown_min",
    "escalate_after_min",
    "quiet_hours",
    "alerts",
    "alert_every_min",
    "digest_at",
    "time_zone",
    "offline_after_min",
    "offline_when_stopped",
}
# The dashboard calls a room offline after 30 s without a second (web/health.py OFFLINE_AFTER_S):
# a push never says offline before the dashboard does.
MIN_OFFLINE_AFTER_MIN = 0.5


@dataclass(frozen=True)
class QuietHours:
    """A stretch of local time, `start` included, `end` excluded; it may span midnight."""

    start: time
    end: time

    def __contains__(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class NotifySettings:
    """What to push and when (see the module docstring for the keys)."""

    urls: tuple[object, ...]  # as written: each that is not a usable URL is left out later
    zone: tzinfo
    on_start: bool = True
    on_end: bool = False
    cooldown_min: float = 10.0
    escalate_after_min: float = 5.0
    quiet_hours: QuietHours | None = None
    alerts: bool = True
    alert_every_min: float = 30.0
    digest_at: time | None = None
    offline_after_min: float = 5.0
    offline_when_stopped: bool = False

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_min)

    @property
    def alert_every(self) -> timedelta:
        return timedelta(minutes=self.alert_every_min)

    @property
    def offline_after(self) -> timedelta:
        return timedelta(minutes=self.offline_after_min)


def notify_settings(table: dict[str, Any], *, where: str) -> NotifySettings:
    """`table` (a config file's `[notify]`) as settings; `where` names it in errors."""
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"[notify] takes {', '.join(sorted(KEYS))}"
        )
    return NotifySettings(
        urls=_urls(table.get("urls"), where=where),
        zone=_zone(table.get("time_zone"), where=where),
        on_start=_flag(table, "on_start", True, where=where),
        on_end=_flag(table, "on_end", False, where=where),
        cooldown_min=_minutes(table, "cooldown_min", 10.0, where=where),
        escalate_after_min=_minutes(table, "escalate_after_min", 5.0, where=where),
        quiet_hours=_quiet_hours(table.get("quiet_hours"), where=where),
        alerts=_flag(table, "alerts", True, where=where),
        alert_every_min=_minutes(table, "alert_every_min", 30.0, where=where),
        digest_at=_digest_at(table.get("digest_at"), where=where),
        offline_after_min=_minutes(table, "offline_after_min", 5.0, where=where),
        offline_when_stopped=_flag(table, "offline_when_stopped", False, where=where),
    )


def _urls(value: Any, *, where: str) -> tuple[object, ...]:
    """The entries of `urls`; one that is not a string is left out with the others that
    cannot be used (`destination.services`), not the whole table."""
    if isinstance(value, str):
        value = [value]
    example = 'urls = ["ntfy://ntfy.sh/topic"]'
    if not isinstance(value, list):
        raise ConfigError(f"{where}: urls must be a list of apprise URLs, e.g. {example}")
    if not value:
        raise ConfigError(f"{where}: urls is empty; give at least one apprise URL, e.g. {example}")
    return tuple(value)


def _flag(table: dict[str, Any], key: str, default: bool, *, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _minutes(table: dict[str, Any], key: str, default: float, *, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key} must be a number of minutes, 0 or more, not {value!r}")
    if key == "alert_every_min" and value == 0:
        raise ConfigError(f"{where}: alert_every_min must be above 0 (alerts = false: none)")
    if key == "offline_after_min" and value < MIN_OFFLINE_AFTER_MIN:
        raise ConfigError(
            f"{where}: offline_after_min must be at least {MIN_OFFLINE_AFTER_MIN} (the dashboard "
            f"calls a room offline after 30 s), not {value!r}"
        )
    return float(value)


def _quiet_hours(value: Any, *, where: str) -> QuietHours | None:
    if value is None or value == "":
        return None
    parts = value.split("-") if isinstance(value, str) else []
    if len(parts) != 2:
        raise ConfigError(
            f'{where}: quiet_hours must be "HH:MM-HH:MM" (local time), e.g. "08:00-18:00", '
            f"not {value!r}"
        )
    start, end = (_clock_time(p.strip(), key="quiet_hours", where=where) for p in parts)
    if start == end:
        raise ConfigError(f"{where}: quiet_hours {value!r} is empty; leave it out for none")
    return QuietHours(start, end)


def _digest_at(value: Any, *, where: str) -> time | None:
    if value is None or value == "":
        return None
    return _clock_time(value, key="digest_at", where=where)


def _clock_time(value: Any, *, key: str, where: str) -> time:
    try:
        hours, minutes = (int(p) for p in value.split(":"))
        return time(hours, minutes)
    except (AttributeError, ValueError):
        raise ConfigError(
            f'{where}: {key} takes local times as "HH:MM" (00:00-23:59), not {value!r}'
        ) from None


def _zone(value: Any, *, where: str) -> tzinfo:
    if value is None or value == "":
        return local_zone()
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise ConfigError(
            f'{where}: time_zone {value!r} is not a time zone; use a name like "Europe/Paris"'
        ) from None
