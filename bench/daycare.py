"""A daycare on one server: `make bench-daycare` (ROOMS=50 MINUTES=10 by default).

`--rooms` `listen --input -` processes, each fed a night of the bundled clips on standard input
at real-time pace (each room from another point of it, its seconds starting at one of the ten
tenths of a second: rooms' microphones are not in step), write to one PostgreSQL and publish to
one mosquitto, both real servers on loopback, for `--minutes`, while `serve` on the same
database answers the all-rooms view (`/api/overview`) once a second. Measured: how far each
listener fell behind real time (the PCM waiting in its pipe, which holds 32 s: a microphone's
listener drops windows past `--max_lag_s`, 5 s), the windows the listeners dropped, the
seconds stored against those fed, the events published on MQTT against those the store's
records make (ids unique), the overview's latency, and the CPU (% of one core, while fed) and
memory of each listener, PostgreSQL, mosquitto and `serve`. From these, how many rooms one
server carries on paper. Exits 1 if anything was lost, duplicated, dropped or late.
"""

from __future__ import annotations

import argparse
import array
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import cli_command, cli_env  # noqa: E402
from miserymeter.audio.io import read_audio  # noqa: E402
from miserymeter.events import CRYING_STARTED, events_from  # noqa: E402
from miserymeter.store import Store, open_store  # noqa: E402
from mosquitto_broker import MosquittoBroker, Watcher, mosquitto_available  # noqa: E402
from postgres_server import PostgresServer, free_port, postgres_available  # noqa: E402

RATE_HZ = 16_000
BYTES_PER_S = 2 * RATE_HZ  # S16_LE mono
CHUNK_S = 0.1  # what a microphone hands over at a time
PHASES = 10  # the rooms' seconds start at one of this many chunks
PIPE_BYTES = 1 << 20  # 32 s of PCM: the feeder never blocks, the backlog is measured instead
MAX_LAG_S = 5.0  # listen's --max_lag_s
MAX_FEEDER_LATE_S = 1.0
TARGET_P95_MS = 200.0
POLL_S = 1.0
QUIET_REQUESTS = 20  # overviews asked once the listeners ended
STARTED = " started: "
DRAIN_TIMEOUT_S = 120.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The server's client connections (the listeners' and serve's), psql's own left out.
CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
)
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


def cpu_s(pid: int, *, reaped: bool = False) -> float:
    """CPU time (user + system) of process `pid`, plus that of its children it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def tree_cpu_s(pid: int) -> float:
    """CPU time of `pid`, its live children and the children it reaped (a server's)."""
    total = cpu_s(pid, reaped=True)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with suppress(FileNotFoundError):  # ended meanwhile: counted as reaped next time
            total += cpu_s(int(child))
    return total


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of `pid` now, and its peak (MB)."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def machine_jiffies() -> tuple[int, int]:
    """(busy, all) CPU time of the whole machine since boot, in ticks."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def pids_running(argument: str) -> list[int]:
    """The processes whose command line holds `argument`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if argument.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def night_pcm(work: Path, minutes: float) -> bytes:
    """A night of the bundled clips (make_night.py), as listen's standard input takes it."""
    out = work / "night.flac"
    subprocess.run(
        [sys.executable, ROOT / "scripts" / "make_night.py", "--examples", "--seed", "1",
         "--hours", str(minutes / 60 + 0.05), "--out", out],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    samples = read_audio(out, sample_rate_hz=RATE_HZ).samples
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class Listener:
    """One room's `listen` process and what its feeder saw of it."""

    room: str
    process: subprocess.Popen[bytes]
    log: Path
    offset_bytes: int
    max_lag_s: float = 0.0
    n_late: int = 0  # chunks fed while more than MAX_LAG_S waited
    cpu_start_s: float = 0.0
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0

    @property
    def started(self) -> bool:
        """Whether it listens (exits naming its last line if it ended instead)."""
        log = self.log.read_text(errors="replace")
        if self.process.poll() is not None:
            last = log.strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"daycare: the listener of {self.room} ended: {last[0]}")
        return STARTED in log

    def feed(self, pcm: bytes, tick: int) -> None:
        """Write the chunk of real-time tick `tick` (`pcm` wraps round), then note how much
        waits in the pipe; a listener that ended is told by its exit code."""
        assert self.process.stdin is not None
        n = 2 * round(CHUNK_S * RATE_HZ)
        first = (self.offset_bytes + tick * n) % (len(pcm) - n)  # even: whole samples
        try:
            self.process.stdin.write(pcm[first : first + n])
            self.process.stdin.flush()
        except BrokenPipeError:
            return
        lag_s = waiting_s(self)
        self.max_lag_s = max(self.max_lag_s, lag_s)
        self.n_late += lag_s > MAX_LAG_S


def start_listener(room: str, db: str, config: Path, work: Path, offset_bytes: int) -> Listener:
    log = work / f"{room}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*cli_command(), "listen", "--input", "-", "--room", room, "--db", db,
             "--no-clips", "--config", str(config)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr, env=cli_env(),
        )  # fmt: skip
    assert process.stdin is not None
    fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return Listener(room, process, log, offset_bytes)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float) -> None:
    """Poll `condition()` until it holds, or exit naming what did not happen."""
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline_s:
            raise SystemExit(f"daycare: {what} within {timeout_s:.0f} s")
        time.sleep(0.2)


