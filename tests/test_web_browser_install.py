"""The dashboard as a phone installs and first opens it, in headless Chromium at 1366x900 and
390x844: the manifest, its icons and the favicon load; the overview never asks for plotly, a
chart page gets it gzipped and draws once it arrives; an unknown room is a readable page.
Screenshots go to build/test-artifacts/web/ (with test_web_browser.py's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.passwords import hash_password
from store_records import seconds_heard
from test_web_browser import PASSWORD, WAIT_MS
from web_helpers import running_server, settings_for, shot

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
ICON_SIZES_JS = """async (sources) => Promise.all(sources.map(async (src) => {
  const image = new Image();
  image.src = src;
  await image.decode();
  return [image.naturalWidth, image.naturalHeight];
}))"""


@pytest.fixture(params=list(SIZES))
def screen(request: pytest.FixtureRequest, browser: object) -> Iterator[tuple[str, object]]:
    """A page at each size, and the size's name."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    yield request.param, opened
    context.close()


@pytest.fixture(scope="module")
def daycare_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("daycare") / "store.db"
    with open_store(db) as store:
        for room in ("ladybirds", "bees"):
            store.write(seconds_heard(room, [0.05] * 120, last_at=datetime.now(UTC)))
    return db


def test_the_overview_installs_to_a_home_screen_without_plotly(
    screen: tuple[str, object], daycare_db: Path, tmp_path: Path
) -> None:
    size, p = screen
    asked: list[str] = []
    p.on("request", lambda r: asked.append(r.url))  # type: ignore[attr-defined]
    with running_server(create_app(settings_for(daycare_db, tmp_path))) as base:
        p.goto(f"{base}/")  # type: ignore[attr-defined]
        p.wait_for_selector(".room-card >> nth=1")  # type: ignore[attr-defined]
        p.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        assert not [u for u in asked if "plotly" in u]
        manifest_url = p.eval_on_selector("link[rel=manifest]", "link => link.href")  # type: ignore[attr-defined]
        manifest = p.evaluate("(url) => fetch(url).then((r) => r.json())", manifest_url)  # type: ignore[attr-defined]
        assert manifest["name"] == "Misery Meter" and manifest["display"] == "standalone"
        theme = p.eval_on_selector("meta[name=theme-color]", "meta => meta.content")  # type: ignore[attr-defined]
        header = p.eval_on_selector("header", "h => getComputedStyle(h).backgroundColor")  # type: ignore[attr-defined]
        assert theme == manifest["theme_color"] == "#2c3e50" and header == "rgb(44, 62, 80)"
        sources = [i["src"] for i in manifest["icons"]] + ["/favicon.ico"]
        drawn = p.evaluate(ICON_SIZES_JS, sources)  # type: ignore[attr-defined]
        expected = [[int(n) for n in i["sizes"].split("x")] for i in manifest["icons"][:3]]
        assert drawn[:3] == expected and all(w > 0 for w, _h in drawn[3:]), drawn
        shot(p, f"overview-home-screen-{size}.png")


def test_a_chart_page_draws_once_the_deferred_gzipped_plotly_arrives(
    screen: tuple[str, object], daycare_db: Path, tmp_path: Path
) -> None:
    size, p = screen
    with open_store(daycare_db) as store:  # heard just now, however late this test runs
        store.write(seconds_heard("bees", [0.05] * 5, last_at=datetime.now(UTC)))
    with running_server(create_app(settings_for(daycare_db, tmp_path))) as base:
        with p.expect_response(lambda r: "/static/plotly.min.js" in r.url) as plotly:  # type: ignore[attr-defined]
            p.goto(f"{base}/rooms/bees")  # type: ignore[attr-defined]
        assert plotly.value.headers["content-encoding"] == "gzip"
        assert "immutable" in plotly.value.headers["cache-control"]
        p.wait_for_selector("#timeline .main-svg")  # type: ignore[attr-defined]
        p.wait_for_selector('#now[data-state="quiet"]')  # type: ignore[attr-defined]
        width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert width <= SIZES[size][0]
        shot(p, f"timeline-deferred-{size}.png")


def test_an_unknown_room_is_a_page_to_go_on_from(
    screen: tuple[str, object], daycare_db: Path, tmp_path: Path
) -> None:
    size, p = screen
    asked = "the-big-bedroom-upstairs-on-the-left-of-the-stairs"
    with running_server(create_app(settings_for(daycare_db, tmp_path))) as base:
        answer = p.goto(f"{base}/rooms/{asked}/nights")  # type: ignore[attr-defined]
        assert answer.status == 404
        assert p.text_content("h1") == f"No room called “{asked}”"  # type: ignore[attr-defined]
        assert p.text_content(".error-message") == "Rooms: bees, ladybirds."  # type: ignore[attr-defined]
        assert not p.is_visible("header nav") and not p.is_visible("#health")  # type: ignore[attr-defined]
        width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert width <= SIZES[size][0]  # no sideways scrolling, even for a long name
        links = "links => links.map((a) => a.offsetHeight)"
        heights = p.eval_on_selector_all(".room-links a", links)  # type: ignore[attr-defined]
        assert len(heights) == 3 and min(heights) >= 44  # a thumb's touch target
        shot(p, f"unknown-room-{size}.png")
        p.click("text=ladybirds")  # type: ignore[attr-defined]
        p.wait_for_url(f"{base}/rooms/ladybirds")  # type: ignore[attr-defined]
        p.wait_for_selector("header nav", state="visible")  # type: ignore[attr-defined]


def test_the_login_and_empty_pages_show_no_room_links(
    screen: tuple[str, object], tmp_path: Path
) -> None:
    size, p = screen
    settings = settings_for(
        tmp_path / "empty.db", tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD)
    )
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/")  # type: ignore[attr-defined]
        p.wait_for_url(f"{base}/login?next=/")  # type: ignore[attr-defined]
        assert not p.is_visible("header nav") and not p.is_visible("#health")  # type: ignore[attr-defined]
        assert not p.is_visible("#logout")  # type: ignore[attr-defined]  # not logged in yet
        shot(p, f"login-{size}.png")
        p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
        p.click("#login-form button")  # type: ignore[attr-defined]
        p.wait_for_selector("h1:has-text('No rooms yet')")  # type: ignore[attr-defined]
        assert not p.is_visible("header nav") and not p.is_visible("#health")  # type: ignore[attr-defined]
        assert p.is_visible("#logout button")  # type: ignore[attr-defined]
        shot(p, f"empty-{size}.png")
