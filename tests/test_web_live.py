"""A night as a parent follows it live, without reloading, in headless Chromium at 1366x900
and 390x844 at once: the room page is opened before anything is heard tonight; a real
`listen --input -`, fed audio through a pipe in real time, writes into the store that the
dashboard reads. "Crying now" shows within two of the page's checks (1.5 s apart) of the
dashboard's API having the detector's confirmation (the listener prints it, then stores it),
the night's story counts the episode in progress ("1 wake-up so far, crying now for 9 s") and
then the stored one, a stopped listener's silence is shaded "not listening" and the
shading ends when a listener starts again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import SIZES
from live_listener import LiveListener
from miserymeter.nights import night_of
from miserymeter.store import open_store
from miserymeter.web import create_app
from store_records import seconds_heard
from test_listen import CRYING, clip, quiet
from web_helpers import ZONE, lines_of, running_server, settings_for, shot

pytestmark = pytest.mark.browser

WAIT_MS = 60_000
ROOM = "nursery"
# The page's checks of the state now, counted, and how many it had made when crying first showed.
COUNT_THE_CHECKS_JS = """
window.nowAsked = 0;
window.cryingShownAfter = null;
const askedFor = window.fetch.bind(window);
window.fetch = (url, options) => {
  if (String(url).endsWith("/now")) window.nowAsked += 1;
  return askedFor(url, options);
};
document.addEventListener("mm-now", (event) => {
  if (event.detail.state === "crying" && window.cryingShownAfter === null) {
    window.cryingShownAfter = window.nowAsked;
  }
});
"""
CHECKS_WITHIN = 2  # 2 x 1.5 s: within 3 s
# The "not listening" bands of the timeline, as [start, end] (local times).
BANDS_JS = """(document.getElementById("timeline").layout?.shapes || [])
  .filter((s) => s.fillcolor === "rgba(127, 140, 141, 0.2)").map((s) => [s.x0, s.x1])"""
LAST_DRAWN_JS = """document.getElementById("timeline").data
  .filter((t) => t.name === "loudness").flatMap((t) => t.x).filter(Boolean).sort().pop()"""
NOTHING_RECORDED = "#nothing-recorded:has-text('Nothing recorded yet')"
NEXT_CHECK_JS = "new Promise((told) => document.addEventListener('mm-now', told, { once: true }))"
# The night's story counts the first episode while it is still in progress (stored only once
# its merge gap has passed), with a stop-watch: told while its row is still the live one.
STORY_COUNTS_THE_EPISODE_IN_PROGRESS_JS = """
/^1 wake-up so far, crying now for \\d+ (s|min)$/
  .test(document.getElementById("night-said").textContent)
  && document.querySelectorAll("#episodes tr.episode").length === 1
  && document.querySelector("#episodes tr.in-progress") !== null"""


def wait_for_state(url: str, state: str, *, timeout_s: float = WAIT_MS / 1000) -> None:
    """Ask the dashboard's API for the state now until it is `state`."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    while httpx.get(url).json()["state"] != state:
        assert datetime.now(UTC) < deadline, f"{url} never said {state!r}"
        time.sleep(0.2)  # between questions, not a wait for an outcome


@pytest.fixture
def pages(browser: object) -> Iterator[dict[str, object]]:
    """A page at each size, counting its checks of the state now."""
    contexts = []
    opened = {}
    for size, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        context.add_init_script(COUNT_THE_CHECKS_JS)
        opened[size] = context.new_page()
        opened[size].set_default_timeout(WAIT_MS)
        contexts.append(context)
    yield opened
    for context in contexts:
        context.close()


def a_night(crying_s: float) -> np.ndarray:
    """A quiet room, then crying for about `crying_s`, then quiet until the episode is told."""
    crying = clip(CRYING)
    repeats = int(np.ceil(crying_s * 16_000 / len(crying)))
    return np.concatenate([quiet(6), np.tile(crying, repeats), quiet(12)])


def last_night(page: object, base: str) -> None:
    """Last night's page, opened while the room cries: its list has no row for tonight's
    crying, its story no wake-up."""
    p = page.context.new_page()  # type: ignore[attr-defined]
    p.set_default_timeout(WAIT_MS)
    night = night_of(datetime.now(UTC), zone=ZONE) - timedelta(days=1)
    p.goto(f"{base}/rooms/{ROOM}?night={night.isoformat()}")
    p.wait_for_selector("#night-said:has-text('nothing recorded')")
    p.wait_for_selector('#now[data-state="crying"]')
    p.evaluate(NEXT_CHECK_JS)  # the list and the story were told again with crying now
    assert p.locator("#episodes tr.in-progress").count() == 0, p.inner_text("#episodes")
    assert p.text_content("#night-said") == "nothing recorded"
    p.close()


