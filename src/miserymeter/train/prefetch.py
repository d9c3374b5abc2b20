"""Prepare the next training batches in a background thread while the model trains.

Sampling and augmentation are numpy and torch work that release the GIL, so on a multi-core
CPU they overlap with the model's step. Batches come out in the order they were made, so a
run stays reproducible: the thread is the only user of the random generators it is given.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

Batch = TypeVar("Batch")
_POLL_S = 0.1


class BatchPrefetcher(Generic[Batch]):
    """Calls `make_batch` in a thread, keeping up to `depth` batches ready; use with `with`."""

    def __init__(self, make_batch: Callable[[], Batch], *, depth: int = 2) -> None:
        self._make_batch = make_batch
        self._ready: queue.Queue[tuple[Batch | None, BaseException | None]] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="batch-prefetch", daemon=True)

    def __enter__(self) -> BatchPrefetcher[Batch]:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def next(self) -> Batch:
        """The next batch, in order; re-raises what `make_batch` raised."""
        batch, error = self._ready.get()
        if error is not None:
            raise error
        assert batch is not None  # _run puts a batch whenever it puts no error
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item: tuple[Batch | None, BaseException | None] = (self._make_batch(), None)
            except Exception as e:  # handed to the training thread, which raises it
                item = (None, e)
            while not self._stop.is_set():
                try:
                    self._ready.put(item, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue
            if item[1] is not None:
                return