@dataclass
class OverviewPoller:
    """GETs /api/overview of `base` once a second from a thread of its own, timing each."""

    base: str
    times_ms: list[float] = field(default_factory=list)
    n_errors: int = 0
    n_requests: int = 0
    n_rooms_seen: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30.0) as client:
            while not self._stop.wait(POLL_S):
                started_s = time.perf_counter()
                self.n_requests += 1
                try:
                    answer = client.get("/api/overview")
                except httpx.HTTPError:
                    self.n_errors += 1
                    continue
                self.times_ms.append(1e3 * (time.perf_counter() - started_s))
                if answer.status_code != 200:
                    self.n_errors += 1
                else:
                    self.n_rooms_seen = len(answer.json())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Serving:
    """A running `miserymeter serve` and its URL."""

    process: subprocess.Popen[bytes]
    base: str


@contextmanager
def serving(db: str, work: Path) -> Iterator[Serving]:
    """`miserymeter serve` on `db`, answering on a free port of loopback."""
    base = f"http://127.0.0.1:{free_port()}"
    with (work / "serve.log").open("wb") as stderr:
        process = subprocess.Popen(
            [*cli_command(), "serve", "--db", db, "--port", base.rsplit(":", 1)[1]],
            stdout=subprocess.DEVNULL, stderr=stderr, env=cli_env(),
        )  # fmt: skip

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/api/overview", timeout=10.0).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, f"serve did not answer on {base}", 60.0)
        yield Serving(process, base)
    finally:
        process.terminate()
        process.wait(30)


@dataclass(frozen=True)
class Delivery:
    """MQTT events the store's records make, and what the watcher got of them."""

    expected: int
    delivered: int
    duplicated: int
    lost: int
    left_in_outbox: int


def delivery(store: Store, watcher: Watcher, rooms: list[str], *, timeout_s: float) -> Delivery:
    """Compare, room by room, the events on `miserymeter/+/event` with the store's: every
    crying_stopped and listener event by id, crying_started by count (one per episode)."""
    expected: dict[str, set[str]] = {}
    n_started: dict[str, int] = {}
    for room in rooms:
        episodes = store.episodes(room=room)
        expected[room] = {e.id for e in events_from([*episodes, *store.events(room=room)])}
        n_started[room] = len(episodes)

    def got() -> list[dict[str, object]]:
        return [json.loads(p) for p in watcher.payloads_under("miserymeter/")]

    def arrived() -> bool:
        ids = {e["id"] for e in got()}
        return all(expected[room] <= ids for room in rooms)

    with suppress(AssertionError):  # what never came is counted as lost below
        watcher.wait_for(arrived, "every expected event", timeout_s=timeout_s)
    events = got()
    ids = Counter(str(e["id"]) for e in events)
    started = Counter(str(e["room"]) for e in {str(e["id"]): e for e in events}.values()
                      if e["kind"] == CRYING_STARTED)  # fmt: skip
    lost = sum(len(expected[r] - ids.keys()) + max(0, n_started[r] - started[r]) for r in rooms)
    left = sum(store.outbox_counts("mqtt", room=room).n_pending for room in rooms)
    n_expected = sum(len(expected[r]) + n_started[r] for r in rooms)
    return Delivery(n_expected, len(ids), sum(n - 1 for n in ids.values()), lost, left)


