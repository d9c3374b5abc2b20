"""Where the listener's records are kept: SQLite on the Pi, or one PostgreSQL for many rooms."""

from miserymeter.store.database import Store, open_store
from miserymeter.store.queries import Summary
from miserymeter.store.schema import StoredRecord

__all__ = ["Store", "StoredRecord", "Summary", "open_store"]
