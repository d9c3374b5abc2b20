"""The background batch thread: order, errors, and a clean stop."""

from __future__ import annotations

import itertools
import threading

import pytest

from miserymeter.train.prefetch import BatchPrefetcher


def test_batches_come_out_in_the_order_they_were_made() -> None:
    counter = itertools.count()
    with BatchPrefetcher(lambda: next(counter), depth=3) as batches:
        assert [batches.next() for _ in range(10)] == list(range(10))


def test_an_error_in_make_batch_is_raised_in_the_caller() -> None:
    def failing() -> int:
        raise ValueError("no clips")

    with BatchPrefetcher(failing) as batches, pytest.raises(ValueError, match="no clips"):
        batches.next()


def test_leaving_the_block_stops_the_thread() -> None:
    prefetcher = BatchPrefetcher(lambda: 0, depth=1)
    with prefetcher as batches:
        batches.next()
    assert "batch-prefetch" not in {t.name for t in threading.enumerate()}
