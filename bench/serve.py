"""How fast the dashboard answers with a month of a daycare in the store: `make bench-serve`.

Builds (once, kept in build/bench-serve/) a SQLite store of 30 nights x 10 rooms as the
listener writes them (12 h a night: 43,200 seconds, 720 minutes and 10 episodes per room and
night, 13 million rows), then serves it with uvicorn on loopback and asks every page and API
call `--n_requests` times, for random rooms and nights, one request at a time over HTTP.
The calibration page scores a dataset of 170 reviewed clips (the bundled examples' windows)
and reads each room's last nights on its first request per room (timed on their own), then
answers from its caches. Prints p50 and p95 per endpoint (ms).

Then the all-rooms view of a daycare (`/api/overview`): a fresh store of `--rooms` rooms heard
for `--hours` up to now and fed a second a second while asked (`live_daycare.py`), in SQLite
and, with `--postgres`, in a PostgreSQL server of its own (tests/postgres_server.py). Prints
its p50 and p95 over HTTP and the CPU of one overview in process (the server's own CPU not
included). `--overview_only` skips the month.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from calibration_clips import write_reviewed_clips
from live_daycare import LiveDaycare
from miserymeter.clock import iso_utc, utc_now
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.nights import night_bounds
from miserymeter.store import StoredRecord, open_store
from miserymeter.web import ServeSettings, create_app
from miserymeter.web.now import RoomReplays
from miserymeter.web.overview import rooms_overview
from postgres_server import PostgresServer, postgres_available
from store_records import episode, minute_of_records
from web_helpers import ZONE, running_server, settings_for

N_ROOMS = 10
N_NIGHTS = 30
N_MINUTES = 12 * 60
N_EPISODES = 10
LAST_NIGHT = date(2026, 11, 24)
CLIP = "bench/episode.flac"
CLIP_S = 40.0
RATE_HZ = 16_000
FIRST_TIMEOUT_S = 120.0


def nights() -> list[date]:
    return [LAST_NIGHT - timedelta(days=k) for k in range(N_NIGHTS - 1, -1, -1)]


def evening(night: date) -> datetime:
    """19:00 local, the start of a night's 12 h of records."""
    return night_bounds(night, zone=ZONE)[0] + timedelta(hours=7)


def room_night(room: str, night: date, rng: np.random.Generator) -> list[StoredRecord]:
    start = evening(night)
    records: list[StoredRecord] = []
    for minute in range(N_MINUTES):
        records += minute_of_records(room, minute, rng=rng, start=start)
    spacing_s = 60.0 * N_MINUTES / (N_EPISODES + 1)
    for k in range(1, N_EPISODES + 1):
        found = episode(room, 0.0, 90.0)
        at = start + timedelta(seconds=k * spacing_s)
        records.append(replace(found, start=at, end=at + timedelta(seconds=90), clip_path=CLIP))
    return records


def build(db: Path, clips_dir: Path) -> None:
    """The store and the one clip every episode points to."""
    rng = np.random.default_rng(0)
    (clips_dir / CLIP).parent.mkdir(parents=True, exist_ok=True)
    noise = (0.05 * rng.standard_normal(round(CLIP_S * RATE_HZ))).astype(np.float32)
    sf.write(clips_dir / CLIP, noise, RATE_HZ)
    partial = db.with_suffix(".partial")
    with open_store(partial) as store:
        for n, night in enumerate(nights()):
            for k in range(N_ROOMS):
                store.write(room_night(f"room-{k:02d}", night, rng))
            print(f"built night {n + 1}/{N_NIGHTS}", file=sys.stderr, flush=True)
    partial.rename(db)


