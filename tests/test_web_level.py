"""The microphone's page in headless Chromium at 1366x900 and 390x844: a room heard now shows
its loudness; one the listener stopped hearing minutes ago shows an empty meter and when it was
last heard, never its last loudness as if it were now. Screenshots go to
build/test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from miserymeter.store import open_store
from miserymeter.web import create_app
from store_records import seconds_heard
from test_web_phone import check_the_page
from web_helpers import running_server, settings_for

pytestmark = pytest.mark.browser

STOPPED_AGO_S = 250


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    """A room heard now (`attic`) and one last heard `STOPPED_AGO_S` ago (`shed`)."""
    db = tmp_path / "store.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        # the attic a little ahead, so that it stays heard "now" however slow the machine
        store.write(seconds_heard("attic", [0.05] * 60, last_at=now + timedelta(seconds=30)))
        store.write(
            seconds_heard("shed", [0.05] * 60, last_at=now - timedelta(seconds=STOPPED_AGO_S))
        )
    with running_server(create_app(settings_for(db, tmp_path))) as url:
        yield url


def test_a_room_not_heard_for_minutes_shows_no_loudness_now(page: object, base: str) -> None:
    p = page
    p.goto(f"{base}/rooms/attic/level")  # type: ignore[attr-defined]
    p.wait_for_selector("#verdict:not(:empty)")  # type: ignore[attr-defined]
    assert p.text_content("#level-now") == "-40.0 dBFS"  # type: ignore[attr-defined]
    assert p.get_attribute("#meter", "data-level-dbfs") == "-40"  # type: ignore[attr-defined]

    p.goto(f"{base}/rooms/shed/level")  # type: ignore[attr-defined]
    p.wait_for_selector("#verdict:has-text('nothing heard for')")  # type: ignore[attr-defined]
    now = p.text_content("#level-now")  # type: ignore[attr-defined]
    assert now.startswith("\N{EN DASH} (last heard 4 min") and now.endswith(" ago)"), now
    assert "dBFS" not in now
    assert p.get_attribute("#meter", "data-level-dbfs") == ""  # type: ignore[attr-defined]
    fill = p.eval_on_selector("#meter-fill", "e => e.getBoundingClientRect().width")  # type: ignore[attr-defined]
    assert fill == 0
    check_the_page(p, "level-stopped")
