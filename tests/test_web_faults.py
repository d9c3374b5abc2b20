"""The dashboard in headless Chromium, on a phone (390 px), when things go wrong while a page is
open: the dashboard restarts (its sessions lost), its database goes down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.passwords import hash_password
from store_records import seconds_heard
from web_helpers import running_server, settings_for, shot

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
PASSWORD = "lullaby and good night"


@pytest.fixture
def phone(browser: object) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    yield opened
    context.close()


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
