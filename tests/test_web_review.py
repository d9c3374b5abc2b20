"""Reviewing episodes one after the other, in headless Chromium at 1366x900 and 390x844: a
mis-tap undone and given again; from an episode to the next and back; the reviewed ones
marked in the list. Screenshots go to build/test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DemoNight
from miserymeter.clock import iso_utc
from miserymeter.web import create_app
from test_web_browser import demo_episodes
from test_web_phone import check_the_page
from web_helpers import running_server, settings_for, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def base(demo_night: DemoNight, tmp_path: Path) -> Iterator[str]:
    settings = settings_for(demo_night.db, tmp_path, clips_dir=demo_night.clips_dir)
    with running_server(create_app(settings)) as url:
        yield url


def test_a_mistapped_review_is_undone_and_given_again(
    page: object, base: str, demo_night: DemoNight, tmp_path: Path
) -> None:
    first, _ = demo_episodes(demo_night)
    dataset = tmp_path / "dataset"
    p = page
    p.goto(f"{base}/rooms/demo/episodes/{iso_utc(first.start)}")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Not reviewed yet')")  # type: ignore[attr-defined]
    assert not p.is_visible("#review-undo")  # type: ignore[attr-defined]
    p.wait_for_selector("#waiting:has-text('0 reviewed clip(s)')", state="attached")  # type: ignore[attr-defined]
    p.fill("#other-label", "Crying")  # type: ignore[attr-defined]
    p.click("#review-other")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-message:has-text('That is crying: press “Crying” instead.')")  # type: ignore[attr-defined]
    assert not dataset.exists() or not list(dataset.rglob("*.flac"))  # nothing written
    p.fill("#other-label", "laughter")  # type: ignore[attr-defined]
    p.click("#review-other")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Reviewed as “laughter”')")  # type: ignore[attr-defined]
    laughter = sorted((dataset / "laughter").glob("review-demo-*_nohash_*ms.flac"))
    assert laughter and p.is_disabled("#review-crying")  # type: ignore[attr-defined]
    p.wait_for_selector(f"#waiting:has-text('{len(laughter)} reviewed clip(s)')", state="attached")  # type: ignore[attr-defined]
    check_the_page(p, "episode-reviewed")

    p.click("#review-undo")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-message:has-text('Removed')")  # type: ignore[attr-defined]
    said = p.text_content("#review-message")  # type: ignore[attr-defined]
    assert f"Removed {len(laughter)} clip(s) reviewed as “laughter”" in said
    assert "Not reviewed yet" in p.text_content("#review-said")  # type: ignore[attr-defined]
    assert not p.is_visible("#review-undo") and p.is_enabled("#review-crying")  # type: ignore[attr-defined]
    assert not any(path.exists() for path in laughter)
    p.wait_for_selector("#waiting:has-text('0 reviewed clip(s)')", state="attached")  # type: ignore[attr-defined]
    check_the_page(p, "episode-undone")

    p.click("#review-crying")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Reviewed as “crying”')")  # type: ignore[attr-defined]
    crying = sorted((dataset / "crying").glob("review-demo-*_nohash_*ms.flac"))
    assert [c.name for c in crying] == [path.name for path in laughter]
    assert not list((dataset / "laughter").glob("*.flac"))
    shot(p, f"episode-crying-{p.viewport_size['width']}.png")  # type: ignore[attr-defined]


def test_episodes_are_reviewed_one_after_the_other_and_marked_in_the_list(
    page: object, base: str, demo_night: DemoNight
) -> None:
    first, second = demo_episodes(demo_night)
    p = page
    p.goto(f"{base}/rooms/demo/episodes/{iso_utc(first.start)}")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Not reviewed yet')")  # type: ignore[attr-defined]
    assert p.locator("#previous").count() == 0  # type: ignore[attr-defined]  # the room's first
    p.click("#review-crying")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Reviewed as “crying”')")  # type: ignore[attr-defined]
    p.click("#next")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base}/rooms/demo/episodes/{iso_utc(second.start)}")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Not reviewed yet')")  # type: ignore[attr-defined]
    assert p.locator("#next").count() == 0  # type: ignore[attr-defined]  # the room's last
    check_the_page(p, "episode-next")
    p.fill("#other-label", "laughter")  # type: ignore[attr-defined]
    p.click("#review-other")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Reviewed as “laughter”')")  # type: ignore[attr-defined]
    p.click("#previous")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base}/rooms/demo/episodes/{iso_utc(first.start)}")  # type: ignore[attr-defined]
    p.wait_for_selector("#review-said:has-text('Reviewed as “crying”')")  # type: ignore[attr-defined]

    p.goto(f"{base}/rooms/demo")  # type: ignore[attr-defined]
    p.wait_for_selector("#episodes tr.episode .reviewed >> nth=1")  # type: ignore[attr-defined]
    marks = p.eval_on_selector_all(  # type: ignore[attr-defined]
        "#episodes tr.episode", "rows => rows.map(r => r.querySelector('.reviewed')?.textContent)"
    )
    assert marks == ["✓ laughter", "✓ crying"]  # newest first
    check_the_page(p, "timeline-reviewed")