@dataclass(frozen=True)
class Stored:
    """Seconds fed against those stored, and the windows the listeners said they dropped."""

    fed_s: int
    seconds: int
    minute_seconds: int
    dropped: int


def stored(store: Store, rooms: list[str], *, fed_s: int) -> Stored:
    seconds = sum(len(store.seconds(r, SINCE, UNTIL)) for r in rooms)
    minute_seconds = sum(m.n_seconds for r in rooms for m in store.minutes(r, SINCE, UNTIL))
    dropped = sum(s.n_dropped for r in rooms for s in store.statuses(r))
    return Stored(fed_s * len(rooms), seconds, minute_seconds, dropped)


@dataclass(frozen=True)
class Usage:
    """CPU from the start of feeding until every listener had read all it was fed: PostgreSQL's
    and mosquitto's per second of audio (% of one core in real time, however busy the machine
    was), `serve`'s per overview answered, this bench's (feeder, watcher, poller) and the whole
    machine's over the wall-clock time (the machine's in % of all its cores, other programs
    included)."""

    postgres: float
    mosquitto: float
    serve_ms: float
    bench: float
    machine: float


class CpuProbe:
    """CPU times of the listeners and the other processes from `start()` to `stop()`."""

    def __init__(self, listeners: list[Listener], *, postgres: int, mosquitto: int, serve: int):
        self.listeners = listeners
        self.pids = {"postgres": postgres, "mosquitto": mosquitto, "serve": serve}

    def _times(self) -> dict[str, float]:
        times = {name: cpu_s(pid) for name, pid in self.pids.items() if name != "postgres"}
        times["postgres"] = tree_cpu_s(self.pids["postgres"])
        times["bench"] = time.process_time()
        return times

    def start(self) -> None:
        for listener in self.listeners:
            listener.cpu_start_s = cpu_s(listener.process.pid)
        self._since, self._jiffies = (time.monotonic(), self._times()), machine_jiffies()

    def stop(self, *, audio_s: float, n_overviews: int) -> Usage:
        """Each listener's CPU per second of its `audio_s` and its memory; the others'."""
        wall_s = time.monotonic() - self._since[0]
        for listener in self.listeners:
            pid = listener.process.pid
            listener.cpu_percent = 100 * (cpu_s(pid) - listener.cpu_start_s) / audio_s
            listener.rss_mb, listener.peak_rss_mb = rss_mb(pid)
        now, before = self._times(), self._since[1]
        used_s = {name: now[name] - before[name] for name in now}
        busy, total = (b - a for a, b in zip(self._jiffies, machine_jiffies(), strict=True))
        return Usage(
            postgres=100 * used_s["postgres"] / audio_s,
            mosquitto=100 * used_s["mosquitto"] / audio_s,
            serve_ms=1e3 * used_s["serve"] / max(1, n_overviews),
            bench=100 * used_s["bench"] / wall_s,
            machine=100 * busy / total,
        )


def caught_up(listener: Listener) -> bool:
    """Whether the listener read all it was fed (or ended)."""
    return listener.process.poll() is not None or waiting_s(listener) == 0


