"""How soon each dashboard page paints, in Chromium, on a desktop and a phone:
`make bench-first-paint`.

Serves `make demo`'s night (build/demo/demo.db and its clips) with a real `miserymeter serve`
on a free loopback port (or benches a server already running, `--url`), then opens every page
in a fresh browser context (an empty cache: the first visit) `--repeats` times per profile,
and once more in the same context (the next visit, from the cache):
- desktop: 1366x900, no throttling;
- phone: 390x844, the CPU 4x slower (CDP Emulation.setCPUThrottlingRate) and the network at
  20 Mbit/s down, 10 Mbit/s up, 20 ms round trip (CDP Network.emulateNetworkConditions).
Prints the median per page and profile: first paint, first contentful paint, when a room page
shows the state now ("Not listening since 03:12"), DOMContentLoaded and load (ms after the
navigation started), bytes transferred (as the wire carried them, headers included) and
requests, and the next visit's first contentful paint.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_server import free_port

CHROMIUM = "/usr/bin/chromium"
DEMO = Path("build/demo")
ROOM = "demo"
START_TIMEOUT_S = 30.0
PHONE_CPU_SLOWDOWN = 4
PHONE_DOWN_BITS_S = 20e6
PHONE_UP_BITS_S = 10e6
PHONE_RTT_MS = 20
TABLE_WIDTH = 150  # characters, when printed to a file

NOW_SHOWN_JS = """new MutationObserver((_changes, observer) => {
  const now = document.getElementById("now");
  if (now && !now.hidden) { window.nowShownMs = performance.now(); observer.disconnect(); }
}).observe(document, { subtree: true, childList: true, attributes: true });"""
NOW_WAIT_JS = "!document.body.dataset.room || window.nowShownMs !== undefined"
PAINTED_JS = "performance.getEntriesByName('first-contentful-paint').length > 0"
TIMINGS_JS = """() => {
  const paint = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  const nav = performance.getEntriesByType("navigation")[0];
  const entries = [nav, ...performance.getEntriesByType("resource")];
  return {
    fp: paint("first-paint"),
    fcp: paint("first-contentful-paint"),
    now: window.nowShownMs ?? null,
    dcl: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    bytes: entries.reduce((n, e) => n + e.transferSize, 0),
    requests: entries.length,
  };
}"""


@dataclass(frozen=True)
class Profile:
    """A browser's screen, and how much slower than this machine its CPU and network are."""

    name: str
    width: int
    height: int
    cpu_slowdown: float = 1.0
    network: dict[str, Any] | None = None


DESKTOP = Profile("desktop", 1366, 900)
PHONE = Profile(
    "phone",
    390,
    844,
    cpu_slowdown=PHONE_CPU_SLOWDOWN,
    network={
        "offline": False,
        "latency": PHONE_RTT_MS,
        "downloadThroughput": PHONE_DOWN_BITS_S / 8,
        "uploadThroughput": PHONE_UP_BITS_S / 8,
    },
)


@dataclass(frozen=True)
class Visit:
    """One page load's figures (ms, bytes)."""

    fp_ms: float
    fcp_ms: float
    now_ms: float | None
    dcl_ms: float
    load_ms: float
    n_bytes: int
    n_requests: int


