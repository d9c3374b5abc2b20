"""The screenshots of README.md and docs/: the dashboard on `make demo`'s night, in Debian's
headless Chromium, at a laptop's size (1366x900) and a phone's (390x844).

    make demo                                   # build/demo/demo.db and its clips
    .venv/bin/python scripts/screenshots.py     # -> docs/images/*.png

It starts `miserymeter serve` on the demo's database on a free loopback port, opens the pages,
saves what a person sees first (the viewport, not the whole page: the images stay small), and
stops the server. Nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "build" / "demo"
CHROMIUM = "/usr/bin/chromium"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 30.0
WAIT_MS = 15_000
SETTLE_MS = 1_500  # charts draw, the state-now banner fills in
# The demo night is 3 minutes of a 24-hour night: zoom the timeline onto them (a minute before
# the first sound, two after the last), as a parent zooms into a wake-up; the page then draws
# every second.
ZOOM_ONTO_THE_AUDIO = """() => {
  const xs = document.getElementById("timeline").data[0].x;
  const pad = (n) => String(n).padStart(2, "0");
  const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const from = new Date(new Date(xs[0]).getTime() - 60_000);
  const to = new Date(new Date(xs[xs.length - 1]).getTime() + 120_000);
  return Plotly.relayout("timeline", { "xaxis.range": [local(from), local(to)] });
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(db: Path, clips: Path, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = Path(sys.executable).parent / "miserymeter"
    process = subprocess.Popen(
        [
            str(command),
            "serve",
            "--db",
            str(db),
            "--clips",
            str(clips),
            "--data_dir",
            str(data_dir),
            "--port",
            str(port),
        ]
    )
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urlopen(f"http://127.0.0.1:{port}/", timeout=1.0):
                return process
        except (URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline_s:
                process.kill()
                raise SystemExit("miserymeter serve did not start") from None
            time.sleep(0.2)


def take(
    browser: object,
    url: str,
    path: Path,
    *,
    viewport: dict[str, int],
    phone: bool,
    zoom: bool = False,
) -> str:
    """Open `url` at `viewport` (`zoom`: the timeline onto the audio), save the screenshot to
    `path`; the page's final URL."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=1
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if zoom:
        page.wait_for_function("document.getElementById('timeline')?.data?.[0]?.x?.length > 0")
        page.evaluate(ZOOM_ONTO_THE_AUDIO)
        page.wait_for_selector('#resolution[data-resolution="seconds"]', state="attached")
    page.wait_for_timeout(SETTLE_MS)
    page.screenshot(path=str(path))
    final_url = str(page.url)
    context.close()
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB): {final_url}")
    return final_url


def first_episode_url(browser: object, room_url: str) -> str | None:
    context = browser.new_context(viewport=LAPTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(room_url)
    page.wait_for_load_state("networkidle")
    links = page.locator("a[href*='/episodes/']")
    href = links.first.get_attribute("href") if links.count() else None
    context.close()
    return None if href is None else room_url.split("/rooms/")[0] + href


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEMO / "demo.db")
    parser.add_argument("--clips", type=Path, default=DEMO / "clips")
    parser.add_argument("--data_dir", type=Path, default=DEMO / "dataset")
    parser.add_argument("--room", default="demo")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"no {args.db}: run `make demo` first")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_serve(args.db, args.clips, args.data_dir, port)
    room_url = f"http://127.0.0.1:{port}/rooms/{quote(args.room, safe='')}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            laptop = args.out / "room-laptop.png"
            take(browser, room_url, laptop, viewport=LAPTOP, phone=False, zoom=True)
            take(browser, room_url, args.out / "room-phone.png", viewport=PHONE, phone=True)
            episode = first_episode_url(browser, room_url)
            if episode is not None:
                take(browser, episode, args.out / "episode-phone.png", viewport=PHONE, phone=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
