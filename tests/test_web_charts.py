"""The charts as a parent reads them, in headless Chromium at a laptop's and a phone's size: a
night the listener ran twice, hours apart (a gap drawn as a gap, "not listening"), a night
nobody heard ("nothing recorded"), at most 3 legend entries, an episode opened by a click;
nights heard for an hour and for hours (spans, axes and a tap in durations and dates)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from conftest import DemoNight, run_miserymeter
from miserymeter.clock import utc_now
from miserymeter.nights import night_bounds, night_of
from miserymeter.store import StoredRecord, open_store
from miserymeter.web import create_app
from store_records import episode, minute_of_records
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


# Nights before last night: minutes heard from 20:30, and their episodes' durations. The worst
# night cries 1 h 30 min (its axis: 0, 30 min, 1 h, 1 h 30 min); last night is heard 61 min.
HEARD_NIGHTS = {3: (240, (1800.0, 2400.0, 1200.0)), 1: (61, (87.0, 600.0))}


@pytest.fixture(scope="module")
def heard_nights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of `HEARD_NIGHTS`, written as the listener writes them; the others unheard."""
    db = tmp_path_factory.mktemp("heard") / "heard.db"
    tonight = night_of(utc_now(), zone=ZONE)
    rng = np.random.default_rng(1)
    with open_store(db) as store:
        for back, (n_minutes, durations_s) in HEARD_NIGHTS.items():
            start = night_bounds(tonight - timedelta(days=back), zone=ZONE)[0]
            start += timedelta(hours=8, minutes=30)
            records: list[StoredRecord] = []
            for minute in range(n_minutes):
                records += minute_of_records("nursery", minute, rng=rng, start=start)
            for k, duration_s in enumerate(durations_s, 1):
                at = start + timedelta(minutes=k * n_minutes / (len(durations_s) + 1))
                found = episode("nursery", 0.0, duration_s)
                records.append(replace(found, start=at, end=at + timedelta(seconds=duration_s)))
            store.write(records)
    return db


@pytest.fixture
def heard_base(heard_nights: Path, tmp_path: Path) -> Iterator[str]:
    with running_server(create_app(settings_for(heard_nights, tmp_path))) as url:
        yield url


def night_name(night: date) -> str:
    """As the nights page names a night: its evening and morning ('Sun 6 - Mon 7 Dec', with an
    en dash; 'Mon 30 Nov - Tue 1 Dec')."""
    morning = night + timedelta(days=1)
    evening = f"{night:%a} {night.day}" + ("" if night.month == morning.month else f" {night:%b}")
    return f"{evening} \N{EN DASH} {morning:%a} {morning.day} {morning:%b}"


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


def test_a_night_heard_for_61_minutes_says_1_h_1_min(page: object, heard_base: str) -> None:
    p = page
    open_night(p, heard_base, night_of(utc_now(), zone=ZONE) - timedelta(days=1))
    assert p.text_content("#resolution") == "heard 1 h 1 min"  # type: ignore[attr-defined]
    open_night(p, heard_base, night_of(utc_now(), zone=ZONE) - timedelta(days=3))
    assert p.text_content("#resolution") == "heard 4 h"  # type: ignore[attr-defined]
    shot(p, f"charts-heard-4-h-{size_of(p)}.png")


def test_the_nights_chart_reads_in_durations_and_dates(page: object, heard_base: str) -> None:
    """Crying ticks as durations, titles in words, dates as the nights are named ('30 Nov'),
    apart at 390 px, and a tap on a night says which night, its crying, wake-ups and hours."""
    p = page
    p.goto(f"{heard_base}/rooms/nursery/nights")  # type: ignore[attr-defined]
    p.wait_for_selector("#nights-chart .main-svg")  # type: ignore[attr-defined]
    ticks = p.locator("#nights-chart .ytick text").all_text_contents()  # type: ignore[attr-defined]
    assert ticks == ["0", "30 min", "1 h", "1 h 30 min"]
    titles = [
        p.locator(f"#nights-chart .g-{axis}title").all_text_contents()  # type: ignore[attr-defined]
        for axis in ("y", "y2")
    ]
    assert titles == [["crying"], ["wake-ups"]]
    tonight = night_of(utc_now(), zone=ZONE)
    dates = p.locator("#nights-chart .xtick text")  # type: ignore[attr-defined]
    assert dates.all_text_contents()[-1] == f"{tonight.day} {tonight:%b}"
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", d) for d in dates.all_text_contents())
    boxes = sorted((b["x"], b["x"] + b["width"]) for b in map(box_of, dates.all()))
    assert all(right < left for (_, right), (left, _) in itertools.pairwise(boxes))
    chart = box_of(p.locator("#nights-chart"))  # type: ignore[attr-defined]
    assert chart["x"] <= boxes[0][0] and boxes[-1][1] <= chart["x"] + chart["width"]

    bars = p.locator("#nights-chart .bars .point path").all()  # type: ignore[attr-defined]
    bar = [box for box in map(box_of, bars) if box["height"]][-1]  # last night's
    p.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] - 2)  # type: ignore[attr-defined]
    said = p.locator("#nights-chart .hovertext tspan.line")  # type: ignore[attr-defined]
    said.first.wait_for()
    last_night = night_name(tonight - timedelta(days=1))
    lines = [last_night, "11 min crying", "2 wake-ups", "heard 1 h 1 min"]
    assert said.all_text_contents() == lines
    shot(p, f"charts-nights-tapped-{size_of(p)}.png")


def box_of(element: object) -> dict[str, float]:
    """Where a playwright locator's element is on the page: x, y, width, height (px)."""
    box: dict[str, float] | None = element.bounding_box()  # type: ignore[attr-defined]
    assert box is not None
    return box