def test_a_parent_follows_the_night_live_on_a_laptop_and_a_phone(
    pages: dict[str, object], tmp_path: Path
) -> None:
    db = tmp_path / "live.db"
    with open_store(db) as store:  # the room was heard three nights ago, not tonight
        store.write(seconds_heard(ROOM, [0.05] * 30, last_at=datetime.now(UTC) - timedelta(days=3)))
    with running_server(create_app(settings_for(db, tmp_path))) as base:
        for p in pages.values():
            p.goto(f"{base}/rooms/{ROOM}")  # type: ignore[attr-defined]
            p.wait_for_selector(NOTHING_RECORDED)  # type: ignore[attr-defined]
            p.wait_for_selector("#night-said:has-text('nothing recorded')")  # type: ignore[attr-defined]
            p.wait_for_selector('#now[data-state="not-listening"]')  # type: ignore[attr-defined]
            p.evaluate("window.notReloaded = true")  # type: ignore[attr-defined]

        args = ("--merge_gap_s", "5")
        with LiveListener(a_night(45), room=ROOM, db=db, args=args, serve=False) as live:
            live.wait_for(f"crying in {ROOM}")  # the detector is sure: parents hear of it now
            wait_for_state(f"{base}/api/rooms/{ROOM}/now", "crying")  # and it is stored
            asked = {size: p.evaluate("window.nowAsked") for size, p in pages.items()}  # type: ignore[attr-defined]
            for p in pages.values():  # the page's checks, that often: within 3 s
                assert CHECKS_WITHIN * p.evaluate("NOW_EVERY_MS") <= 3000  # type: ignore[attr-defined]
            for size, p in pages.items():
                p.wait_for_selector("#now-state:has-text('Crying now')")  # type: ignore[attr-defined]
                shown_after = p.evaluate("window.cryingShownAfter")  # type: ignore[attr-defined]
                assert shown_after - asked[size] <= CHECKS_WITHIN, (size, asked, shown_after)
                assert p.is_visible("#episodes tr.in-progress")  # type: ignore[attr-defined]
                p.wait_for_function(STORY_COUNTS_THE_EPISODE_IN_PROGRESS_JS)  # type: ignore[attr-defined]
                assert lines_of(p, "#episodes tr.in-progress td:first-child") == [1], size
                assert "heard 0 s" not in p.text_content("#resolution"), size  # type: ignore[attr-defined]
                shot(p, f"live-crying-now-{size}.png")
            last_night(pages["laptop"], base)
            for p in pages.values():  # once the crying is over (its end may be a minute away)
                p.wait_for_selector("#night-said:has-text('1 wake-up, ')", timeout=3 * WAIT_MS)  # type: ignore[attr-defined]
                assert p.locator("#episodes tr.episode").count() == 1, p.inner_text("#episodes")  # type: ignore[attr-defined]
                assert not p.is_visible(NOTHING_RECORDED)  # type: ignore[attr-defined]
            assert live.finish() == 0, live.stderr
        for size, p in pages.items():  # the listener stopped: its silence is shaded at once
            p.wait_for_function(f"{BANDS_JS}.length === 2")  # type: ignore[attr-defined]
            p.wait_for_selector('#now[data-state="not-listening"]')  # type: ignore[attr-defined]
            shot(p, f"live-stopped-{size}.png")
        stopped = {size: p.evaluate(BANDS_JS)[-1] for size, p in pages.items()}  # type: ignore[attr-defined]

        with LiveListener(quiet(30), room=ROOM, db=db, serve=False):
            for size, p in pages.items():  # started again: the shading ends where it heard
                p.wait_for_selector('#health[data-status="listening"]', state="attached")  # type: ignore[attr-defined]
                p.wait_for_function(  # type: ignore[attr-defined]
                    f"(() => {{ const band = {BANDS_JS}.pop(); const last = {LAST_DRAWN_JS};"
                    " return band && last > band[1]; })()"
                )
                band = p.evaluate(BANDS_JS)[-1]  # type: ignore[attr-defined]
                assert band[0] == stopped[size][0] and band[1] >= stopped[size][1]
                assert p.evaluate("window.notReloaded") is True  # type: ignore[attr-defined]
                shot(p, f"live-started-again-{size}.png")
