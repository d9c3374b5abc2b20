"""The wall clock, and how times are written where machines read them.

Every time in Misery Meter is an aware `datetime` in UTC; components that wait or stamp take a
`clock` argument defaulting to `utc_now`, so tests can drive time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def iso_utc(at: datetime) -> str:
    """`at` as ISO 8601 in UTC with a Z, to the millisecond: 2026-11-25T03:14:15.926Z."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
