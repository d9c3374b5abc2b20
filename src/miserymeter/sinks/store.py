"""The listener's records into the store, held in memory while the database cannot take them.

A write that fails (disk full, database locked for too long, server down) leaves nothing
behind, so the records are kept and written with the next batch. Only the first failure of a
run of failures is raised (for the listener to log); while the store stays down, at most
`max_pending` records are held, the oldest dropped first and counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from miserymeter.errors import StorageError
from miserymeter.records import Episode, ListenerEvent, MinuteSummary, Record, SecondRecord
from miserymeter.store import Store, StoredRecord

# A day of per-second records.
DEFAULT_MAX_PENDING = 86_400
STORED_TYPES = (SecondRecord, MinuteSummary, Episode, ListenerEvent)


class StoreSink:
    """Writes every record the store keeps (all but `CryingStarted`) as one batch per call."""

    def __init__(self, store: Store, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.store = store
        self.max_pending = max_pending
        self.n_dropped = 0
        self._pending: list[StoredRecord] = []
        self._failing = False

    @property
    def n_pending(self) -> int:
        """Records waiting for the store to take them."""
        return len(self._pending)

    def handle(self, records: Sequence[Record]) -> None:
        self._pending += [r for r in records if isinstance(r, STORED_TYPES)]
        if not self._pending:
            return
        try:
            self.store.write(self._pending)
        except StorageError as e:
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                del self._pending[:overflow]
                self.n_dropped += overflow
            if not self._failing:
                self._failing = True
                raise StorageError(
                    f"{e} (holding the records in memory and retrying every second)"
                ) from e
            return
        self._pending = []
        self._failing = False
