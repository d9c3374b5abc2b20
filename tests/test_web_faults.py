"""The dashboard in headless Chromium, on a phone (390 px), when things go wrong while a page is
open: the dashboard restarts (its sessions lost), its database goes down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from conftest import SIZES, page_of_size, require_system
from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.passwords import hash_password
from postgres_server import PostgresServer, postgres_available
from store_records import seconds_heard
from web_helpers import ZONE, running_server, settings_for, shot

pytestmark = pytest.mark.browser

PASSWORD = "lullaby and good night"


@pytest.fixture
def phone(browser: object) -> Iterator[Any]:
    with page_of_size(browser, *SIZES["phone"]) as opened:
        yield opened


class Restartable:
    """An ASGI app that hands every request to `app`: set another, and the dashboard has
    restarted on the same port (its lifespan stays the first app's)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def log_in(page: Any) -> None:
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")


def test_a_page_open_when_the_dashboard_restarts_asks_to_log_in_and_comes_back(
    phone: Any, tmp_path: Path
) -> None:
    """The sessions die with the dashboard: the room's page and the all-rooms page, left
    open, go to the log-in page, which comes back to them (the night picked too)."""
    db = tmp_path / "daycare.db"
    with open_store(db) as store:
        for room in ("bees", "ladybirds"):
            store.write(seconds_heard(room, [0.05] * 30, last_at=datetime.now(UTC)))
    settings = settings_for(db, tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD))
    dashboard = Restartable(create_app(settings))
    p = phone
    with open_store(db) as restarted_store, running_server(dashboard) as base:  # type: ignore[arg-type]
        room_page = f"{base}/rooms/bees?night=2026-11-24"
        p.goto(room_page)
        log_in(p)
        p.wait_for_url(room_page)
        p.wait_for_selector("#night-story:not([hidden])")
        dashboard.app = create_app(settings, store=restarted_store)
        p.wait_for_url(f"{base}/login?next=%2Frooms%2Fbees%3Fnight%3D2026-11-24")
        shot(p, "restarted-login-phone.png")
        log_in(p)
        p.wait_for_url(room_page)

        p.goto(f"{base}/")
        p.wait_for_selector(".room-card >> nth=1")
        dashboard.app = create_app(settings, store=restarted_store)
        p.wait_for_url(f"{base}/login?next=%2F")
        assert not p.is_visible("#overview-error")
        log_in(p)
        p.wait_for_url(f"{base}/")
        p.wait_for_selector(".room-card >> nth=1")


OUT_OF_DATE = re.compile(
    r"The dashboard cannot read its database: cannot read database postgresql://\S+ "
    r"\(.+\): cannot reach the server; .*; showing what it knew at \d\d:\d\d:\d\d"
)


def test_while_the_database_is_down_pages_say_so_and_open_ones_grey_what_they_knew(
    phone: Any, tmp_path: Path
) -> None:
    """PostgreSQL stops: the all-rooms page and a room's page keep what they showed, greyed,
    the stop-watch stopped, under the reason; a page loaded meanwhile is that reason, in HTML,
    asking again by itself (the API keeps answering JSON); all is live again once it is back."""
    require_system(postgres_available())
    server = PostgresServer()
    try:
        url = server.new_database()
        with open_store(url) as store:
            store.write(seconds_heard("bees", [0.05] * 30 + [0.9] * 30, last_at=datetime.now(UTC)))
            store.write(seconds_heard("ladybirds", [0.05] * 60, last_at=datetime.now(UTC)))
        overview = phone
        with running_server(create_app(settings_for(url, tmp_path))) as base:
            overview.goto(f"{base}/")
            overview.wait_for_selector(".room-card[data-state='crying']")
            room = overview.context.new_page()
            room.goto(f"{base}/rooms/bees")
            room.wait_for_selector("#now[data-state='crying']")

            server.shut_down()
            overview.wait_for_selector("#rooms[data-stale]")
            said = overview.text_content("#overview-error")
            assert OUT_OF_DATE.fullmatch(said), said
            there = datetime.now(ZONE)
            at = datetime.combine(there.date(), time.fromisoformat(said[-8:]), ZONE)
            assert (there - at).total_seconds() % 86_400 < 60, said  # in the rooms' zone
            assert overview.locator(".room-card").count() == 2
            shot(overview, "overview-database-down-phone.png")
            room.wait_for_selector("#now[data-stale]")
            assert OUT_OF_DATE.fullmatch(room.text_content("#now-stale"))
            # whether the listener hears is not known, not "offline"
            health = "#health[data-status='unknown']"  # asked every 15 s
            room.wait_for_selector(health, state="attached", timeout=60_000)
            assert room.text_content("#health") == "unknown"
            assert "cannot read its database" in room.get_attribute("#health", "title")
            stopped = room.text_content("#now-state")
            for _ in range(2):  # a second or more later, the stop-watch has not moved
                with room.expect_response(lambda r: r.url.endswith("/now")):
                    pass
            assert room.text_content("#now-state") == stopped
            assert room.evaluate("document.documentElement.scrollWidth") <= 390
            shot(room, "room-database-down-phone.png")

            fresh = overview.context.new_page()
            answer = fresh.goto(f"{base}/rooms/bees")
            assert answer.status == 503 and answer.headers["retry-after"] == "15"
            assert fresh.text_content("h1") == "The dashboard cannot read its database"
            assert "cannot reach the server" in fresh.text_content(".error-message")
            refresh = "meta[http-equiv=refresh]"
            assert fresh.get_attribute(refresh, "content") == "15"
            assert fresh.evaluate("document.documentElement.scrollWidth") <= 390
            shot(fresh, "database-down-phone.png")
            api = fresh.evaluate(
                "fetch('/api/overview').then(async (r) => [r.status, (await r.json()).error])"
            )
            assert api[0] == 503 and "cannot reach the server" in api[1]

            server.start()
            overview.wait_for_selector("#rooms:not([data-stale]) .room-card")
            assert not overview.is_visible("#overview-error")
            room.wait_for_selector("#now:not([data-stale])")
            assert not room.is_visible("#now-stale")
    finally:
        server.stop()