def endpoints(rng: np.random.Generator) -> dict[str, Callable[[], str]]:
    """Each endpoint's name and a maker of its next URL (random room and night)."""

    def room() -> str:
        return f"room-{int(rng.integers(N_ROOMS)):02d}"

    def night() -> date:
        return nights()[int(rng.integers(N_NIGHTS))]

    def episode_id() -> str:
        k = int(rng.integers(1, N_EPISODES + 1))
        at = evening(night()) + timedelta(seconds=k * 60.0 * N_MINUTES / (N_EPISODES + 1))
        return f"{room()}/episodes/{iso_utc(at.astimezone(UTC))}"

    def zoom() -> str:
        since = evening(night()) + timedelta(hours=float(rng.uniform(0, 10)))
        until = since + timedelta(hours=1)
        return f"/api/rooms/{room()}/timeline?since={iso_utc(since)}&until={iso_utc(until)}"

    month = f"since={iso_utc(evening(nights()[0]))}&until={iso_utc(evening(LAST_NIGHT))}"
    return {
        "page: timeline": lambda: f"/rooms/{room()}",
        "page: nights": lambda: f"/rooms/{room()}/nights",
        "page: episode": lambda: f"/rooms/{episode_id()}",
        "page: level": lambda: f"/rooms/{room()}/level",
        "api: rooms": lambda: "/api/rooms",
        "api: timeline, a night (minutes)": lambda: f"/api/rooms/{room()}/timeline?night={night()}",
        "api: timeline, 1 h zoom (seconds)": zoom,
        "api: timeline, 30 days (hours)": lambda: f"/api/rooms/{room()}/timeline?{month}",
        "api: 30 nights": lambda: f"/api/rooms/{room()}/nights?last={LAST_NIGHT}&n=30",
        "api: a night's report": lambda: f"/api/rooms/{room()}/nights/{night()}",
        "api: health": lambda: f"/api/rooms/{room()}/health",
        "api: level (the store's latest second)": lambda: f"/api/rooms/{room()}/level",
        "api: live (a following page's update)": lambda: (
            f"/api/rooms/{room()}/live?after={iso_utc(datetime.now(UTC) - timedelta(seconds=3))}"
        ),
        "api: episode": lambda: f"/api/rooms/{episode_id()}",
        "api: episode audio (40 s FLAC)": lambda: f"/api/rooms/{episode_id()}/audio",
        "api: spectrogram": lambda: f"/api/rooms/{episode_id()}/spectrogram",
        "api: reviews waiting": lambda: "/api/reviews",
        "page: calibrate": lambda: f"/rooms/{room()}/calibrate",
        "api: quiet room (last 10 min)": lambda: f"/api/rooms/{room()}/quiet",
        "api: calibration (scores cached)": lambda: f"/api/rooms/{room()}/calibration",
    }


def first_calibrations(client: httpx.Client) -> list[float]:
    """The first calibration request of each room, in ms: clips scored, its nights read."""
    times_ms = []
    for k in range(N_ROOMS):
        started_s = time.perf_counter()
        answer = client.get(f"/api/rooms/room-{k:02d}/calibration", timeout=FIRST_TIMEOUT_S)
        times_ms.append(1e3 * (time.perf_counter() - started_s))
        if answer.status_code != 200 or answer.json()["recommended"] is None:
            raise SystemExit(
                f"calibration of room-{k:02d}: {answer.status_code} {answer.text[:200]}"
            )
    return times_ms


def timed_ms(ask: Callable[[], object], n: int, *, clock: Callable[[], float]) -> list[float]:
    """`n` calls of `ask`, each timed by `clock` (ms)."""
    times_ms = []
    for _ in range(n):
        started_s = clock()
        ask()
        times_ms.append(1e3 * (clock() - started_s))
    return times_ms


def overview_row(db: str, *, n_rooms: int, hours: float, n_requests: int) -> list[str]:
    """p50, p95 and max of /api/overview over HTTP, and the CPU of one in process (ms)."""
    with tempfile.TemporaryDirectory() as work, open_store(db) as store:
        settings = settings_for(db, Path(work))
        daycare = LiveDaycare(store, n_rooms=n_rooms, hours=hours)
        with (
            daycare,
            running_server(create_app(settings)) as base,
            httpx.Client(base_url=base, timeout=60.0) as client,
        ):

            def ask() -> None:
                answer = client.get("/api/overview")
                if answer.status_code != 200 or len(answer.json()) != n_rooms:
                    raise SystemExit(f"/api/overview: {answer.status_code} {answer.text[:200]}")

            http_ms = timed_ms(ask, n_requests, clock=time.perf_counter)
            replays = RoomReplays()  # kept from one answer to the next, as serve's
            cpu_ms = timed_ms(
                lambda: rooms_overview(
                    store, settings.detection, now=utc_now(), zone=ZONE, replays=replays
                ),
                n_requests,
                clock=time.thread_time,
            )
    return [
        f"{statistics.median(http_ms):.1f}", f"{statistics.quantiles(http_ms, n=20)[-1]:.1f}",
        f"{max(http_ms):.1f}", f"{statistics.median(cpu_ms):.1f}",
    ]  # fmt: skip


