"""The listener's records into the store, from a thread of its own, held while it fails.

`handle` only queues: a database that is slow, locked by another program or down never holds
up listening. The writer thread writes everything queued as one batch; a write that fails
leaves nothing behind, so the records stay queued and are tried again every `retry_s` with
whatever came since. The first failure of a run of failures is raised by the next `handle`
call (for the listener to log); the first write that works again is told to `on_event`
(`store_recovered`). While the store stays down, at most `max_pending` records are held, the
oldest dropped first and counted. At stop, what is held is tried again for up to
`STOP_RETRY_S`: a server back by then loses nothing; `unstored()` is the error to end with if
records were still lost, naming the store's last failure.

With `destinations`, the events the records make (`miserymeter.events`) are queued in the
outbox for each destination that wants them, in the same transaction as the records;
`on_queued` is then told which destinations have new entries (to wake their couriers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from miserymeter.delivery.destination import Destination
from miserymeter.errors import StorageError
from miserymeter.events import Event, events_from
from miserymeter.records import (
    Episode,
    ListenerEvent,
    ListenerStatus,
    MinuteSummary,
    Record,
    SecondRecord,
)
from miserymeter.store import Store, StoredRecord
from miserymeter.store.outbox import OutboxEntry

# A day of per-second records.
DEFAULT_MAX_PENDING = 86_400
RETRY_S = 1.0
# At stop, how long the held records are tried again (the store's busy timeout).
STOP_RETRY_S = 5.0
STORED_TYPES = (SecondRecord, MinuteSummary, Episode, ListenerEvent, ListenerStatus)


class StoreSink:
    """Writes every record the store keeps (not `CryingStarted`, `CryingContinues`); see above."""

    def __init__(
        self,
        store: Store,
        *,
        destinations: Sequence[Destination] = (),
        dashboard_url: str | None = None,
        on_queued: Callable[[set[str]], None] | None = None,
        on_event: Callable[[str, str], None] | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
        retry_s: float = RETRY_S,
    ) -> None:
        self.store = store
        self.destinations = destinations
        self.dashboard_url = dashboard_url
        self.max_pending = max_pending
        self.retry_s = retry_s
        self.n_dropped = 0
        self._on_queued = on_queued
        self._on_event = on_event
        self._pending: list[StoredRecord] = []
        self._entries: list[OutboxEntry] = []
        self._errors: list[StorageError] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._stop_by_s = 0.0
        self._last_error: StorageError | None = None
        self._thread = threading.Thread(target=self._write_forever, name="store", daemon=True)
        self._thread.start()

    @property
    def n_pending(self) -> int:
        """Records and outbox entries waiting for the store to take them."""
        with self._lock:
            return len(self._pending) + len(self._entries)

    def handle(self, records: Sequence[Record]) -> None:
        stored = [r for r in records if isinstance(r, STORED_TYPES)]
        entries = self._outbox_entries(records)
        with self._lock:
            self._pending += stored
            self._entries += entries
            errors, self._errors = self._errors, []
        if stored or entries:
            self._wake.set()
        if errors:
            raise errors[0]

    def queue_events(self, events: Sequence[Event]) -> None:
        """Queue events made outside the records (the morning digest) for whoever wants them;
        safe to call from any thread."""
        entries = [
            OutboxEntry(destination.name, event)
            for event in events
            for destination in self.destinations
            if destination.wants(event)
        ]
        if entries:
            with self._lock:
                self._entries += entries
            self._wake.set()

    def close(self, *, timeout_s: float = STOP_RETRY_S) -> None:
        """Write what is queued (trying for up to `timeout_s`) and close the store."""
        self.finish(timeout_s=timeout_s)
        self.store.close()

    def finish(self, *, timeout_s: float = STOP_RETRY_S) -> None:
        """Write what is queued, trying again every `retry_s` for up to `timeout_s` while the
        store fails, and stop writing; the store stays open."""
        self._stop_by_s = time.monotonic() + timeout_s
        self._closing = True
        self._wake.set()
        self._thread.join(timeout_s)

    def unstored(self) -> StorageError | None:
        """After `finish`: the error to end with if records were dropped or are still held,
        naming the store's last failure (which says what to do), else None."""
        n_lost = self.n_pending + self.n_dropped
        if not n_lost:
            return None
        if self._last_error is None:  # dropped during a failure the store recovered from
            return StorageError(
                f"{self.store.name}: {n_lost} record(s) were dropped while it failed; "
                "fix the database, or pass another --db"
            )
        return StorageError(f"{n_lost} record(s) could not be stored: {self._last_error}")

    def _outbox_entries(self, records: Sequence[Record]) -> list[OutboxEntry]:
        if not self.destinations:
            return []
        return [
            OutboxEntry(destination.name, event)
            for event in events_from(records, dashboard_url=self.dashboard_url)
            for destination in self.destinations
            if destination.wants(event)
        ]

    def _write_forever(self) -> None:
        failing = False
        while True:
            self._wake.wait()
            self._wake.clear()
            closing = self._closing
            with self._lock:
                overflow = len(self._pending) - self.max_pending
                if overflow > 0:
                    del self._pending[:overflow]
                    self.n_dropped += overflow
                batch = list(self._pending)
                entries = list(self._entries)
            try:
                if batch or entries:
                    self.store.write(batch, outbox=entries)
            except StorageError as e:
                self._last_error = e
                if not failing:
                    failing = True
                    with self._lock:
                        self._errors.append(
                            StorageError(f"{e} (holding the records in memory, retrying)")
                        )
                if closing and time.monotonic() + self.retry_s >= self._stop_by_s:
                    return
                time.sleep(self.retry_s)
                self._wake.set()
                continue
            with self._lock:
                del self._pending[: len(batch)]
                del self._entries[: len(entries)]
            if entries and self._on_queued is not None:
                self._on_queued({e.destination for e in entries})
            if failing and self._on_event is not None:
                self._on_event(
                    "store_recovered",
                    f"{self.store.name} takes records again: the {len(batch)} held in memory "
                    "are written",
                )
            failing = False
            self._last_error = None
            if closing:
                return
