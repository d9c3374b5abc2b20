"""Size and speed of the store for one night: `make bench-store` (prints a table).

A night is 12 h of one room as the listener writes it: a batch every minute of 60 SecondRecords
and one MinuteSummary (about a quarter of the seconds quiet enough that the loudness gate
skipped the model), 10 crying episodes and 11 listener events: 43,200 + 720 + 10 + 11 records.
Measures bytes on disk per night (SQLite: the database file once closed; PostgreSQL: the
tables with their indexes), the time to write the night batch by batch, and the time to read
back its 43,200 seconds (what the dashboard asks for one night). With `--postgres URL` the same
runs on a PostgreSQL server, in a scratch database that is created and dropped (the user needs
CREATEDB).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from miserymeter.store import Store, StoredRecord, open_store
from miserymeter.store.engines import database_url
from postgres_server import tables_bytes
from store_records import NIGHT_START, night_batches

N_MINUTES = 12 * 60
N_EPISODES = 10
ROOM = "nursery"


@dataclass(frozen=True)
class StoreBench:
    backend: str
    bytes_per_night: int
    write_s: float
    write_ms_per_batch: float
    read_night_s: float


def write_and_read(store: Store, batches: list[list[StoredRecord]]) -> tuple[float, float]:
    """Seconds to write every batch, and to read the night's seconds back."""
    started_s = time.perf_counter()
    for batch in batches:
        store.write(batch)
    write_s = time.perf_counter() - started_s
    started_s = time.perf_counter()
    seconds = store.seconds(ROOM, NIGHT_START, NIGHT_START + timedelta(minutes=N_MINUTES))
    read_s = time.perf_counter() - started_s
    assert len(seconds) == 60 * N_MINUTES
    return write_s, read_s


def bench_sqlite(batches: list[list[StoredRecord]], work_dir: Path) -> StoreBench:
    path = work_dir / "miserymeter.db"
    with open_store(path) as store:
        write_s, read_s = write_and_read(store, batches)
    return StoreBench("SQLite", path.stat().st_size, write_s, 1e3 * write_s / len(batches), read_s)


def bench_postgresql(batches: list[list[StoredRecord]], server_url: str) -> StoreBench:
    scratch = f"miserymeter_bench_{os.getpid()}"
    admin = create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {scratch}"))
    url = database_url(server_url).set(database=scratch).render_as_string(hide_password=False)
    try:
        with open_store(url) as store:
            write_s, read_s = write_and_read(store, batches)
        size = tables_bytes(url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        admin.dispose()
    return StoreBench("PostgreSQL", size, write_s, 1e3 * write_s / len(batches), read_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", metavar="URL", help="Also bench this PostgreSQL server.")
    args = parser.parse_args()
    batches = night_batches(
        ROOM, n_minutes=N_MINUTES, n_episodes=N_EPISODES, rng=np.random.default_rng(0)
    )
    with tempfile.TemporaryDirectory() as work:
        rows = [bench_sqlite(batches, Path(work))]
    if args.postgres:
        rows.append(bench_postgresql(batches, args.postgres))
    n_records = sum(map(len, batches))
    table = Table(
        "backend",
        "MB per night",
        "MB per week",
        "bytes per second of audio",
        "write the night (s)",
        "ms per minute batch",
        "read a night's seconds (s)",
        title=f"miserymeter store, a 12 h night: {n_records:,} records in {len(batches)} batches",
    )
    for row in rows:
        table.add_row(
            row.backend,
            f"{row.bytes_per_night / 1e6:.2f}",
            f"{7 * row.bytes_per_night / 1e6:.1f}",
            f"{row.bytes_per_night / (60 * N_MINUTES):.0f}",
            f"{row.write_s:.2f}",
            f"{row.write_ms_per_batch:.2f}",
            f"{row.read_night_s:.2f}",
        )
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
