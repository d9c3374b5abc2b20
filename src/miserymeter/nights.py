"""A night as parents count it: from noon to the next noon, local time, named by its evening.

Crying at 03:00 on the 26th belongs to the night of the 25th; "tonight" in the evening and
"last night" in the morning are the same night. Every part that sums up nights (the dashboard,
Home Assistant's "minutes cried tonight", the morning digest) uses these two functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

NIGHT_STARTS_AT = time(12, 0)


def local_zone() -> tzinfo:
    """The machine's time zone."""
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