def overview_times(web: Serving, *, n: int = QUIET_REQUESTS) -> tuple[list[float], float]:
    """`n` answers of /api/overview, one after the other (ms), and serve's CPU per answer
    (ms)."""
    times_ms = []
    cpu_start_s = cpu_s(web.process.pid)
    with httpx.Client(base_url=web.base, timeout=30.0) as client:
        for _ in range(n):
            started_s = time.perf_counter()
            client.get("/api/overview").raise_for_status()
            times_ms.append(1e3 * (time.perf_counter() - started_s))
    return times_ms, 1e3 * (cpu_s(web.process.pid) - cpu_start_s) / n


def waiting_s(listener: Listener) -> float:
    """Seconds of audio waiting in the listener's pipe."""
    assert listener.process.stdin is not None
    waiting = array.array("i", [0])
    fcntl.ioctl(listener.process.stdin.fileno(), termios.FIONREAD, waiting)
    return waiting[0] / BYTES_PER_S


def feed(listeners: list[Listener], pcm: bytes, *, seconds: float) -> float:
    """Feed every listener `seconds` of audio at real-time pace, a chunk at a time, each room's
    seconds starting at its own tenth of a second (microphones in different rooms are not in
    step); returns how late the feeder itself fell at worst (s)."""
    started_s, late_s = time.monotonic(), 0.0
    n_ticks = round(seconds / CHUNK_S)
    for tick in range(n_ticks + PHASES - 1):
        wait_s = started_s + tick * CHUNK_S - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)
        late_s = max(late_s, -wait_s)
        for k, listener in enumerate(listeners):
            own_tick = tick - k % PHASES
            if 0 <= own_tick < n_ticks:
                listener.feed(pcm, own_tick)
    return late_s


def finish(listeners: list[Listener]) -> int:
    """Close the listeners' input (they store, deliver and exit); how many failed to end well."""
    for listener in listeners:
        assert listener.process.stdin is not None
        with suppress(BrokenPipeError):
            listener.process.stdin.close()
    deadline_s = time.monotonic() + DRAIN_TIMEOUT_S
    n_failed = 0
    for listener in listeners:
        try:
            code = listener.process.wait(max(0.0, deadline_s - time.monotonic()))
        except subprocess.TimeoutExpired:
            listener.process.kill()
            code = -1
        n_failed += code != 0
    return n_failed


def kill_all(listeners: list[Listener]) -> None:
    for listener in listeners:
        if listener.process.poll() is None:
            listener.process.kill()
            listener.process.wait()


@dataclass(frozen=True)
class Outcome:
    """Everything one drill measured."""

    listeners: list[Listener]
    n_failed: int
    feeder_late_s: float
    stored: Stored
    delivery: Delivery
    overview: OverviewPoller
    quiet_ms: list[float]
    quiet_cpu_ms: float
    usage: Usage
    n_connections: int


def failures(o: Outcome) -> list[str]:
    """What went wrong, one line each (nothing: the daycare held)."""
    late_s = CHUNK_S * sum(listener.n_late for listener in o.listeners)
    p95_ms = percentile(o.overview.times_ms, 95)
    n_rooms = len(o.listeners)
    checks = {
        f"the feeder itself ran {o.feeder_late_s:.1f} s late: the machine was too busy for "
        "this bench's figures to be the daycare's": o.feeder_late_s > MAX_FEEDER_LATE_S,
        f"{o.n_failed} listener(s) did not end cleanly": o.n_failed,
        f"listeners fell over {MAX_LAG_S:g} s behind for {late_s:.0f} s": late_s,
        f"{o.stored.dropped} window(s) dropped": o.stored.dropped,
        f"{o.stored.fed_s - o.stored.seconds} second(s) not stored": o.stored.fed_s
        != o.stored.seconds,
        f"minutes hold {o.stored.minute_seconds} of {o.stored.fed_s} s": o.stored.fed_s
        != o.stored.minute_seconds,
        f"{o.delivery.lost} event(s) lost": o.delivery.lost,
        f"{o.delivery.duplicated} event(s) duplicated": o.delivery.duplicated,
        f"{o.delivery.left_in_outbox} event(s) left in the outbox": o.delivery.left_in_outbox,
        f"/api/overview p95 {p95_ms:.0f} ms (target {TARGET_P95_MS:g})": p95_ms >= TARGET_P95_MS,
        f"/api/overview failed {o.overview.n_errors} time(s)": o.overview.n_errors,
        f"/api/overview showed {o.overview.n_rooms_seen} of {n_rooms} rooms": (
            o.overview.n_rooms_seen != n_rooms
        ),
    }
    return [what for what, failed in checks.items() if failed]


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[p - 1]