@contextmanager
def demo_server(db: Path, clips: Path) -> Iterator[str]:
    """`miserymeter serve` over the demo night on a free port; yields its base URL."""
    port = free_port()
    command = Path(sys.executable).with_name("miserymeter")
    server = subprocess.Popen(
        [command, "serve", "--db", db, "--clips", clips, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(START_TIMEOUT_S)


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise SystemExit(f"miserymeter serve stopped (exit {server.returncode})")
        try:
            httpx.get(f"{base}/login", timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline_s:
                raise SystemExit(
                    f"miserymeter serve did not answer in {START_TIMEOUT_S} s"
                ) from None
            time.sleep(0.1)


def pages(base: str) -> list[tuple[str, str]]:
    """Every page a parent opens (a name, its path), the demo room's newest episode included."""
    now = datetime.now(UTC)
    since, until = (now - timedelta(days=30)).isoformat(), (now + timedelta(hours=1)).isoformat()
    answer = httpx.get(f"{base}/api/rooms/{ROOM}/episodes", params={"since": since, "until": until})
    found = answer.json() if answer.is_success else []
    room = f"/rooms/{ROOM}"
    listed = [
        ("home (/; one room: its timeline)", "/"),
        ("timeline", room),
        ("nights", f"{room}/nights"),
        ("calibrate", f"{room}/calibrate"),
        ("microphone", f"{room}/level"),
        ("login", "/login"),
    ]
    return listed + [("episode", e["url"]) for e in found[:1]]


def visit(context: Any, url: str, profile: Profile) -> Visit:
    """Open `url` in a new tab of `context`, throttled as `profile` says; its figures."""
    page = context.new_page()
    page.add_init_script(NOW_SHOWN_JS)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})
    if profile.network is not None:
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", profile.network)
    page.goto(url, wait_until="load")
    page.wait_for_function(PAINTED_JS)
    page.wait_for_function(NOW_WAIT_JS)
    page.wait_for_load_state("networkidle")
    t = page.evaluate(TIMINGS_JS)
    page.close()
    return Visit(t["fp"], t["fcp"], t["now"], t["dcl"], t["load"], t["bytes"], t["requests"])


def bench_page(browser: Any, url: str, profile: Profile, repeats: int) -> list[Visit]:
    """`repeats` first visits, each in a fresh context, and one next visit (the last)."""
    visits = []
    for k in range(repeats):
        context = browser.new_context(
            viewport={"width": profile.width, "height": profile.height},
            is_mobile=profile is PHONE,
            has_touch=profile is PHONE,
        )
        visits.append(visit(context, url, profile))
        if k == repeats - 1:
            visits.append(visit(context, url, profile))
        context.close()
    return visits


def row(name: str, profile: Profile, visits: list[Visit]) -> list[str]:
    first = visits[:-1]

    def median(field: str) -> float:
        return statistics.median(getattr(v, field) for v in first)

    shown = "-" if first[0].now_ms is None else f"{median('now_ms'):.0f}"

    return [
        name,
        profile.name,
        f"{median('fp_ms'):.0f}",
        f"{median('fcp_ms'):.0f}",
        shown,
        f"{median('dcl_ms'):.0f}",
        f"{median('load_ms'):.0f}",
        f"{median('n_bytes') / 1000:,.0f}",
        f"{median('n_requests'):.0f}",
        f"{visits[-1].fcp_ms:.0f}",
    ]


def bench(base: str, repeats: int, console: Console) -> None:
    from playwright.sync_api import sync_playwright

    table = Table(title=f"First paint, median of {repeats} first visits (ms after navigation)")
    for heading in ("page", "profile", "first paint", "first contentful paint",
                    "state now shown", "DOMContentLoaded", "load", "kB transferred", "requests",
                    "next visit: first contentful"):  # fmt: skip
        table.add_column(heading, justify="left" if heading in ("page", "profile") else "right")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, path in pages(base):
            for profile in (DESKTOP, PHONE):
                table.add_row(
                    *row(name, profile, bench_page(browser, base + path, profile, repeats))
                )
        browser.close()
    console.print(table)
    console.print(
        f"phone: {PHONE.width}x{PHONE.height}, CPU {PHONE_CPU_SLOWDOWN}x slower, "
        f"{PHONE_DOWN_BITS_S / 1e6:.0f} Mbit/s down, {PHONE_RTT_MS} ms round trip; "
        f"desktop: {DESKTOP.width}x{DESKTOP.height}, unthrottled; server on loopback"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="bench this running dashboard instead of starting one")
    parser.add_argument("--db", type=Path, default=DEMO / "demo.db")
    parser.add_argument("--clips", type=Path, default=DEMO / "clips")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=max(Console().width, TABLE_WIDTH))
    if args.url:
        bench(args.url.rstrip("/"), args.repeats, console)
        return
    if not args.db.is_file():
        raise SystemExit(f"no {args.db}: run `make demo` first")
    with demo_server(args.db, args.clips) as base:
        bench(base, args.repeats, console)


if __name__ == "__main__":
    main()
