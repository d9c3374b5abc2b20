"""The store's reads for the dashboard, on SQLite and PostgreSQL: the last second a room was
heard, and how many minutes of a range were recorded."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

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
