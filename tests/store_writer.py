"""Write batch after batch into a store, printing each batch's number once `write` returned.

    python tests/store_writer.py DATABASE FIRST_BATCH PAUSE_S

The SIGKILL test kills this process at a random moment, then checks that the database is whole
and holds every batch reported here. Batch n is `batch(n)`: the records of minute n of a night.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np

from miserymeter.store import StoredRecord, open_store
from store_records import minute_of_records

ROOM = "nursery"


def batch(n: int) -> list[StoredRecord]:
    """Minute n of a night in the nursery: the same records in every process."""
    return minute_of_records(ROOM, n, rng=np.random.default_rng(n))


def main() -> None:
    database, first, pause_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    store = open_store(database)
    for n in itertools.count(first):
        store.write(batch(n))
        print(n, flush=True)
        time.sleep(pause_s)


if __name__ == "__main__":
    main()
