"""A night as parents count it: from noon to the next noon, local time, named by its evening.

Crying at 03:00 on the 26th belongs to the night of the 25th; "tonight" in the evening and
"last night" in the morning are the same night. Every part that sums up nights (the dashboard,
Home Assistant's "minutes cried tonight", the morning digest) uses these two functions.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

NIGHT_STARTS_AT = time(12, 0)
LOCALTIME = Path("/etc/localtime")


def local_zone() -> tzinfo:
    """The machine's time zone with its daylight-saving rules (a summer night is told in
    summer time in winter too): TZ's zone (Europe/Paris), else /etc/localtime's."""
    return _zone(os.environ.get("TZ"))


@functools.lru_cache(maxsize=4)
def _zone(tz: str | None) -> tzinfo:
    try:
        if tz:
            return ZoneInfo(tz.removeprefix(":"))
        with LOCALTIME.open("rb") as f:
            return ZoneInfo.from_file(f)
    except (OSError, ValueError, KeyError):  # a POSIX rule such as "CET-1", or no zone files
        zone = datetime.now().astimezone().tzinfo
        return zone if zone is not None else UTC


def night_of(at: datetime, *, zone: tzinfo | None = None) -> date:
    """The night `at` (an aware datetime) belongs to, named by the date of its evening."""
    local = at.astimezone(zone or local_zone())
    return local.date() - timedelta(days=1) if local.time() < NIGHT_STARTS_AT else local.date()


def night_bounds(night: date, *, zone: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The UTC start (included) and end (excluded) of `night`."""
    zone = zone or local_zone()
    start = datetime.combine(night, NIGHT_STARTS_AT, tzinfo=zone)
    end = datetime.combine(night + timedelta(days=1), NIGHT_STARTS_AT, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
