"""The store's reads for the dashboard, on SQLite and PostgreSQL: the last second a room was
heard, and how many minutes of a range were recorded."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from miserymeter.records import MinuteSummary
from miserymeter.store import open_store
from store_records import NIGHT_START, minute_of_records


def test_the_latest_second_and_the_minutes_heard(store_target: str) -> None:
    rng = np.random.default_rng(5)
    with open_store(store_target) as store:
        assert store.latest_second("nursery") is None
        records = [r for m in range(3) for r in minute_of_records("nursery", m, rng=rng)]
        store.write([*records, *minute_of_records("attic", 5, rng=rng)])
        latest = store.latest_second("nursery")
        assert latest is not None and latest.at == NIGHT_START + timedelta(seconds=179)
        assert latest.room == "nursery" and latest.offset_s == 179.0
        end = NIGHT_START + timedelta(hours=1)
        assert store.n_minutes("nursery", NIGHT_START, end) == 3
        assert store.n_minutes("nursery", NIGHT_START + timedelta(seconds=1), end) == 2
        assert store.n_minutes("attic", NIGHT_START, end) == 1
        assert store.n_minutes("kitchen", NIGHT_START, end) == 0


def test_minutes_are_summed_up_per_bucket_in_the_database(store_target: str) -> None:
    rng = np.random.default_rng(6)
    minutes = [
        r for m in range(5) for r in minute_of_records("nursery", m, rng=rng)
        if isinstance(r, MinuteSummary)
    ]  # fmt: skip
    with open_store(store_target) as store:
        store.write(minutes)
        found = store.summaries(
            "nursery", NIGHT_START, NIGHT_START + timedelta(hours=1), bucket_s=120.0
        )
    assert [s.start for s in found] == [minutes[0].start, minutes[2].start, minutes[4].start]
    assert [s.n_seconds for s in found] == [120, 120, 60]
    first, last = found[0], found[-1]
    assert first.mean_level_dbfs == pytest.approx(
        (minutes[0].mean_level_dbfs + minutes[1].mean_level_dbfs) / 2
    )
    assert first.max_level_dbfs == max(minutes[0].max_level_dbfs, minutes[1].max_level_dbfs)
    assert first.crying_fraction == pytest.approx(
        (minutes[0].crying_fraction + minutes[1].crying_fraction) / 2
    )
    assert last.mean_level_dbfs == pytest.approx(minutes[4].mean_level_dbfs)


def test_levels_are_the_seconds_loudness_from_a_start(store_target: str) -> None:
    rng = np.random.default_rng(7)
    records = [r for m in range(3) for r in minute_of_records("nursery", m, rng=rng)]
    with open_store(store_target) as store:
        store.write([*records, *minute_of_records("attic", 0, rng=rng)])
        since = NIGHT_START + timedelta(seconds=30)
        found = store.levels("nursery", since, NIGHT_START + timedelta(minutes=2))
        seconds = store.seconds("nursery", since, NIGHT_START + timedelta(minutes=2))
        assert store.levels("kitchen", since, NIGHT_START + timedelta(hours=1)) == []
    assert len(found) == len(seconds) == 90
    assert [after for after, _ in found] == pytest.approx(
        [(s.at - since).total_seconds() for s in seconds], abs=1e-6
    )
    assert [level for _, level in found] == [s.level_dbfs for s in seconds]
