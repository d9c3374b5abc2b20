"""Request parameters read strictly: a bad one is a 4xx with a message that says what to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from miserymeter.nights import night_bounds, night_of

MAX_RANGE_DAYS = 31
MAX_NIGHTS = 90


class RequestError(Exception):
    """A request the dashboard cannot answer: its HTTP status and a one-line reason."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class UnknownRoom(RequestError):
    """A room the store has never heard of: a 404 that lists the `rooms` it has."""

    def __init__(self, room: str, rooms: list[str]) -> None:
        known = ", ".join(rooms) if rooms else "none yet: start `miserymeter listen`"
        super().__init__(404, f"no room {room[:40]!r}; the rooms are: {known}")
        self.room = room
        self.rooms = rooms


@dataclass(frozen=True)
class TimeRange:
    """A stretch of time in UTC, `since` included, `until` excluded."""

    since: datetime
    until: datetime

    @property
    def duration_s(self) -> float:
        return (self.until - self.since).total_seconds()


def parse_time(text: str, *, name: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date-time (`2026-11-25T01:07:10Z`, `...+01:00`; without an offset: local)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise RequestError(
            400, f"{name}={text[:40]!r} is not a date-time; send ISO 8601, e.g. 2026-11-25T01:07Z"
        ) from None
    if at.utcoffset() is None:
        at = at.replace(tzinfo=zone)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise RequestError(400, f"{name}={text[:40]!r} is out of range") from None


def parse_night(text: str, *, name: str = "night") -> date:
    """A night, named by the date of its evening: `2026-11-25`."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RequestError(
            400, f"{name}={text[:40]!r} is not a date; send the evening's date, e.g. 2026-11-25"
        ) from None


def parse_count(text: str | None, *, name: str, default: int, most: int) -> int:
    """A whole number from 1 to `most`."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise RequestError(400, f"{name}={text[:40]!r}: send a whole number from 1 to {most}")
    return value


def time_range(
    *,
    since: str | None,
    until: str | None,
    night: str | None,
    zone: tzinfo,
    now: datetime,
) -> TimeRange:
    """The range a request asks for: `night=`, or `since=`+`until=`, or else tonight."""
    if night is not None:
        if since is not None or until is not None:
            raise RequestError(400, "send either night= or since= and until=, not both")
        return night_range(parse_night(night), zone=zone)
    if since is None and until is None:
        return night_range(night_of(now, zone=zone), zone=zone)
    if since is None or until is None:
        raise RequestError(400, "send both since= and until= (or night=)")
    found = TimeRange(
        parse_time(since, name="since", zone=zone), parse_time(until, name="until", zone=zone)
    )
    if found.until <= found.since:
        raise RequestError(400, f"until={until[:40]!r} must come after since={since[:40]!r}")
    if found.until - found.since > timedelta(days=MAX_RANGE_DAYS):
        raise RequestError(400, f"the range is too long: ask for at most {MAX_RANGE_DAYS} days")
    return found


def night_range(night: date, *, zone: tzinfo) -> TimeRange:
    """The night from noon to noon, refusing dates Python cannot put a noon on."""
    try:
        return TimeRange(*night_bounds(night, zone=zone))
    except OverflowError:
        raise RequestError(400, f"night={night.isoformat()} is out of range") from None
