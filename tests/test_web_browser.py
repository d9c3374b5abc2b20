"""The dashboard in headless Chromium (Debian's, through playwright): load the timeline, zoom
into seconds, play an episode, review it into the dataset, log in, calibrate; screenshots are
kept in build/test-artifacts/web/ (MISERYMETER_ARTIFACTS elsewhere)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from calibration_clips import write_reviewed_clips
from conftest import DemoNight, cli_command, cli_env, page_of_size
from live_listener import LiveListener
from miserymeter.clock import iso_utc
from miserymeter.detect.settings import DetectorSettings
from miserymeter.events import events_from
from miserymeter.nights import night_of
from miserymeter.records import Episode, ListenerStatus
from miserymeter.store import open_store
from miserymeter.store.outbox import OutboxEntry
from miserymeter.web import create_app
from miserymeter.web.passwords import hash_password
from store_records import episode, minute_of_records, seconds_heard
from test_listen import CRYING, clip, quiet
from web_helpers import ZONE, running_server, settings_for, shot

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
# The threshold lines of the timeline: drawn only against seconds' crying probabilities.
THRESHOLDS_DRAWN = (
    "document.getElementById('timeline').data"
    ".filter(t => t.name.startsWith('threshold')).map(t => [t.name, t.y[0]])"
)
PASSWORD = "lullaby and good night"
# (start into the night, duration) of three short wake-ups, all "1 min" or less when rounded
SHORT = [(600.0, 48.0), (3_600.0, 62.0), (6_000.0, 87.0)]


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    with page_of_size(browser, 1200, 860) as opened:
        yield opened


def demo_episodes(demo_night: DemoNight) -> list[Episode]:
    with open_store(demo_night.db) as store:
        return store.episodes("demo")


def local(episode_time: object) -> str:
    return episode_time.astimezone(ZONE).replace(tzinfo=None).isoformat(timespec="seconds")  # type: ignore[attr-defined]


def as_a_parent_reads(episode_time: datetime) -> str:
    """'Sun 6 Dec, 22:48'."""
    t = episode_time.astimezone(ZONE)
    return f"{t:%a} {t.day} {t:%b}, {t:%H:%M}"


def as_near(at: datetime) -> str:
    """'22:48' today (in `at`'s offset), 'yesterday 22:48', else 'Sun 6 Dec, 22:48'."""
    today = datetime.now(at.tzinfo).date()
    if at.date() == today:
        return f"{at:%H:%M}"
    if at.date() == today - timedelta(days=1):
        return f"yesterday {at:%H:%M}"
    return as_a_parent_reads(at)


def test_timeline_zoom_play_and_review(page: object, demo_night: DemoNight, tmp_path: Path) -> None:
    first, second = demo_episodes(demo_night)
    night = night_of(first.start, zone=ZONE)
    equal = DetectorSettings(on_probability=0.7, off_probability=0.7)
    settings = settings_for(
        demo_night.db, tmp_path, clips_dir=demo_night.clips_dir, detection=equal
    )
    p = page  # the playwright Page
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/rooms/demo?night={night.isoformat()}")  # type: ignore[attr-defined]
        p.wait_for_selector('#resolution[data-resolution="minutes"]', state="attached")  # type: ignore[attr-defined]
        p.wait_for_selector("#timeline .main-svg")  # type: ignore[attr-defined]
        assert p.locator("#episodes tr.episode").count() == 2  # type: ignore[attr-defined]
        starts = p.locator("#episodes tr.episode td:first-child").all_text_contents()  # type: ignore[attr-defined]
        assert starts == [as_a_parent_reads(e.start) for e in (second, first)]
        p.wait_for_selector("#night-story:not([hidden])")  # type: ignore[attr-defined]
        morning = night + timedelta(days=1)
        evening = f"{night:%a} {night.day}" + (
            "" if night.month == morning.month else f" {night:%b}"
        )
        name = f"{evening} \N{EN DASH} {morning:%a} {morning.day} {morning:%b}"
        assert p.text_content("#night-name") == name  # type: ignore[attr-defined]
        said = p.text_content("#night-said")  # type: ignore[attr-defined]
        wake_ups = f"first at {local(first.start)[11:16]}, last at {local(second.start)[11:16]}"
        assert said.startswith("2 wake-ups, ") and said.endswith(wake_ups)
        p.wait_for_selector('#health[data-status="offline"]', state="attached")  # type: ignore[attr-defined]
        p.wait_for_selector('#now[data-state="not-listening"]')  # type: ignore[attr-defined]
        health = p.evaluate("fetch('/api/rooms/demo/health').then((r) => r.json())")  # type: ignore[attr-defined]
        said = f"Not listening since {as_near(datetime.fromisoformat(health['last_heard']))}"
        assert p.text_content("#now-state") == said  # type: ignore[attr-defined]
        # a minute's crying is in seconds, not a probability: no thresholds against it
        assert p.evaluate(THRESHOLDS_DRAWN) == []  # type: ignore[attr-defined]
        shot(p, "timeline.png")

        zoom_from, zoom_to = (
            local(first.start - timedelta(minutes=1)),
            local(second.end + timedelta(minutes=1)),
        )
        p.evaluate(  # type: ignore[attr-defined]
            "([a, b]) => Plotly.relayout('timeline', {'xaxis.range': [a, b]})", [zoom_from, zoom_to]
        )
        p.wait_for_selector('#resolution[data-resolution="seconds"]', state="attached")  # type: ignore[attr-defined]
        # (the demo night is dated from when the fixture ran: a zoom that reaches now follows
        # the seconds after it too, so only those inside the zoom are counted)
        n_points = p.evaluate(  # type: ignore[attr-defined]
            "([a, b]) => document.getElementById('timeline').data[0].x"
            ".filter((x) => x >= a && x <= b).length",
            [zoom_from, zoom_to],
        )
        assert 60 < n_points <= 3 * 60 + 1
        # on and off equal: one line named for both
        assert p.evaluate(THRESHOLDS_DRAWN) == [["threshold on/off", 0.7]]  # type: ignore[attr-defined]
        shot(p, "timeline-zoomed.png")

        p.click("#episodes tr.episode a >> nth=0")  # type: ignore[attr-defined]
        p.wait_for_selector('#spectrogram[data-ready="true"]')  # type: ignore[attr-defined]
        p.evaluate("document.getElementById('player').play()")  # type: ignore[attr-defined]
        p.wait_for_function("document.getElementById('player').currentTime > 0.3")  # type: ignore[attr-defined]
        p.click("#review-crying")  # type: ignore[attr-defined]
        p.wait_for_selector("#review-message:has-text('Saved')")  # type: ignore[attr-defined]
        assert "reviewed clip(s) waiting" in p.text_content("#waiting")  # type: ignore[attr-defined]
        shot(p, "episode.png")
    reviewed = sorted((tmp_path / "dataset" / "crying").glob("review-demo-*_nohash_*.flac"))
    assert len(reviewed) == int(second.duration_s // 2) + (second.duration_s % 2 > 0)  # the newest


def test_off_localhost_the_page_asks_for_the_password(
    page: object, demo_night: DemoNight, tmp_path: Path
) -> None:
    settings = settings_for(
        demo_night.db, tmp_path, host="0.0.0.0", password_hash=hash_password(PASSWORD)
    )
    p = page
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/rooms/demo/nights")  # type: ignore[attr-defined]
        assert p.url.startswith(f"{base}/login")  # type: ignore[attr-defined]
        p.fill("input[name=password]", "not it")  # type: ignore[attr-defined]
        p.click("#login-form button")  # type: ignore[attr-defined]
        p.wait_for_selector("#login-message:has-text('Wrong password')")  # type: ignore[attr-defined]
        shot(p, "login-refused.png")
        p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
        p.click("#login-form button")  # type: ignore[attr-defined]
        p.wait_for_url(f"{base}/rooms/demo/nights")  # type: ignore[attr-defined]
        p.wait_for_selector("#nights tr.night")  # type: ignore[attr-defined]
        assert p.locator("#nights tr.night").count() == 30  # type: ignore[attr-defined]
        shot(p, "nights.png")
        p.click("#logout button")  # type: ignore[attr-defined]
        p.wait_for_url(f"{base}/login")  # type: ignore[attr-defined]


def test_listen_serve_moves_the_meter_and_grows_the_timeline_without_a_reload(
    page: object, tmp_path: Path
) -> None:
    """A real `listen --serve` on audio fed in real time: 15 s of a quiet room, 12 s of crying,
    20 s quiet; a room name that needs encoding."""
    audio = np.concatenate([quiet(15), np.tile(clip(CRYING), 3), quiet(20)])
    p = page
    with LiveListener(audio, room="Room 2/B", db=tmp_path / "live.db") as live:
        live.wait_for("serving the dashboard on")
        p.goto(f"{live.base}/rooms/Room%202%2FB/level")  # type: ignore[attr-defined]
        assert p.get_attribute("#nav-level", "href") == "/rooms/Room%202%2FB/level"  # type: ignore[attr-defined]
        meter = "Number(document.getElementById('meter').dataset.levelDbfs || 0)"
        p.wait_for_function(f"{meter} < -50")  # type: ignore[attr-defined]
        assert "good" in p.text_content("#verdict")  # type: ignore[attr-defined]
        p.wait_for_function(f"{meter} > -30", timeout=3 * WAIT_MS)  # type: ignore[attr-defined]
        shot(p, "level.png")

        p.click("#nav-timeline")  # type: ignore[attr-defined]
        p.wait_for_url(f"{live.base}/rooms/Room%202%2FB")  # type: ignore[attr-defined]
        p.wait_for_selector("#timeline .main-svg")  # type: ignore[attr-defined]
        p.evaluate("window.notReloaded = true")  # type: ignore[attr-defined]
        points = "document.getElementById('timeline').data.reduce((n, t) => n + t.x.length, 0)"
        n_points = p.evaluate(points)  # type: ignore[attr-defined]
        p.wait_for_function(f"window.notReloaded && {points} >= {n_points + 3}")  # type: ignore[attr-defined]
        assert re.search(r"\d+ (s|min) live$", p.text_content("#resolution"))  # type: ignore[attr-defined]
        assert p.locator("#timeline .legend .traces").count() <= 3  # type: ignore[attr-defined]
        p.wait_for_selector('#health[data-status="listening"]', state="attached")  # type: ignore[attr-defined]
        assert "0 window(s) dropped tonight" in p.text_content("#health-facts")  # type: ignore[attr-defined]
        # The state now: "Quiet" before the crying; "Crying now — 9 s", then (the crying over,
        # its episode maybe not yet) "Quiet since 21:04": either says the crying was heard.
        heard = "/^(Crying now — \\d+ s|Quiet since \\d\\d:\\d\\d)$/"
        p.wait_for_function(f"{heard}.test(document.getElementById('now-state').textContent)")  # type: ignore[attr-defined]
        shot(p, "timeline-live.png")
        assert live.finish() == 0, live.stderr


def test_the_badge_shows_the_listeners_cpu_dropped_windows_and_undelivered_alerts(
    page: object, tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        for k in range(5):  # an event a minute
            minute = minute_of_records(
                "attic", k, rng=np.random.default_rng(k), start=now - timedelta(seconds=299)
            )
            store.write(minute, outbox=[OutboxEntry("mqtt", e) for e in events_from(minute)])
        store.write([ListenerStatus("attic", now - timedelta(seconds=5), 60.0, 3.52, 2)])
    p = page
    with running_server(create_app(settings_for(db, tmp_path))) as base:
        p.goto(f"{base}/rooms/attic/level")  # type: ignore[attr-defined]
        p.wait_for_selector('#health[data-status="listening"]', state="attached")  # type: ignore[attr-defined]
        facts = p.text_content("#health-facts")  # type: ignore[attr-defined]
        assert "listener CPU 3.5 % of a core" in facts and "2 window(s) dropped tonight" in facts
        assert "replaying" not in facts  # no run said it replayed a recording
        assert not p.is_visible("#undelivered")  # type: ignore[attr-defined]  # queued, on its way

        with open_store(db) as store:
            waiting = store.pending("mqtt", room="attic")  # the first tried, the rest behind it
            store.failed(waiting[0].seq, "cannot reach broker:1883 (connection refused)")
        p.reload()  # type: ignore[attr-defined]
        p.wait_for_selector("#undelivered", state="visible")  # type: ignore[attr-defined]
        warning = p.text_content("#undelivered")  # type: ignore[attr-defined]
        assert len(waiting) == 5
        assert warning.startswith("5 events not yet sent to mqtt since "), warning
        assert warning.endswith(": cannot reach broker:1883 (connection refused)"), warning
        shot(p, "level-undelivered.png")
        p.wait_for_selector('#verdict[data-ok="true"]')  # type: ignore[attr-defined]
        shot(p, "level-from-store.png")


def test_calibrate_then_see_the_thresholds_on_the_timeline(
    page: object, demo_night: DemoNight, tmp_path: Path
) -> None:
    write_reviewed_clips(tmp_path / "dataset")
    listener = DetectorSettings(on_probability=0.7, off_probability=0.45)
    settings = settings_for(
        demo_night.db, tmp_path, clips_dir=demo_night.clips_dir, detection=listener
    )
    p = page
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/rooms/demo/nights")  # type: ignore[attr-defined]
        p.click("#nav-calibrate")  # type: ignore[attr-defined]
        p.wait_for_url(f"{base}/rooms/demo/calibrate")  # type: ignore[attr-defined]
        p.wait_for_selector('#histogram[data-ready="true"] .main-svg')  # type: ignore[attr-defined]
        bars = p.evaluate(  # type: ignore[attr-defined]
            "document.getElementById('histogram').data.map(t => t.y.reduce((a, b) => a + b))"
        )
        assert bars == [5, 12]  # crying, everything else
        p.wait_for_selector("#quiet-verdict[data-ok]", state="attached")  # type: ignore[attr-defined]
        assert "(180 s stored)" in p.text_content("#quiet-facts")  # type: ignore[attr-defined]
        recommendation = p.text_content("#recommendation")  # type: ignore[attr-defined]
        assert recommendation.startswith("Recommended: on_probability 0.")
        assert "(now 0.70 and 0.45)" in recommendation
        config = p.text_content("#config-lines")  # type: ignore[attr-defined]
        assert re.fullmatch(
            r"\[listen\]\non_probability = 0\.\d\d\noff_probability = 0\.\d\d\n", config
        )
        assert p.locator("#candidates tr.candidate").count() >= 7  # type: ignore[attr-defined]
        assert p.locator("#candidates tr.recommended").count() == 1  # type: ignore[attr-defined]
        assert "other sounds a night" in p.text_content("#estimate")  # type: ignore[attr-defined]
        shot(p, "calibrate.png")

        p.click("#keep-quiet")  # type: ignore[attr-defined]  # the listener stopped: its last 30 s
        p.wait_for_selector("#quiet-countdown:has-text('latest 30 s')")  # type: ignore[attr-defined]
        p.wait_for_selector("#quiet-facts:has-text('(30 s stored)')")  # type: ignore[attr-defined]

        p.click("#nav-timeline")  # type: ignore[attr-defined]
        p.wait_for_selector('#resolution[data-resolution="minutes"]', state="attached")  # type: ignore[attr-defined]
        first, last = demo_episodes(demo_night)
        p.evaluate(  # type: ignore[attr-defined]
            "([a, b]) => Plotly.relayout('timeline', {'xaxis.range': [a, b]})",
            [local(first.start - timedelta(minutes=1)), local(last.end + timedelta(minutes=1))],
        )
        p.wait_for_selector('#resolution[data-resolution="seconds"]', state="attached")  # type: ignore[attr-defined]
        drawn = p.evaluate(THRESHOLDS_DRAWN)  # type: ignore[attr-defined]
        assert drawn == [["threshold on", 0.7], ["threshold off", 0.45]]
        shot(p, "timeline-thresholds.png")


def heard(db: Path, room: str) -> bool:
    """Whether the listener has stored a second of `room` yet."""
    if not db.exists():
        return False
    with open_store(db) as store:
        return store.latest_second(room) is not None


def feed_quiet_room(listener: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """A quiet room (white noise at -60 dBFS) into `listen --input -`, in real time: tenths
    of a second on a fixed schedule, so that a busy machine's late wake-ups do not add up."""
    rng = np.random.default_rng(8)
    assert listener.stdin is not None
    started_s = time.monotonic()
    n_chunks = 0
    while not stop.is_set():
        noise = np.clip(rng.normal(0.0, 32.8, 1_600), -32768, 32767).astype("<i2")
        listener.stdin.write(noise.tobytes())
        listener.stdin.flush()
        n_chunks += 1
        stop.wait(max(0.0, started_s + n_chunks * 0.1 - time.monotonic()))
    listener.stdin.close()


def test_keeping_the_room_quiet_measures_the_next_30_s_of_a_live_listener(
    page: object, tmp_path: Path
) -> None:
    db = tmp_path / "live.db"
    listener = subprocess.Popen(
        [*cli_command(), "listen", "--input", "-", "--room", "nursery", "--db", str(db),
         "--no-clips"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=cli_env(),
    )  # fmt: skip
    stop = threading.Event()
    feeder = threading.Thread(target=feed_quiet_room, args=(listener, stop), daemon=True)
    feeder.start()
    p = page
    try:
        deadline_s = time.monotonic() + WAIT_MS / 1000
        while not heard(db, "nursery"):
            assert time.monotonic() < deadline_s, "the listener stored nothing"
            time.sleep(0.2)
        with running_server(create_app(settings_for(db, tmp_path))) as base:
            p.goto(f"{base}/rooms/nursery/calibrate")  # type: ignore[attr-defined]
            p.wait_for_selector("#health[data-status=listening]", state="attached")  # type: ignore[attr-defined]
            p.wait_for_selector("#recommendation:has-text('review 5 more crying')")  # type: ignore[attr-defined]
            p.click("#keep-quiet")  # type: ignore[attr-defined]
            p.wait_for_selector("#quiet-countdown:has-text('Keep the room quiet')")  # type: ignore[attr-defined]
            assert p.is_disabled("#keep-quiet")  # type: ignore[attr-defined]
            p.wait_for_selector(  # type: ignore[attr-defined]
                "#quiet-countdown:has-text('Measured while')", timeout=60_000
            )
            p.wait_for_selector("#quiet-facts:has-text('(30 s stored)')")  # type: ignore[attr-defined]
            verdict = p.text_content("#quiet-verdict")  # type: ignore[attr-defined]
            assert verdict.startswith("a steady quiet room"), verdict
            assert "-60." in p.text_content("#quiet-facts")  # type: ignore[attr-defined]
            shot(p, "calibrate-quiet.png")
    finally:
        stop.set()
        feeder.join(10)
        listener.wait(30)
    assert listener.returncode == 0


def test_the_overview_shows_every_room_crying_first_on_a_phone(
    page: object, tmp_path: Path
) -> None:
    """A daycare's tablet (or a phone, 390 px): one card per room, the crying one first; a
    room not heard for days says since which day."""
    db = tmp_path / "daycare.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        store.write(seconds_heard("ladybirds", [0.05] * 90, last_at=now))
        store.write(seconds_heard("bees", [0.05] * 60 + [0.9] * 30, last_at=now))
        store.write(seconds_heard("shed", [0.05] * 5, last_at=now - timedelta(days=3)))
    p = page
    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    with running_server(create_app(settings_for(db, tmp_path))) as base:
        p.goto(f"{base}/")  # type: ignore[attr-defined]
        p.wait_for_selector(".room-card >> nth=1")  # type: ignore[attr-defined]
        cards = p.locator(".room-card")  # type: ignore[attr-defined]
        assert cards.nth(0).get_attribute("data-state") == "crying"
        assert cards.nth(0).locator(".room-name").text_content() == "bees"
        crying = cards.nth(0).locator(".room-state").text_content()
        assert re.fullmatch(r"Crying now — \d+ s, since \d\d:\d\d", crying), crying
        # the episode in progress counts tonight, though it is stored only once it ends
        tonight = cards.nth(0).locator(".room-tonight").text_content()
        assert re.fullmatch(r"tonight: 1 wake-up, \d+ s crying", tonight), tonight
        assert cards.nth(1).locator(".room-state").text_content() == "Quiet"
        assert cards.nth(1).locator(".room-tonight").text_content() == "tonight: no crying"
        heard = cards.nth(1).locator(".room-heard").text_content()
        assert re.fullmatch(r"last heard (yesterday )?\d\d:\d\d:\d\d", heard), heard  # today
        shed = p.evaluate("fetch('/api/overview').then((r) => r.json())")[2]  # type: ignore[attr-defined]
        since = as_a_parent_reads(datetime.fromisoformat(shed["now"]["since"]))
        assert cards.nth(2).locator(".room-state").text_content() == f"Not listening since {since}"
        heard = as_a_parent_reads(datetime.fromisoformat(shed["last_heard"]))
        assert cards.nth(2).locator(".room-heard").text_content() == f"last heard {heard}"
        width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert width <= 390  # no sideways scrolling on a phone
        shot(p, "overview-phone.png")
        cards.nth(0).click()
        p.wait_for_url(f"{base}/rooms/bees")  # type: ignore[attr-defined]


def test_an_episode_quiet_in_its_merge_gap_still_counts_tonight(
    page: object, tmp_path: Path
) -> None:
    """30 s of crying, then 15 s quiet: the episode is stored only once its merge gap (30 s)
    passes without crying, but the quiet room's card, its story and its episodes count it
    meanwhile (the totals never drop when the crying stops)."""
    db = tmp_path / "daycare.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        store.write(seconds_heard("bees", [0.05] * 60 + [0.9] * 30 + [0.05] * 15, last_at=now))
        store.write(seconds_heard("ladybirds", [0.05] * 100, last_at=now))
    p = page
    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    with running_server(create_app(settings_for(db, tmp_path))) as base:
        p.goto(f"{base}/")  # type: ignore[attr-defined]
        p.wait_for_selector(".room-card >> nth=1")  # type: ignore[attr-defined]
        bees = p.locator(".room-card", has_text="bees")  # type: ignore[attr-defined]
        quiet = bees.locator(".room-state").text_content()
        assert re.fullmatch(r"Quiet since \d\d:\d\d", quiet), quiet
        tonight = bees.locator(".room-tonight").text_content()
        assert re.fullmatch(r"tonight: 1 wake-up, (2\d|30) s crying", tonight), tonight
        shot(p, "overview-merge-gap-phone.png")
        bees.click()
        p.wait_for_selector("#night-story:not([hidden])")  # type: ignore[attr-defined]
        said = p.text_content("#night-said")  # type: ignore[attr-defined]
        assert re.fullmatch(r"1 wake-up so far, the last at \d\d:\d\d", said), said
        row = p.locator("#episodes tr.episode >> nth=0").text_content()  # type: ignore[attr-defined]
        assert re.search(r"(2\d|30) squiet for now$", row), row
        shot(p, "room-merge-gap-phone.png")


def test_short_episodes_keep_their_seconds_wherever_a_duration_is_shown(
    page: object, tmp_path: Path
) -> None:
    """Wake-ups of 48, 62 and 87 s read as such, not all as "1 min"; long ones in minutes."""
    db = tmp_path / "short.db"
    with open_store(db) as store:
        store.write([replace(episode("nursery", *short), clip_path=None) for short in SHORT])
    p = page
    with running_server(create_app(settings_for(db, tmp_path))) as base:
        p.goto(f"{base}/rooms/nursery?night=2026-11-24")  # type: ignore[attr-defined]
        p.wait_for_selector("#episodes tr.episode >> nth=2")  # type: ignore[attr-defined]
        cells = p.locator("#episodes tr.episode td:nth-child(2)").all_text_contents()  # type: ignore[attr-defined]
        assert cells == ["1 min 27 s", "1 min 2 s", "48 s"]
        p.wait_for_selector("#night-story:not([hidden])")  # type: ignore[attr-defined]
        said = p.text_content("#night-said")  # type: ignore[attr-defined]
        assert said.startswith("3 wake-ups, 3 min 17 s crying, the longest 1 min 27 s; ")
        seen = p.evaluate("[48.4, 599.6, 750, 7500].map(mm.duration)")  # type: ignore[attr-defined]
        assert seen == ["48 s", "10 min", "12 min", "2 h 5 min"]
        p.click("#episodes tr.episode a >> nth=0")  # type: ignore[attr-defined]
        p.wait_for_selector("#episode-facts:has-text('peak')")  # type: ignore[attr-defined]
        facts = p.text_content("#episode-facts")  # type: ignore[attr-defined]
        assert facts.startswith("1 min 27 s (21:40:00 \N{EN DASH} 21:41:27)")


def test_the_review_offers_a_parents_confusions_and_the_heading_says_what_it_was(
    page: object, demo_night: DemoNight, tmp_path: Path
) -> None:
    """Laughter, babble, cat, dog first, no label guessed; reviewed as laughter, it says so."""
    first, _ = demo_episodes(demo_night)
    (tmp_path / "dataset" / "vacuum").mkdir(parents=True)
    settings = settings_for(demo_night.db, tmp_path, clips_dir=demo_night.clips_dir)
    p = page
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/rooms/demo/episodes/{iso_utc(first.start)}")  # type: ignore[attr-defined]
        p.wait_for_selector("#other-labels option >> nth=4", state="attached")  # type: ignore[attr-defined]
        offered = p.eval_on_selector_all("#other-labels option", "os => os.map(o => o.value)")  # type: ignore[attr-defined]
        assert offered == ["laughter", "babble", "cat", "dog", "vacuum"]
        box = p.locator("#other-label")  # type: ignore[attr-defined]
        assert box.input_value() == "" and box.get_attribute("placeholder")
        p.wait_for_selector("#episode-title:has-text('Crying in demo')")  # type: ignore[attr-defined]
        p.click("#review-other")  # type: ignore[attr-defined]
        assert "Say what it was" in p.text_content("#review-message")  # type: ignore[attr-defined]
        box.fill("laughter")
        p.click("#review-other")  # type: ignore[attr-defined]
        p.wait_for_selector("#review-message:has-text('Saved')")  # type: ignore[attr-defined]
        assert p.text_content("#episode-title").startswith("Not crying (laughter) in demo, ")  # type: ignore[attr-defined]
        p.reload()  # type: ignore[attr-defined]
        p.wait_for_selector("#episode-title:has-text('Not crying (laughter) in demo')")  # type: ignore[attr-defined]
    assert list((tmp_path / "dataset" / "laughter").glob("review-demo-*.flac"))


def test_the_thresholds_table_fits_a_phone(
    page: object, demo_night: DemoNight, tmp_path: Path
) -> None:
    """At 390 px every column of the thresholds shows: neither the page nor the table scrolls
    sideways."""
    write_reviewed_clips(tmp_path / "dataset")
    settings = settings_for(demo_night.db, tmp_path, clips_dir=demo_night.clips_dir)
    p = page
    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    with running_server(create_app(settings)) as base:
        p.goto(f"{base}/rooms/demo/calibrate")  # type: ignore[attr-defined]
        p.wait_for_selector("#candidates tr.recommended")  # type: ignore[attr-defined]
        for scroller in ("document.documentElement", "document.getElementById('candidates')"):
            widths = p.evaluate(f"[{scroller}.scrollWidth, {scroller}.clientWidth]")  # type: ignore[attr-defined]
            assert widths[0] <= widths[1], f"{scroller} scrolls sideways: {widths}"
        shot(p, "calibrate-phone.png")
