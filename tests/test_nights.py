"""Nights run from noon to noon, local time, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from miserymeter.nights import local_zone, night_bounds, night_of

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_small_hours_belong_to_the_evening_before() -> None:
    assert night_of(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), zone=BERLIN) == date(2026, 11, 25)
    assert night_of(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), zone=BERLIN) == date(2026, 11, 25)
    assert night_of(datetime(2026, 11, 26, 11, 0, tzinfo=UTC), zone=BERLIN) == date(2026, 11, 26)


def test_a_night_with_a_clock_change_is_23_or_25_hours_long() -> None:
    start, end = night_bounds(date(2026, 3, 28), zone=BERLIN)
    assert start == datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 23 * 3600
    start, end = night_bounds(date(2026, 10, 24), zone=BERLIN)
    assert (end - start).total_seconds() == 25 * 3600
    assert night_of(start, zone=BERLIN) == date(2026, 10, 24)
    assert night_of(end, zone=BERLIN) == date(2026, 10, 25)


def test_the_machines_zone_keeps_its_daylight_saving_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Told in December, a night of July in New York runs from noon EDT (UTC-4), not EST."""
    monkeypatch.setenv("TZ", "America/New_York")
    assert night_bounds(date(2026, 7, 5), zone=local_zone())[0] == datetime(
        2026, 7, 5, 16, 0, tzinfo=UTC
    )
    assert night_bounds(date(2026, 12, 5), zone=local_zone())[0] == datetime(
        2026, 12, 5, 17, 0, tzinfo=UTC
    )