def figures(o: Outcome, *, minutes: float) -> list[tuple[str, str]]:
    """The table's rows: (figure, value)."""
    lis, s, d, ms = o.listeners, o.stored, o.delivery, o.overview.times_ms
    cpu = [listener.cpu_percent for listener in lis]
    rss = [listener.rss_mb for listener in lis]
    lag = [listener.max_lag_s for listener in lis]
    return [
        ("rooms (listen processes)", f"{len(lis)}, {len(lis) - o.n_failed} ended cleanly"),
        ("audio fed to each, in real time", f"{minutes:g} min (feeder late at most "
         f"{o.feeder_late_s:.2f} s)"),
        ("behind real time, worst listener (s)", f"{max(lag):.2f} (median "
         f"{statistics.median(lag):.2f}; windows drop past {MAX_LAG_S:g})"),
        ("windows dropped", str(s.dropped + round(CHUNK_S * sum(x.n_late for x in lis)))),
        ("seconds stored / fed", f"{s.seconds} / {s.fed_s} (in minutes: {s.minute_seconds})"),
        ("MQTT events expected / delivered", f"{d.expected} / {d.delivered}"),
        ("events lost / duplicated / left in the outbox",
         f"{d.lost} / {d.duplicated} / {d.left_in_outbox}"),
        ("/api/overview p50 / p95 / max (ms)", f"{percentile(ms, 50):.0f} / "
         f"{percentile(ms, 95):.0f} / {max(ms, default=0):.0f} ({len(ms)} answers, "
         f"{o.overview.n_errors} failed)"),
        ("/api/overview p50 / p95, listeners ended (ms)", f"{percentile(o.quiet_ms, 50):.0f} / "
         f"{percentile(o.quiet_ms, 95):.0f} ({len(o.quiet_ms)} answers)"),
        ("listener CPU, mean / max (% of one core in real time)",
         f"{statistics.mean(cpu):.1f} / {max(cpu):.1f}"),
        ("listener RSS, mean / max (MB)", f"{statistics.mean(rss):.0f} / {max(rss):.0f} "
         f"(peak {max(x.peak_rss_mb for x in lis):.0f})"),
        ("PostgreSQL CPU (% of one core in real time)",
         f"{o.usage.postgres:.1f} ({o.n_connections} connections)"),
        ("mosquitto CPU (% of one core in real time)", f"{o.usage.mosquitto:.1f}"),
        ("serve CPU per overview, listeners running / ended (ms)",
         f"{o.usage.serve_ms:.0f} / {o.quiet_cpu_ms:.0f}"),
        ("this bench: feeder, watcher, poller (% of one core)", f"{o.usage.bench:.1f}"),
        (f"machine busy, other programs included (% of {os.cpu_count()} cores)",
         f"{o.usage.machine:.0f}"),
    ]  # fmt: skip