@contextmanager
def postgres_database() -> Iterator[str]:
    """An empty database of a PostgreSQL server of its own, stopped afterwards."""
    missing = postgres_available()
    if missing is not None:
        raise SystemExit(f"--postgres needs {missing} (scripts/install_system_deps.sh test)")
    server = PostgresServer()
    try:
        yield server.new_database()
    finally:
        server.stop()


def bench_overview(args: argparse.Namespace) -> None:
    """The overview's table: SQLite, and PostgreSQL if asked."""
    table = Table("store", "p50 (ms)", "p95 (ms)", "max (ms)", "CPU per overview (ms)", title=(
        f"/api/overview: {args.rooms} rooms heard for {args.hours:g} h, "
        f"{args.n_requests} requests"
    ))  # fmt: skip
    sizes = {"n_rooms": args.rooms, "hours": args.hours, "n_requests": args.n_requests}
    with tempfile.TemporaryDirectory() as work:
        table.add_row("SQLite", *overview_row(str(Path(work) / "store.db"), **sizes))
    if args.postgres:
        with postgres_database() as url:
            table.add_row("PostgreSQL", *overview_row(url, **sizes))
    Console(width=120).print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("build/bench-serve"))
    parser.add_argument("--n_requests", type=int, default=100)
    parser.add_argument("--rooms", type=int, default=50, help="Rooms of the overview's store.")
    parser.add_argument("--hours", type=float, default=12.0, help="How long each was heard.")
    parser.add_argument("--postgres", action="store_true", help="The overview in PostgreSQL too.")
    parser.add_argument("--overview_only", action="store_true", help="Skip the month's store.")
    args = parser.parse_args()
    if not args.overview_only:
        bench_month(args)
    bench_overview(args)
    return 0


def bench_month(args: argparse.Namespace) -> None:
    """Every endpoint's table over the month's store (built once)."""
    db, clips_dir = args.dir / "store.db", args.dir / "clips"
    if not db.exists():
        args.dir.mkdir(parents=True, exist_ok=True)
        build(db, clips_dir)
    data_dir = args.dir / "dataset"
    if not data_dir.exists():
        for k in range(N_ROOMS):
            write_reviewed_clips(data_dir, room=f"room-{k:02d}")
    settings = ServeSettings(
        db=str(db), clips_dir=clips_dir, data_dir=data_dir,
        model_path=DEFAULT_MODEL_PATH, zone=ZONE,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    table = Table("endpoint", "p50 (ms)", "p95 (ms)", "max (ms)", "KB", title=(
        f"miserymeter serve: {N_NIGHTS} nights x {N_ROOMS} rooms in SQLite, "
        f"{args.n_requests} requests each"
    ))  # fmt: skip
    with running_server(create_app(settings)) as base, httpx.Client(base_url=base) as client:
        first_ms = first_calibrations(client)
        for name, next_url in endpoints(rng).items():
            times_ms, size = [], 0
            for _ in range(args.n_requests):
                url = next_url()
                started_s = time.perf_counter()
                answer = client.get(url)
                times_ms.append(1e3 * (time.perf_counter() - started_s))
                if answer.status_code != 200:
                    raise SystemExit(f"{url}: {answer.status_code} {answer.text[:200]}")
                size = len(answer.content)
            p95_ms = statistics.quantiles(times_ms, n=20)[-1]
            table.add_row(
                name, f"{statistics.median(times_ms):.1f}", f"{p95_ms:.1f}",
                f"{max(times_ms):.1f}", f"{size / 1e3:.0f}",
            )  # fmt: skip
    table.add_row(
        f"api: calibration, first of each room ({N_ROOMS})",
        f"{statistics.median(first_ms):.1f}", "", f"{max(first_ms):.1f}", "",
    )  # fmt: skip
    Console(width=120).print(table)


if __name__ == "__main__":
    sys.exit(main())
