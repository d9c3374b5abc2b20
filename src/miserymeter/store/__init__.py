"""Where the listener's records are kept: SQLite on the Pi, or one PostgreSQL for many rooms."""

from miserymeter.store.database import Store, open_store
from miserymeter.store.schema import Record

__all__ = ["Record", "Store", "open_store"]
