"""Every page as a parent taps it, in headless Chromium at 1366x900 and 390x844: on a phone
every button, link, field and player is a 44x44 px touch target and nothing scrolls sideways,
not even inside a table (episodes and nights are cards there, their players full width);
the header shows no operator figures (the listener's CPU, clip counts: those wait, folded,
in the page's listener details); a chart's toolbar never covers its legend.
Screenshots go to build/test-artifacts/web/ (with the other browser tests')."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import DemoNight
from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.passwords import hash_password
from store_records import seconds_heard
from test_web_browser import PASSWORD, as_a_parent_reads, demo_episodes
from web_helpers import ZONE, lines_of, running_server, settings_for, shot

pytestmark = pytest.mark.browser

TOUCH_PX = 44
# What a finger taps: a checkbox is tapped through its label.
TAPPABLE = (
    "a, button, select, summary, audio, input:not([type=hidden]):not([type=checkbox]), "
    "label:has(> input[type=checkbox])"
)
TOO_SMALL_JS = """([selector, px]) => [...document.querySelectorAll(selector)]
  .filter((e) => e.checkVisibility())
  .map((e) => [e.id || e.textContent.trim().slice(0, 30) || e.outerHTML.slice(0, 60),
               e.getBoundingClientRect()])
  .filter(([, r]) => r.width < px || r.height < px)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
BOXES_JS = """([chart, parts]) => parts.map((part) => {
  const e = document.querySelector(`#${chart} ${part}`);
  if (!e || !e.checkVisibility()) return null;
  const r = e.getBoundingClientRect();
  return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null;
})"""
# The tables that scroll sideways inside the page (a phone shows episodes and nights as cards).
TABLES_SCROLLING_JS = """[...document.querySelectorAll("table")].filter((t) => t.checkVisibility())
  .filter((t) => t.scrollWidth > t.clientWidth)
  .map((t) => `#${t.id}: ${t.scrollWidth} px in ${t.clientWidth}`)"""
OPERATOR_FIGURES = ("CPU", "window(s) dropped", "reviewed clip(s)")


@pytest.fixture(scope="module")
def two_rooms(demo_night: DemoNight, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo night's store, and a second room heard now."""
    db = tmp_path_factory.mktemp("phone") / "demo.db"
    shutil.copy(demo_night.db, db)
    now = datetime.now(UTC)
    with open_store(db) as store:
        store.write(seconds_heard("bees", [0.05] * 60, last_at=now))
    return db


@pytest.fixture
def base(two_rooms: Path, demo_night: DemoNight, tmp_path: Path) -> Iterator[str]:
    settings = settings_for(two_rooms, tmp_path, clips_dir=demo_night.clips_dir)
    with running_server(create_app(settings)) as url:
        yield url


def is_phone(page: object) -> bool:
    return page.viewport_size["width"] < 600  # type: ignore[attr-defined]


def check_the_page(page: object, name: str) -> None:
    """No sideways scrolling; on a phone, nothing to tap smaller than a fingertip."""
    width = page.viewport_size["width"]  # type: ignore[attr-defined]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name  # type: ignore[attr-defined]
    assert page.evaluate(TABLES_SCROLLING_JS) == [], name  # type: ignore[attr-defined]
    if is_phone(page):
        too_small = page.evaluate(TOO_SMALL_JS, [TAPPABLE, TOUCH_PX])  # type: ignore[attr-defined]
        assert too_small == [], f"{name}: touch targets under {TOUCH_PX} px: {too_small}"
    shot(page, f"phone-check-{name}-{width}.png")


def check_the_legend_is_clear(page: object, chart: str) -> None:
    """The chart's toolbar (plotly's modebar), where it shows, does not cover its legend."""
    toolbar, legend = page.evaluate(BOXES_JS, [chart, [".modebar", ".legend"]])  # type: ignore[attr-defined]
    assert legend is not None, f"#{chart} has no legend"
    if toolbar is not None:
        apart = (
            toolbar[2] <= legend[0]
            or legend[2] <= toolbar[0]
            or toolbar[3] <= legend[1]
            or legend[3] <= toolbar[1]
        )
        assert apart, f"#{chart}: the toolbar {toolbar} covers the legend {legend}"


def test_every_page_is_tapped_with_a_finger(
    page: object, base: str, two_rooms: Path, demo_night: DemoNight, tmp_path: Path
) -> None:
    p = page
    p.goto(f"{base}/")  # type: ignore[attr-defined]
    p.wait_for_selector(".room-card >> nth=1")  # type: ignore[attr-defined]
    check_the_page(p, "overview")

    p.goto(f"{base}/rooms/demo")  # type: ignore[attr-defined]
    p.wait_for_selector("#timeline .main-svg .legend")  # type: ignore[attr-defined]
    p.wait_for_selector("#episodes tr.episode audio")  # type: ignore[attr-defined]
    p.wait_for_selector("#night-story:not([hidden])")  # type: ignore[attr-defined]
    check_the_legend_is_clear(p, "timeline")
    check_the_page(p, "timeline")
    starts = lines_of(p, "#episodes tr.episode td:first-child")
    assert starts and set(starts) == {1}, f"an episode's start wraps: {starts} lines"

    p.goto(f"{base}/rooms/demo/nights")  # type: ignore[attr-defined]
    p.wait_for_selector("#nights-chart .main-svg .legend")  # type: ignore[attr-defined]
    p.wait_for_selector("#nights tr.night")  # type: ignore[attr-defined]
    check_the_legend_is_clear(p, "nights-chart")
    check_the_page(p, "nights")

    first = demo_episodes(demo_night)[0]
    p.goto(f"{base}/rooms/demo")  # type: ignore[attr-defined]
    p.click("#episodes tr.episode a >> nth=1")  # type: ignore[attr-defined]
    p.wait_for_selector('#spectrogram[data-ready="true"]')  # type: ignore[attr-defined]
    p.wait_for_selector("#review-state:has-text('Not reviewed yet')")  # type: ignore[attr-defined]
    assert as_a_parent_reads(first.start) in p.text_content("#episode-title")  # type: ignore[attr-defined]
    assert first.start.astimezone(ZONE).strftime("%H:%M:%S") in p.text_content("#episode-facts")  # type: ignore[attr-defined]
    assert lines_of(p, "#episode-title .when") == [1], "the episode's date wraps"
    check_the_page(p, "episode")

    p.goto(f"{base}/rooms/demo/calibrate")  # type: ignore[attr-defined]
    p.wait_for_selector("#quiet-verdict[data-ok]", state="attached")  # type: ignore[attr-defined]
    p.wait_for_selector("#recommendation:not(:empty)")  # type: ignore[attr-defined]
    p.wait_for_selector('#histogram[data-ready="true"] .main-svg')  # type: ignore[attr-defined]
    check_the_page(p, "calibrate")

    p.goto(f"{base}/rooms/demo/level")  # type: ignore[attr-defined]
    p.wait_for_selector("#verdict:not(:empty)")  # type: ignore[attr-defined]
    check_the_page(p, "level")

    settings = settings_for(
        two_rooms, tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD)
    )
    with running_server(create_app(settings)) as guarded:
        p.goto(f"{guarded}/rooms/demo")  # type: ignore[attr-defined]
        p.wait_for_selector("#login-form")  # type: ignore[attr-defined]
        check_the_page(p, "login")


