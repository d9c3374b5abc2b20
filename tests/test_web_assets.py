"""The dashboard's first load, in process, over real SQLite stores: plotly only on the pages
that draw charts and deferred, everything gzipped, static files cached for a year under
versioned URLs (the HTML never), the web-app manifest, its icons and the favicon; an unknown
room as a page to go on from."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.assets import IMMUTABLE, REVALIDATE, plotly_path
from miserymeter.web.passwords import hash_password
from store_records import seconds_heard
from web_helpers import LOCAL, settings_for

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
CHART_PAGES = ("/rooms/nursery", "/rooms/nursery/nights", "/rooms/nursery/calibrate")
SCRIPT = re.compile(r"<script\b([^>]*)>")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PASSWORD = "lullaby and good night"


@pytest.fixture(scope="module")
def two_rooms_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("two-rooms") / "store.db"
    with open_store(db) as store:
        for room in ("nursery", "attic"):
            store.write(seconds_heard(room, [0.05] * 30, last_at=datetime.now(UTC)))
    return db


@pytest.fixture
def client(two_rooms_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(two_rooms_db, tmp_path)), base_url=LOCAL) as opened:
        yield opened


def scripts_of(page: str) -> list[str]:
    """The attributes of every <script> of `page` that runs, in order (not the JSON it reads)."""
    return [s for s in SCRIPT.findall(page) if "application/json" not in s]


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def test_plotly_is_loaded_deferred_by_the_pages_that_draw_charts_only(
    client: TestClient, tmp_path: Path
) -> None:
    for path in CHART_PAGES:
        scripts = scripts_of(client.get(path).text)
        assert all(" defer " in s for s in scripts), (path, scripts)
        assert re.search(r"/static/plotly\.min\.js\?v=\w+", scripts[1]), scripts  # after common
        assert len(scripts) == 3  # common.js, plotly, the page's own
    for path in ("/", "/login", "/rooms/nursery/level"):
        page = client.get(path, follow_redirects=False).text
        assert "plotly" not in page and all(" defer " in s for s in scripts_of(page)), path
    with TestClient(create_app(settings_for(tmp_path / "empty.db", tmp_path)), base_url=LOCAL) as c:
        empty = c.get("/").text
    assert "No rooms yet" in empty and "plotly" not in empty


def test_static_files_are_gzipped_when_the_browser_takes_gzip(client: TestClient) -> None:
    plotly = client.get("/static/plotly.min.js", headers=GZIP)
    assert plotly.headers["content-encoding"] == "gzip"
    assert int(plotly.headers["content-length"]) < 2_000_000  # of 4.8 MB
    assert plotly.content == plotly_path().read_bytes()  # httpx unzips it
    assert "Accept-Encoding" in plotly.headers["vary"]
    plain = client.get("/static/plotly.min.js", headers=IDENTITY)
    assert "content-encoding" not in plain.headers and plain.content == plotly.content
    for path in ("/static/common.js", "/static/dashboard.css", "/rooms/nursery", "/api/rooms"):
        answer = client.get(path, headers=GZIP)
        assert answer.status_code == 200
        if len(answer.content) >= 1000:
            assert answer.headers["content-encoding"] == "gzip", path
    assert "content-encoding" not in client.get("/static/icon-512.png", headers=GZIP).headers


def test_versioned_static_urls_are_cached_for_a_year_and_the_html_not(
    client: TestClient,
) -> None:
    page = client.get("/rooms/nursery")
    assert page.headers["cache-control"] == REVALIDATE
    urls = static_urls(page.text)
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in urls} >= {
        "dashboard.css", "common.js", "plotly.min.js", "timeline.js", "icon.svg", "icon-192.png"
    }  # fmt: skip
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        assert client.get(url).headers["cache-control"] == IMMUTABLE, url
    for stale in ("/static/common.js", "/static/common.js?v=0123456789ab"):
        assert client.get(stale).headers["cache-control"] == REVALIDATE
    plotly = client.get("/static/plotly.min.js")
    assert plotly.headers["cache-control"] == REVALIDATE
    again = client.get("/static/plotly.min.js", headers={"If-None-Match": plotly.headers["etag"]})
    assert again.status_code == 304


def png_size(png: bytes) -> tuple[int, int]:
    """The width and height a PNG's header (IHDR) gives."""
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_manifest_and_its_icons_let_a_phone_add_the_dashboard_to_its_home_screen(
    two_rooms_db: Path, tmp_path: Path
) -> None:
    """Browsers fetch the manifest and the favicon without the session: they stay reachable
    when a password guards the rest."""
    settings = settings_for(
        two_rooms_db, tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD)
    )
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        assert client.get("/rooms/nursery", follow_redirects=False).status_code == 303
        login = client.get("/login").text
        answer = client.get("/manifest.webmanifest")
        assert answer.headers["content-type"] == "application/manifest+json"
        manifest = answer.json()
        assert manifest["name"] == "Misery Meter" and len(manifest["short_name"]) <= 12
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
        css = client.get("/static/dashboard.css").text
        assert f"background: {manifest['background_color']};" in css
        assert f"background: {manifest['theme_color']};" in css  # the header's
        assert f'name="theme-color" content="{manifest["theme_color"]}"' in login
        assert '<link rel="manifest" href="/manifest.webmanifest">' in login
        sizes = {}
        for icon in manifest["icons"]:
            image = client.get(icon["src"])
            assert image.status_code == 200 and image.headers["content-type"] == icon["type"]
            if icon["type"] == "image/png":
                sizes[icon["sizes"]] = png_size(image.content)
            else:
                assert image.text.startswith("<svg") and icon["sizes"] == "any"
        assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}
        touch = re.search(r'rel="apple-touch-icon" href="([^"]+)"', login)
        assert touch is not None and png_size(client.get(touch.group(1)).content) == (192, 192)
        favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/x-icon"
    reserved, kind, n_images = struct.unpack("<HHH", favicon.content[:6])
    assert (reserved, kind) == (0, 1) and n_images >= 2
    first_offset = struct.unpack("<I", favicon.content[18:22])[0]
    assert favicon.content[first_offset:].startswith(PNG_SIGNATURE)


def test_an_unknown_room_or_page_is_a_page_to_go_on_from_and_json_under_api(
    client: TestClient,
) -> None:
    page = client.get("/rooms/kitchen/nights")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    text = re.sub(r"<[^>]+>", "", page.text)
    assert "No room called “kitchen”" in text and "Rooms: attic, nursery." in text
    assert '<a href="/rooms/attic">attic</a>' in page.text
    assert 'href="/static/dashboard.css?v=' in page.text  # in the layout
    sneaky = client.get("/rooms/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert sneaky.status_code == 404 and "<script>alert" not in sneaky.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sneaky.text
    api = client.get("/api/rooms/kitchen/nights")
    assert api.status_code == 404 and "the rooms are: attic, nursery" in api.json()["error"]
    nowhere = client.get("/rooms/nursery/diary")
    assert nowhere.status_code == 404 and "no page at /rooms/nursery/diary" in nowhere.text
    assert client.get("/api/diary").json() == {"error": "Not Found"}
    missing = client.get("/rooms/nursery/episodes/2020-01-01T00:00:00Z")
    assert missing.status_code == 404 and "no episode of &#x27;nursery&#x27;" in missing.text


def test_pages_without_a_room_hide_the_rooms_links(client: TestClient, tmp_path: Path) -> None:
    for path in ("/", "/login", "/rooms/kitchen"):
        page = client.get(path).text
        assert "<nav hidden>" in page and 'class="badge" title="" hidden>' in page, path
    assert "<nav>" in client.get("/rooms/nursery").text
