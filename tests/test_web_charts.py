"""The charts as a parent reads them, in headless Chromium at a laptop's and a phone's size: a
night the listener ran twice, hours apart (a gap drawn as a gap, "not listening"), a night
nobody heard ("nothing recorded"), at most 3 legend entries, an episode opened by a click."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from conftest import DemoNight, run_miserymeter
from miserymeter.clock import utc_now
from miserymeter.nights import night_of
from miserymeter.web import create_app
from web_helpers import ZONE, running_server, settings_for, shot

pytestmark = pytest.mark.browser

RUNS_AT = (time(21, 0), time(2, 0))  # the evening's and the next morning's listening
LEGEND_ENTRIES = "#{chart} .legend .traces"


@dataclass(frozen=True)
class GapNight:
    """Last night, heard from 21:00 and from 02:00 for 3 minutes each: a 5-hour gap."""

    db: Path
    clips_dir: Path
    night: date


@pytest.fixture(scope="module")
def gap_night(demo_night: DemoNight, tmp_path_factory: pytest.TempPathFactory) -> GapNight:
    folder = tmp_path_factory.mktemp("gap")
    night = night_of(utc_now(), zone=ZONE) - timedelta(days=1)
    found = GapNight(folder / "gap.db", folder / "clips", night)
    for day, at in zip((night, night + timedelta(days=1)), RUNS_AT, strict=True):
        start = datetime.combine(day, at, tzinfo=ZONE).isoformat(sep=" ")
        listened = run_miserymeter(
            "listen", "--input", demo_night.db.parent / "night.flac", "--start", start,
            "--room", "nursery", "--db", found.db, "--clips", found.clips_dir,
        )  # fmt: skip
        assert listened.returncode == 0, listened.stderr
    return found


@pytest.fixture
def base(gap_night: GapNight, tmp_path: Path) -> Iterator[str]:
    settings = settings_for(gap_night.db, tmp_path, clips_dir=gap_night.clips_dir)
    with running_server(create_app(settings)) as url:
        yield url


def size_of(page: object) -> str:
    return str(page.viewport_size["width"])  # type: ignore[attr-defined]


def open_night(page: object, base: str, night: date) -> None:
    page.goto(f"{base}/rooms/nursery?night={night.isoformat()}")  # type: ignore[attr-defined]
    page.wait_for_selector('#resolution[data-resolution="minutes"]', state="attached")  # type: ignore[attr-defined]


def test_a_gap_is_drawn_as_a_gap_and_labelled_not_listening(
    page: object, base: str, gap_night: GapNight
) -> None:
    p = page
    open_night(p, base, gap_night.night)
    p.wait_for_selector("#timeline .main-svg")  # type: ignore[attr-defined]
    labels = p.locator("#timeline .annotation-text").all_text_contents()  # type: ignore[attr-defined]
    assert labels.count("not listening") == 3  # the afternoon, 21:03 - 02:00, the morning
    gap = f"{gap_night.night}T21:03:00.000", f"{gap_night.night + timedelta(days=1)}T02:00:00.000"
    bands = p.evaluate(  # type: ignore[attr-defined]
        "document.getElementById('timeline').layout.shapes.map(s => [s.x0, s.x1])"
    )
    assert list(gap) in bands
    loudness = p.evaluate(  # type: ignore[attr-defined]
        "(() => { const t = document.getElementById('timeline').data[0];"
        " return [t.connectgaps, t.y.filter(y => y === null).length]; })()"
    )
    assert loudness == [False, 1]  # one break in the line: no line joins 21:02 and 02:00
    assert p.locator(LEGEND_ENTRIES.format(chart="timeline")).count() <= 3  # type: ignore[attr-defined]
    titles = p.locator("#timeline .g-y2title").all_text_contents()  # type: ignore[attr-defined]
    assert titles == ["crying (s per minute)"]
    shot(p, f"charts-gap-{size_of(p)}.png")


def test_clicking_an_episode_on_the_chart_opens_its_page(
    page: object, base: str, gap_night: GapNight
) -> None:
    p = page
    open_night(p, base, gap_night.night)
    mark = p.locator("#timeline .scatterlayer .point").last  # type: ignore[attr-defined]
    mark.scroll_into_view_if_needed()  # on a phone, the chart reaches below the first screen
    box = mark.bounding_box()
    p.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/rooms/nursery/episodes/"))  # type: ignore[attr-defined]
    p.wait_for_selector('#spectrogram[data-ready="true"]')  # type: ignore[attr-defined]
    episodes = p.evaluate(  # type: ignore[attr-defined]
        f"fetch('/api/rooms/nursery/episodes?night={gap_night.night}').then(r => r.json())"
    )
    assert p.url.removeprefix(base) in [e["url"] for e in episodes]  # type: ignore[attr-defined]
    shot(p, f"charts-episode-clicked-{size_of(p)}.png")


def test_a_night_nobody_heard_says_nothing_recorded(
    page: object, base: str, gap_night: GapNight
) -> None:
    p = page
    open_night(p, base, gap_night.night - timedelta(days=3))
    p.wait_for_selector("#nothing-recorded:not([hidden])")  # type: ignore[attr-defined]
    assert p.text_content("#nothing-recorded").startswith("Nothing recorded: ")  # type: ignore[attr-defined]
    assert not p.is_visible("#timeline")  # type: ignore[attr-defined]
    shot(p, f"charts-nothing-recorded-{size_of(p)}.png")


def test_nights_nobody_heard_are_not_listening_not_0_wake_ups(
    page: object, base: str, gap_night: GapNight
) -> None:
    p = page
    p.goto(f"{base}/rooms/nursery/nights")  # type: ignore[attr-defined]
    p.wait_for_selector("#nights-chart .main-svg")  # type: ignore[attr-defined]
    wake_ups = p.evaluate("document.getElementById('nights-chart').data[1].y")  # type: ignore[attr-defined]
    assert wake_ups[-2] == 4 and wake_ups.count(None) == 29  # last night heard, no other
    labels = p.locator("#nights-chart .annotation-text").all_text_contents()  # type: ignore[attr-defined]
    assert "not listening" in labels
    assert p.locator(LEGEND_ENTRIES.format(chart="nights-chart")).count() <= 3  # type: ignore[attr-defined]
    assert p.locator("#nights tr.not-listening").count() == 29  # type: ignore[attr-defined]
    shot(p, f"charts-nights-{size_of(p)}.png")