def test_the_header_keeps_the_listeners_figures_folded_away(page: object, base: str) -> None:
    """A parent reads the room's state, not the listener's CPU; a tinkerer unfolds it."""
    p = page
    p.goto(f"{base}/rooms/demo/level")  # type: ignore[attr-defined]
    p.wait_for_selector("#health[data-status]", state="attached")  # type: ignore[attr-defined]
    p.wait_for_selector("#health-facts:has-text('listener CPU')", state="attached")  # type: ignore[attr-defined]
    p.wait_for_selector("#waiting:has-text('reviewed clip(s)')", state="attached")  # type: ignore[attr-defined]
    header = p.inner_text("header")  # type: ignore[attr-defined]
    assert not [f for f in OPERATOR_FIGURES if f in header], header
    assert not p.is_visible("#health-facts")  # type: ignore[attr-defined]
    p.click("#listener-details summary")  # type: ignore[attr-defined]
    details = p.inner_text("#listener-details")  # type: ignore[attr-defined]
    assert all(f in details for f in OPERATOR_FIGURES), details
    # the demo night was replayed from a file, as fast as the CPU allows: not a busy Pi
    replay = "% of a core (replaying a recording as fast as it can; live listening uses a few %)"
    assert replay in details, details
    check_the_page(p, "listener-details")


def test_the_state_now_comes_with_the_page(page: object, base: str, two_rooms: Path) -> None:
    """Every room page says the state now without asking for it: on a slow phone the page's
    first answer from /now waited behind plotly's run (5-10 s on the simulated phone)."""
    p = page
    p.route("**/api/rooms/*/now", lambda route: route.abort())  # type: ignore[attr-defined]
    for path in ("", "/nights", "/calibrate", "/level"):
        p.goto(f"{base}/rooms/demo{path}")  # type: ignore[attr-defined]
        p.wait_for_selector('#now[data-state="not-listening"]')  # type: ignore[attr-defined]
        assert p.text_content("#now-state").startswith("Not listening since ")  # type: ignore[attr-defined]
    with open_store(two_rooms) as store:  # heard just now, whenever this test runs
        store.write(seconds_heard("bees", [0.05] * 5, last_at=datetime.now(UTC)))
    p.goto(f"{base}/rooms/bees")  # type: ignore[attr-defined]
    p.wait_for_selector('#now[data-state="quiet"]')  # type: ignore[attr-defined]
