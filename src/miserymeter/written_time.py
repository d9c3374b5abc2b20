"""A date and time as a person writes one, in a command-line option or a CSV cell: a date and a
time of day, `T` or a space between them, seconds optional, with an offset (`+01:00`, `Z`) or
without one: local time, in the zone given (`--timezone`), else the machine's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone

_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # not \d: it takes fullwidth and other scripts' digits too
_DATE_AND_TIME = re.compile(
    _DATE + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
FORMS = '"2026-11-25 21:00" (local time) or with its offset, "2026-11-25T21:00+01:00"'
# Years a recording or a noted episode can be from; outside them, a typo (and a recording's
# end past the year 9999 is no datetime).
YEARS = range(1970, 3000)


def parse_written_time(text: str, *, where: str, zone: tzinfo | None = None) -> datetime:
    """`text` as an aware UTC datetime. `where` names where it was written ("--start",
    "episodes.csv line 3, start"); every way it can be wrong is a one-line ConfigError."""
    value = text.strip()
    if not _DATE_AND_TIME.fullmatch(value):
        raise ConfigError(f"{where} {value!r}: {_shape_problem(value)}; write it as {FORMS}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError as e:  # 2026-02-30, 25:00
        raise ConfigError(
            f"{where} {value!r}: no such date or time ({e}); write it as {FORMS}"
        ) from e
    if at.year not in YEARS:
        raise ConfigError(
            f"{where} {value!r}: year {at.year} is not one of {YEARS[0]} to {YEARS[-1]}; "
            f"write it as {FORMS}"
        )
    if at.tzinfo is None:
        at = _local(at, zone or local_zone(), where=f"{where} {value!r}")
    return at.astimezone(UTC)


def _local(at: datetime, zone: tzinfo, *, where: str) -> datetime:
    """The naive `at` in `zone`; a time its clocks skipped or showed twice (daylight saving)
    names no one moment, so it is refused with the offsets that would."""
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    written = at.isoformat(timespec="seconds" if at.second or at.microsecond else "minutes")
    before, after = _offset(first.utcoffset()), _offset(second.utcoffset())
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != at:
        raise ConfigError(
            f"{where}: the clocks skipped that hour (daylight saving); write it with its "
            f'offset, "{written}{before}" or "{written}{after}"'
        )
    raise ConfigError(
        f"{where}: the clocks showed that hour twice (daylight saving); write it with its "
        f'offset, "{written}{before}" (the first) or "{written}{after}" (the second)'
    )


def _offset(offset: timedelta | None) -> str:
    """`+01:00` for an hour east of UTC."""
    minutes = round((offset or timedelta()).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _shape_problem(value: str) -> str:
    if not value:
        return "empty"
    if re.fullmatch(_DATE, value):
        return "a date without a time of day"
    return "not a date and a time of day"
