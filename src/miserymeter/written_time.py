"""A date and time as a person writes one, in a command-line option or a CSV cell: a date and a
time of day, `T` or a space between them, seconds optional, with an offset (`+01:00`, `Z`) or
without one: local time, in the zone given (`--timezone`), else the machine's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone

_DATE = r"\d{4}-\d{2}-\d{2}"
_DATE_AND_TIME = re.compile(_DATE + r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
FORMS = '"2026-11-25 21:00" (local time) or with its offset, "2026-11-25T21:00+01:00"'


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
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone or local_zone())
    return at.astimezone(UTC)


def _shape_problem(value: str) -> str:
    if not value:
        return "empty"
    if re.fullmatch(_DATE, value):
        return "a date without a time of day"
    return "not a date and a time of day"