def on_paper(o: Outcome) -> str:
    """How many rooms this machine carries at 75 % of its cores and of its memory, and up to
    how many the overview's CPU stays under its target (it grows with the rooms)."""
    n_rooms = len(o.listeners)
    overview_ms = max(0.01, o.usage.serve_ms / n_rooms)  # a tablet asking once a second
    servers = o.usage.postgres + o.usage.mosquitto + overview_ms / 10
    per_room = statistics.mean(x.cpu_percent for x in o.listeners) + servers / n_rooms
    n_cores = os.cpu_count() or 1
    by_cpu = int(0.75 * 100 * n_cores / per_room)
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0]
    memory_mb = int(meminfo.split()[1]) / 1024
    rss = statistics.mean(x.rss_mb for x in o.listeners)
    by_memory = int(0.75 * memory_mb / rss)
    return (
        f"On paper this machine ({n_cores} cores, {memory_mb / 1024:.0f} GB) carries "
        f"{min(by_cpu, by_memory)} rooms: {by_cpu} by CPU (75 % of the cores at {per_room:.1f} % "
        f"of one core a room, its share of the servers and of an overview a second included), "
        f"{by_memory} by memory (75 % of it at {rss:.0f} MB a listener); PostgreSQL then needs "
        f"about {o.n_connections / n_rooms:.1f} connections a room. The overview takes "
        f"{overview_ms:.1f} ms of CPU a room: under {TARGET_P95_MS:g} ms up to "
        f"{int(TARGET_P95_MS / overview_ms)} rooms."
    )


def drill(rooms: int, minutes: float, work: Path) -> Outcome:
    """Run the daycare; see the module docstring."""
    pcm = night_pcm(work, minutes)
    names = [f"room-{k:02d}" for k in range(rooms)]
    with ExitStack() as stack:
        server = PostgresServer(max_connections=10 * rooms + 20)
        stack.callback(server.stop)
        broker = MosquittoBroker()
        stack.callback(broker.close)
        db = server.new_database()
        config = work / "listen.toml"
        config.write_text(f'[mqtt]\nurl = "{broker.url}"\n')
        watcher = Watcher(broker, "miserymeter/+/event")
        stack.callback(watcher.close)
        step = len(pcm) // rooms // 2 * 2
        listeners = [start_listener(n, db, config, work, k * step) for k, n in enumerate(names)]
        stack.callback(kill_all, listeners)
        wait_until(lambda: all(x.started for x in listeners), "not every listener started",
                   60.0 + 3.0 * rooms)  # fmt: skip
        web = stack.enter_context(serving(db, work))
        poller = OverviewPoller(web.base)
        (mosquitto,) = pids_running(str(broker.config))
        probe = CpuProbe(listeners, postgres=server.pid, mosquitto=mosquitto, serve=web.process.pid)
        probe.start()
        late_s = feed(listeners, pcm, seconds=60 * minutes)
        n_connections = int(server.psql(CONNECTIONS_SQL))
        poller.stop()
        wait_until(lambda: all(caught_up(x) for x in listeners), "the listeners did not catch up",
                   DRAIN_TIMEOUT_S)  # fmt: skip
        usage = probe.stop(audio_s=60 * minutes, n_overviews=poller.n_requests)
        n_failed = finish(listeners)
        quiet_ms, quiet_cpu_ms = overview_times(web)
        with open_store(db) as store:
            delivered = delivery(store, watcher, names, timeout_s=30.0)
            kept = stored(store, names, fed_s=round(60 * minutes))
    return Outcome(
        listeners, n_failed, late_s, kept, delivered, poller, quiet_ms, quiet_cpu_ms, usage,
        n_connections,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=50, help="Listeners, one room each.")
    parser.add_argument("--minutes", type=float, default=10.0, help="Audio fed to each.")
    args = parser.parse_args()
    missing = postgres_available() or mosquitto_available()
    if missing is not None:
        raise SystemExit(f"daycare: needs {missing} (scripts/install_system_deps.sh test)")
    console = Console(width=140)
    started_s = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="miserymeter-daycare-") as tmp:
        outcome = drill(args.rooms, args.minutes, Path(tmp))
    table = Table("figure", "value", title=f"A daycare on one server: {args.rooms} rooms, "
                  f"{args.minutes:g} min ({time.monotonic() - started_s:.0f} s in all)",
                  title_justify="left")  # fmt: skip
    for row in figures(outcome, minutes=args.minutes):
        table.add_row(*row)
    console.print(table)
    console.print(on_paper(outcome))
    failed = failures(outcome)
    for line in failed:
        console.print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
