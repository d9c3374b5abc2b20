"""The dashboard's API and pages, in process, over real SQLite stores: a synthetic store of
three nights and two rooms with exact expectations, and the real listener's demo night."""

from __future__ import annotations

import html
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from conftest import DemoNight
from miserymeter.detect.replay import A_BREATH_S
from miserymeter.detect.settings import DetectorSettings
from miserymeter.events import events_from
from miserymeter.listener_status import started_message
from miserymeter.nights import night_of
from miserymeter.records import Episode, ListenerEvent, ListenerStatus, MinuteSummary
from miserymeter.rooms import room_slug
from miserymeter.store import StoredRecord, open_store
from miserymeter.store.outbox import OutboxEntry
from miserymeter.web import create_app
from store_records import episode, minute_of_records, seconds_heard
from web_helpers import LOCAL, ZONE, csrf_token, settings_for

# 20:00 in UTC+1 on the evening of each night; 30 minutes of records a night.
EVENINGS = [datetime(2026, 11, d, 19, 0, tzinfo=UTC) for d in (22, 23, 24)]
N_MINUTES = 30


def night_records(room: str, evening: datetime, *, rng: np.random.Generator) -> list[StoredRecord]:
    records: list[StoredRecord] = []
    for minute in range(N_MINUTES):
        records += minute_of_records(room, minute, rng=rng, start=evening)
    return records


def shifted(found: Episode, start: datetime) -> Episode:
    return replace(found, start=start, end=start + timedelta(seconds=found.duration_s))


# The nursery's last night: wake-ups at 20:10, 20:20 and 06:00 local, 240 s of crying.
LAST_NIGHT_EPISODES = [
    shifted(
        episode("nursery", 0.0, 90.0), EVENINGS[2] + timedelta(minutes=10, microseconds=250_123)
    ),
    shifted(episode("nursery", 0.0, 30.0), EVENINGS[2] + timedelta(minutes=20)),
    shifted(episode("nursery", 0.0, 120.0), datetime(2026, 11, 25, 5, 0, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("synthetic") / "store.db"
    rng = np.random.default_rng(3)
    with open_store(db) as store:
        for room in ("nursery", "attic"):
            for evening in EVENINGS:
                store.write(night_records(room, evening, rng=rng))
        store.write(LAST_NIGHT_EPISODES)
        store.write([shifted(episode("attic", 0.0, 60.0), EVENINGS[0] + timedelta(minutes=5))])
    return db


@pytest.fixture
def client(synthetic_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(synthetic_db, tmp_path)), base_url=LOCAL) as opened:
        yield opened


@pytest.fixture
def demo(demo_night: DemoNight, tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for(demo_night.db, tmp_path, clips_dir=demo_night.clips_dir)
    with TestClient(create_app(settings), base_url=LOCAL) as opened:
        yield opened


def test_a_night_is_drawn_by_the_minute_and_a_zoom_by_the_second(client: TestClient) -> None:
    night = client.get("/api/rooms/nursery/timeline?night=2026-11-24").json()
    assert night["resolution"] == "minutes" and len(night["times"]) == N_MINUTES
    assert night["since"] == "2026-11-24T12:00:00.000" and night["times"][0].startswith(
        "2026-11-24T20:00:00"
    )
    assert [e["start"][11:16] for e in night["episodes"]] == ["20:10", "20:20", "06:00"]
    defaults = DetectorSettings()
    assert night["thresholds"] == {"on": defaults.on_probability, "off": defaults.off_probability}
    zoom = client.get(
        "/api/rooms/nursery/timeline?since=2026-11-24T20:05:00&until=2026-11-24T20:15:00"
    ).json()
    assert zoom["resolution"] == "seconds" and len(zoom["times"]) == 600
    assert [e["start"][11:16] for e in zoom["episodes"]] == ["20:10"]
    gated = [p for p in zoom["crying_probability"] if p is None]
    assert gated and len(gated) < 600  # quiet seconds the gate skipped stay gaps


def test_a_range_of_nights_is_drawn_by_the_hour(client: TestClient) -> None:
    nights = client.get(
        "/api/rooms/nursery/timeline?since=2026-11-22T12:00&until=2026-11-25T12:00"
    ).json()
    assert nights["resolution"] == "hours"
    assert nights["times"] == [f"2026-11-{d}T20:00:00.000" for d in (22, 23, 24)]
    assert all(
        m <= top for m, top in zip(nights["level_dbfs"], nights["level_max_dbfs"], strict=True)
    )
    assert len(nights["episodes"]) == 3


def test_what_no_listener_heard_comes_as_gaps_and_crying_as_seconds(client: TestClient) -> None:
    night = client.get("/api/rooms/nursery/timeline?night=2026-11-24").json()
    assert night["gaps"] == [
        {"start": "2026-11-24T12:00:00.000", "end": "2026-11-24T20:00:00.000"},
        {"start": "2026-11-24T20:30:00.000", "end": "2026-11-25T12:00:00.000"},
    ]
    assert "crying_probability" not in night  # a share is not drawn against per-second thresholds
    heard = client.get(
        "/api/rooms/nursery/timeline?since=2026-11-24T20:00:00&until=2026-11-24T20:30:00"
    ).json()
    crying = [p for p in heard["crying_probability"] if (p or 0.0) >= 0.5]
    assert sum(night["crying_s"]) == len(crying) and max(night["crying_s"]) <= 60
    assert heard["gaps"] == []
    nights = client.get(
        "/api/rooms/nursery/timeline?since=2026-11-22T12:00&until=2026-11-25T12:00"
    ).json()
    ends = ["22T12:00", "22T20:30", "23T20:30", "24T20:30"]
    starts = ["22T20:00", "23T20:00", "24T20:00", "25T12:00"]
    assert nights["gaps"] == [
        {"start": f"2026-11-{a}:00.000", "end": f"2026-11-{b}:00.000"}
        for a, b in zip(ends, starts, strict=True)
    ]
    assert len(nights["crying_s"]) == 3


def test_a_night_heard_for_minutes_in_part_counts_their_seconds(tmp_path: Path) -> None:
    """A 2-minute recording over three clock minutes (19 s, 60 s, 41 s): heard 2 min, not 3."""
    db = tmp_path / "short.db"
    rng = np.random.default_rng(2)
    with open_store(db) as store:
        for minute, n_seconds in enumerate((19, 60, 41)):
            *seconds, summary = minute_of_records("nursery", minute, rng=rng)
            assert isinstance(summary, MinuteSummary)
            store.write([*seconds[:n_seconds], replace(summary, n_seconds=n_seconds)])
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        (night,) = client.get("/api/rooms/nursery/nights?last=2026-11-24&n=1").json()
        assert night["listened_s"] == 120
        timeline = client.get("/api/rooms/nursery/timeline?night=2026-11-24").json()
        assert timeline["resolution"] == "minutes" and timeline["heard_s"] == 120


def test_the_nightly_report_and_the_last_nights(client: TestClient) -> None:
    report = client.get("/api/rooms/nursery/nights/2026-11-24").json()
    assert {k: v for k, v in report.items() if k != "episodes"} == {
        "night": "2026-11-24",
        "n_episodes": 3,
        "crying_s": 240.0,
        "longest_s": 120.0,
        "first_wake": "20:10",
        "last_wake": "06:00",
        "listened_s": 1800,
    }
    nights = client.get("/api/rooms/nursery/nights?last=2026-11-25&n=30").json()
    assert len(nights) == 30 and nights[-1]["night"] == "2026-11-25"
    assert [n["n_episodes"] for n in nights[-4:]] == [0, 0, 3, 0]
    assert [n["listened_s"] for n in nights[-4:]] == [1800, 1800, 1800, 0]
    attic = client.get("/api/rooms/attic/nights?last=2026-11-24&n=3").json()
    assert [n["n_episodes"] for n in attic] == [1, 0, 0]


def test_rooms_pages_and_the_episode_page_of_an_event_link(client: TestClient) -> None:
    assert client.get("/api/rooms").json() == ["attic", "nursery"]
    home = client.get("/", follow_redirects=False)  # two rooms: the overview of both
    assert home.status_code == 200 and "/static/overview.js" in home.text
    overview = client.get("/api/overview").json()
    assert [r["room"] for r in overview] == ["attic", "nursery"]  # none cries: by name
    assert all(client.get(r["url"]).status_code == 200 for r in overview)
    assert {r["now"]["state"] for r in overview} == {"not listening"}  # long ago
    assert [r["tonight"]["night"] for r in overview] == [overview[0]["tonight"]["night"]] * 2
    for page in ("/rooms/nursery", "/rooms/nursery/nights"):
        answer = client.get(page)
        assert answer.status_code == 200 and "/static/plotly.min.js" in answer.text
    url = client.get("/api/rooms/nursery/episodes?night=2026-11-24").json()[0]["url"]
    assert url == "/rooms/nursery/episodes/2026-11-24T19:10:00.250Z"  # delivery's episode_url
    assert client.get(url).status_code == 200
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000


def test_health_tells_listening_from_a_silent_microphone_and_offline(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        store.write(
            minute_of_records(
                "live", 0, rng=np.random.default_rng(1), start=now - timedelta(seconds=59)
            )
        )
        store.write(
            minute_of_records(
                "gone", 0, rng=np.random.default_rng(1), start=now - timedelta(hours=1)
            )
        )
        store.write(
            minute_of_records(
                "mute", 0, rng=np.random.default_rng(1), start=now - timedelta(seconds=59)
            )
        )
        store.write([ListenerEvent("mute", now - timedelta(seconds=2), "microphone_lost", "gone")])
        restarted = [  # a listener stopped, then started again in the same night
            ListenerEvent("live", now - timedelta(seconds=40), "stopped", "stopped after 19 s"),
            ListenerEvent("live", now - timedelta(seconds=35), "started", "listening to -"),
        ]
        store.write(restarted)
        store.write(
            [
                ListenerStatus("live", now - timedelta(days=2), 60.0, 50.0, 100),  # not tonight
                ListenerStatus("live", now - timedelta(seconds=20), 60.0, 3.04, 4),
                ListenerStatus("live", now - timedelta(seconds=10), 10.0, 2.51, 1),
            ]
        )
        started = ListenerEvent("live", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "started", "")
        store.write([], outbox=[OutboxEntry("notify", e) for e in events_from([started])])
        (entry,) = store.pending("notify", room="live")
        store.failed(entry.seq, "ntfy.sh: HTTP 503")
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        status = {r: client.get(f"/api/rooms/{r}/health").json() for r in ("live", "gone", "mute")}
    assert status["live"]["undelivered"] == [
        {
            "destination": "notify",
            "waiting": 1,
            "refused": 0,
            "since": "2026-11-25T02:00:00+01:00",  # in the dashboard's zone
            "last_error": "ntfy.sh: HTTP 503",
        }
    ]
    assert status["gone"]["undelivered"] == []
    assert status["live"]["status"] == "listening" and status["live"]["last_heard_age_s"] < 30
    # ... though its last run stopped tonight: the one after it is listening
    assert status["live"]["listener_cpu_percent"] == 2.5  # the latest, % of one core
    assert status["live"]["listener_replaying"] is False
    assert status["gone"]["listener_replaying"] is False  # no status tonight
    assert status["live"]["dropped_windows_tonight"] == 5
    assert status["gone"]["listener_cpu_percent"] is None
    assert status["gone"]["dropped_windows_tonight"] == 0
    assert status["gone"]["status"] == "offline"
    assert status["mute"]["status"] == "microphone silent"


def test_a_replays_cpu_is_told_apart_from_a_live_listeners(
    demo: TestClient, tmp_path: Path
) -> None:
    """`listen --input night.flac` reads the file as fast as the CPU allows: a whole core, which
    the health says was a replay; a live run started after it is a live run again."""
    replay = demo.get("/api/rooms/demo/health").json()  # the real listener replayed a file
    assert replay["listener_replaying"] is True and replay["listener_cpu_percent"] > 0
    db = tmp_path / "runs.db"
    now = datetime.now(UTC)
    from_file = started_message("night.flac", "attic", is_live=False)
    from_mic = started_message("the default microphone", "attic", is_live=True)
    replayed: list[StoredRecord] = [
        ListenerEvent("attic", now - timedelta(seconds=50), "started", from_file),
        ListenerStatus("attic", now - timedelta(seconds=48), 2.0, 97.3, 0),
        ListenerEvent("attic", now - timedelta(seconds=48), "stopped", "stopped after 180 s"),
    ]
    live: list[StoredRecord] = [
        ListenerEvent("attic", now - timedelta(seconds=40), "started", from_mic),
        ListenerStatus("attic", now - timedelta(seconds=10), 30.0, 2.1, 0),
    ]
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        for records, replaying, cpu_percent in ((replayed, True, 97.3), (live, False, 2.1)):
            with open_store(db) as store:
                store.write(records)
            health = client.get("/api/rooms/attic/health").json()
            assert health["listener_cpu_percent"] == cpu_percent
            assert health["listener_replaying"] is replaying


def test_now_says_crying_since_when_quiet_since_when_or_not_listening(tmp_path: Path) -> None:
    db = tmp_path / "now.db"
    now = datetime.now(UTC).replace(microsecond=0)
    quiet, crying = [0.05] * 60, [0.9] * 25
    pause_s = int(A_BREATH_S) + 5  # longer than a breath, inside the merge gap
    with open_store(db) as store:
        store.write(seconds_heard("crying", quiet + crying, last_at=now))
        store.write(
            seconds_heard("paused", quiet + crying + [0.05] * pause_s, last_at=now)
        )  # in the gap
        store.write(seconds_heard("calm", quiet, last_at=now))
        store.write([Episode("calm", now - timedelta(minutes=30), now - timedelta(minutes=28),
                             0.0, 120.0, 3.0, 0.9, 0.7, "model")])  # fmt: skip
        store.write(seconds_heard("gone", quiet, last_at=now - timedelta(hours=2)))
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        said = {
            r: client.get(f"/api/rooms/{r}/now").json()
            for r in ("crying", "paused", "calm", "gone")
        }
    since = {r: datetime.fromisoformat(s["since"]) for r, s in said.items()}
    assert said["crying"]["state"] == "crying"
    assert abs(since["crying"] - (now - timedelta(seconds=24))) <= timedelta(seconds=2)
    assert 22 <= said["crying"]["for_s"] <= 60
    assert said["crying"]["open_episode"]["start"] == said["crying"]["since"]
    assert said["paused"]["state"] == "quiet"  # the episode may yet go on, but no one cries
    assert abs(since["paused"] - (now - timedelta(seconds=pause_s))) <= timedelta(seconds=3)
    # ... and it counts tonight: stored only once its merge gap has passed without crying
    paused = said["paused"]["open_episode"]
    assert paused is not None and 22 <= paused["crying_s"] <= 27, paused
    started = datetime.fromisoformat(paused["start"])
    assert abs(started - (now - timedelta(seconds=pause_s + 24))) <= timedelta(seconds=3)
    assert said["calm"] == {
        "state": "quiet",
        "since": (now - timedelta(minutes=28)).astimezone(since["calm"].tzinfo).isoformat(),
        "for_s": said["calm"]["for_s"],
        "open_episode": None,
    }
    assert said["gone"]["state"] == "not listening"
    assert since["gone"] == now - timedelta(hours=2)


def daycare(db: Path, n_rooms: int, *, now: datetime) -> None:
    """`n_rooms` rooms heard for a minute and a half: of every three, one cries now, one is
    quiet since an episode 28 minutes ago, and one went offline two hours ago."""
    with open_store(db) as store:
        for k in range(n_rooms):
            room, last_at = f"room-{k:02d}", now - timedelta(hours=2) * (k % 3 == 2)
            store.write(seconds_heard(room, [0.05] * 60 + [0.9 * (k % 3 == 0)] * 25,
                                      last_at=last_at))  # fmt: skip
            store.write([shifted(episode(room, 0.0, 120.0), now - timedelta(minutes=30))])


def overview_and_statements(db: Path, tmp_path: Path) -> tuple[list[dict], int]:
    """The overview of `db`, and how many SQL statements it took (on one connection)."""
    statements: list[str] = []
    checkouts: list[object] = []

    def count(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def checkout(connection: object, *_: object) -> None:
        checkouts.append(connection)

    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        event.listen(Engine, "before_cursor_execute", count)
        event.listen(Pool, "checkout", checkout)
        try:
            overview = client.get("/api/overview").json()
        finally:
            event.remove(Engine, "before_cursor_execute", count)
            event.remove(Pool, "checkout", checkout)
    assert len(checkouts) == 1  # its questions share one connection's round trips
    return overview, len(statements)


def test_the_overview_takes_as_many_queries_for_twelve_rooms_as_for_three(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for n_rooms in (3, 12):
        daycare(tmp_path / str(n_rooms) / "store.db", n_rooms, now=now)
    few, n_few = overview_and_statements(tmp_path / "3" / "store.db", tmp_path / "3")
    many, n_many = overview_and_statements(tmp_path / "12" / "store.db", tmp_path / "12")
    assert n_few == n_many <= 16  # BEGINs and ROLLBACKs included
    assert [r["room"] for r in many[:4]] == ["room-00", "room-03", "room-06", "room-09"]
    by_room = {r["room"]: r for r in many}
    assert [by_room[f"room-{k:02d}"]["now"]["state"] for k in range(3)] == [
        "crying",
        "quiet",
        "not listening",
    ]
    assert by_room["room-01"]["now"]["since"] == (now - timedelta(minutes=28)).astimezone(
        ZONE
    ).isoformat(timespec="seconds")
    tonight = night_of(now - timedelta(minutes=30), zone=ZONE) == night_of(now, zone=ZONE)
    assert {r["tonight"]["n_episodes"] for r in many} == {int(tonight)}

    def timeless(rooms: list[dict]) -> list[dict]:
        return [{**r, "now": {**r["now"], "for_s": None}} for r in rooms]

    assert timeless(few) == timeless([r for r in many if int(r["room"][-2:]) < 3])


def demo_episodes(client: TestClient) -> list[dict]:
    """The demo night's episodes (the listener gave them today's times)."""
    last_heard = datetime.fromisoformat(client.get("/api/rooms/demo/health").json()["last_heard"])
    span = {"since": (last_heard - timedelta(hours=1)).isoformat(), "until": last_heard.isoformat()}
    return list(client.get("/api/rooms/demo/episodes", params=span).json())


def test_an_episode_plays_and_shows_its_spectrogram(
    demo: TestClient, demo_night: DemoNight
) -> None:
    episodes = demo_episodes(demo)
    assert len(episodes) == 2 and all(e["has_audio"] for e in episodes)
    base = f"/api/rooms/demo/episodes/{episodes[0]['id']}"
    audio = demo.get(f"{base}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/flac"
    first_clip = sorted(demo_night.clips_dir.rglob("*.flac"))[0]
    assert audio.content == first_clip.read_bytes()
    spectrogram = demo.get(f"{base}/spectrogram").json()
    n_frames = len(spectrogram["times_s"])
    assert 100 < n_frames <= 400 and spectrogram["freqs_hz"][-1] == 8000.0
    assert np.asarray(spectrogram["power_db"]).shape == (len(spectrogram["freqs_hz"]), n_frames)


def test_a_review_writes_the_crying_part_into_the_dataset_once(
    demo: TestClient, tmp_path: Path
) -> None:
    first, second = demo_episodes(demo)
    token = csrf_token(demo, "/rooms/demo")
    url = f"/api/rooms/demo/episodes/{first['id']}/review"
    written = demo.post(url, json={"label": "crying"}, headers={"X-CSRF-Token": token})
    assert written.status_code == 201, written.text
    files = sorted(Path(f) for f in written.json()["files"])
    assert {f.parent for f in files} == {tmp_path / "dataset" / "crying"}
    stems = {f.name.split("_nohash_")[0] for f in files}
    assert len(stems) == 1  # one recording, one stem: one training split
    clips = [sf.read(f) for f in files]
    assert all(rate == 16_000 and samples.ndim == 1 for samples, rate in clips)
    assert all(len(samples) == 32_000 for samples, _ in clips)  # the model's 2 s windows
    covered_s = (len(files) - 1) * 2.0 + 2.0
    assert first["duration_s"] <= covered_s < first["duration_s"] + 2.0
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    again = demo.post(url, json={"label": "music"}, headers={"X-CSRF-Token": token})
    assert again.status_code == 409 and "already reviewed as 'crying'" in again.json()["error"]
    assert demo.get(f"/api/rooms/demo/episodes/{first['id']}").json()["reviewed_as"] == "crying"
    other = demo.post(
        f"/api/rooms/demo/episodes/{second['id']}/review",
        json={"label": "music"},
        headers={"X-CSRF-Token": token},
    )
    assert other.status_code == 201
    (tmp_path / "dataset" / "cat").mkdir()
    (tmp_path / "dataset" / ".cache").mkdir()  # hidden: not a label
    reviews = demo.get("/api/reviews").json()
    assert reviews["waiting"] == len(files) + len(other.json()["files"])
    assert reviews["other_labels"][:4] == ["laughter", "babble", "cat", "dog"]
    assert "music" in reviews["other_labels"] and "crying" not in reviews["other_labels"]
    assert "cat" in reviews["other_labels"] and ".cache" not in reviews["other_labels"]


def test_a_review_is_undone_by_its_own_files_only_and_given_again(
    demo: TestClient, tmp_path: Path
) -> None:
    """A mis-tap: reviewed as laughter, undone, reviewed as crying. The undo removes the
    review's clips and nothing else: not a look-alike, not another episode's, not a file a
    symlinked folder leads to outside the dataset."""
    first, second = demo_episodes(demo)
    headers = {"X-CSRF-Token": csrf_token(demo, "/rooms/demo")}
    url = f"/api/rooms/demo/episodes/{first['id']}/review"
    never = demo.delete(url, headers=headers)
    assert never.status_code == 404 and "not been reviewed" in never.json()["error"]
    (tmp_path / "dataset" / "laughter").mkdir(parents=True)
    laughed = demo.post(url, json={"label": "Laughter"}, headers=headers).json()
    assert laughed["label"] == "laughter"  # the folder there is, whatever the case typed
    laughter = laughed["files"]
    assert {Path(f).parent.name for f in laughter} == {"laughter"}
    kept = demo.post(
        url.replace(first["id"], second["id"]), json={"label": "crying"}, headers=headers
    )
    calibration = demo.get("/api/rooms/demo/calibration").json()
    assert (calibration["n_crying"], calibration["n_other"]) == (1, 1)  # an episode each
    assert (calibration["n_crying_clips"], calibration["n_other_clips"]) == (
        len(kept.json()["files"]),
        len(laughter),
    )
    dataset = tmp_path / "dataset"
    stem = Path(laughter[0]).name.split("_nohash_")[0]
    lookalike = dataset / "laughter" / f"{stem}_nohash_mine.flac"
    lookalike.write_bytes(b"a parent's own file")
    outside = tmp_path / "outside" / f"{stem}_nohash_00000000ms.flac"
    outside.parent.mkdir()
    outside.write_bytes(b"not the dataset's")
    (dataset / "elsewhere").symlink_to(outside.parent)
    assert demo.delete(url).status_code == 403  # no CSRF token, as for a review
    assert demo.delete(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert all(Path(f).exists() for f in laughter)
    waiting = demo.get("/api/reviews").json()["waiting"]
    undone = demo.delete(url, headers=headers)
    assert undone.status_code == 200, undone.text
    assert undone.json() == {"label": "laughter", "files": laughter}
    assert not any(Path(f).exists() for f in laughter)
    assert lookalike.exists() and outside.exists()
    assert all(Path(f).exists() for f in kept.json()["files"])
    assert demo.get(url.removesuffix("/review")).json()["reviewed_as"] is None
    assert demo.get("/api/reviews").json()["waiting"] == waiting - len(laughter)
    crying = demo.post(url, json={"label": "crying"}, headers=headers)
    assert crying.status_code == 201, crying.text
    assert {Path(f).parent for f in crying.json()["files"]} == {dataset / "crying"}
    assert not list((dataset / "laughter").glob(f"{stem}_nohash_*ms.flac"))
    assert demo.get(url.removesuffix("/review")).json()["reviewed_as"] == "crying"
    lookalike.unlink()
    (dataset / "elsewhere").unlink()
    n_crying = len(kept.json()["files"]) + len(crying.json()["files"])
    calibration = demo.get("/api/rooms/demo/calibration").json()
    assert (calibration["n_crying"], calibration["n_other"]) == (2, 0)
    assert calibration["n_crying_clips"] == n_crying
    assert [e["reviewed_as"] for e in demo_episodes(demo)] == ["crying", "crying"]  # the list's
    tricked = demo.delete("/api/rooms/demo/episodes/..%2F..%2Fetc/review", headers=headers)
    assert tricked.status_code == 400 and outside.exists()


def test_changes_need_the_csrf_token_and_a_folder_name_label(demo: TestClient) -> None:
    first, _ = demo_episodes(demo)
    url = f"/api/rooms/demo/episodes/{first['id']}/review"
    assert demo.post(url, json={"label": "crying"}).status_code == 403
    wrong = demo.post(url, json={"label": "crying"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["error"]
    token = csrf_token(demo, "/rooms/demo")
    for label in ("../crying", "", "a/b", "_background_noise_", ".hidden"):
        bad = demo.post(url, json={"label": label}, headers={"X-CSRF-Token": token})
        assert bad.status_code == 400, label
    assert (
        demo.post(url, content=b"label=crying", headers={"X-CSRF-Token": token}).status_code == 400
    )


def test_audio_comes_only_from_the_clip_folder(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    secret = tmp_path / "secret.flac"
    sf.write(secret, np.zeros(16_000, dtype=np.float32), 16_000)
    escaping = replace(episode("nursery", 0.0, 30.0), clip_path="../secret.flac")
    with open_store(db) as store:
        store.write([escaping])
    (tmp_path / "clips").mkdir()
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        base = "/api/rooms/nursery/episodes/2026-11-24T19:00:00.250Z"
        assert client.get(base).status_code == 200
        for suffix in ("/audio", "/spectrogram"):
            answer = client.get(base + suffix)
            assert answer.status_code == 404 and "clip folder" in answer.json()["error"]


def test_new_databases_and_episode_clips_are_the_owners_only(demo_night: DemoNight) -> None:
    assert stat.S_IMODE(demo_night.db.stat().st_mode) == 0o600
    assert stat.S_IMODE(demo_night.clips_dir.stat().st_mode) == 0o700
    for path in demo_night.clips_dir.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


# the last two: letters without an ASCII spelling, as long as each other, crying at one time
ODD_ROOMS = ["Room 2/B", "Chambre de Léa", "100% cotton", "Гномики", "Зайчики"]


def odd_rooms_db(tmp_path: Path) -> Path:
    """A store of ODD_ROOMS' last night, each with an episode and its audio."""
    db = tmp_path / "store.db"
    (tmp_path / "clips").mkdir()
    rng = np.random.default_rng(5)
    with open_store(db) as store:
        for room in ODD_ROOMS:
            store.write(night_records(room, EVENINGS[2], rng=rng))
            found = shifted(episode(room, 0.0, 30.0), EVENINGS[2] + timedelta(minutes=10))
            clip_path = f"{room_slug(room)}.flac"
            sf.write(tmp_path / "clips" / clip_path, np.zeros(40 * 16_000), 16_000)
            store.write([replace(found, clip_path=clip_path)])
    return db


def test_room_names_with_slashes_spaces_and_accents_work_everywhere(tmp_path: Path) -> None:
    with TestClient(
        create_app(settings_for(odd_rooms_db(tmp_path), tmp_path)), base_url=LOCAL
    ) as client:
        assert client.get("/api/rooms").json() == sorted(ODD_ROOMS)
        token = csrf_token(client, "/login")
        for room in ODD_ROOMS:
            base = f"/rooms/{quote(room, safe='')}"
            for page in (base, f"{base}/nights", f"{base}/level", f"{base}/calibrate"):
                answer = client.get(page)
                assert answer.status_code == 200, (page, answer.text)
                assert f'data-room="{html.escape(room)}"' in answer.text
            apis = ("timeline?night=2026-11-24", "nights?n=3", "nights/2026-11-24", "health")
            for api in (*apis, "level", "live?after=2026-11-24T12:00", "quiet", "calibration"):
                answer = client.get(f"/api{base}/{api}")
                assert answer.status_code == 200, (api, answer.text)
            (found,) = client.get(f"/api{base}/episodes?night=2026-11-24").json()
            assert found["room"] == room and found["url"].startswith(f"{base}/episodes/")
            assert client.get(found["url"]).status_code == 200  # the link events carry
            for part in ("", "/audio", "/spectrogram"):
                answer = client.get(f"/api{found['url']}{part}")
                assert answer.status_code == 200, (part, answer.text)
            reviewed = client.post(
                f"/api{found['url']}/review",
                json={"label": "crying"},
                headers={"X-CSRF-Token": token},
            )
            assert reviewed.status_code == 201, reviewed.text  # not another room's review
            assert client.get(f"/api{found['url']}").json()["reviewed_as"] == "crying"
        urls = [r["url"] for r in client.get("/api/overview").json()]
        assert sorted(urls) == sorted(f"/rooms/{quote(room, safe='')}" for room in ODD_ROOMS)
        assert all(client.get(url).status_code == 200 for url in urls)
        assert client.get("/api/rooms/Room%202/B/health").status_code == 404  # two segments


def test_an_episode_reviewed_under_its_earlier_name_shows_its_label_and_can_be_undone(
    tmp_path: Path,
) -> None:
    """Reviews were named by the room with its other letters as '-' before 2026-12-07."""
    with TestClient(
        create_app(settings_for(odd_rooms_db(tmp_path), tmp_path)), base_url=LOCAL
    ) as client:
        base = f"/rooms/{quote('Chambre de Léa', safe='')}"
        (found,) = client.get(f"/api{base}/episodes?night=2026-11-24").json()
        start = datetime.fromisoformat(found["id"].replace("Z", "+00:00"))
        earlier = f"review-Chambre-de-L-a-{start:%Y%m%dT%H%M%SZ}_nohash_00000000ms.flac"
        (tmp_path / "dataset" / "cat").mkdir(parents=True)
        sf.write(tmp_path / "dataset" / "cat" / earlier, np.zeros(32_000), 16_000)
        assert client.get(f"/api{found['url']}").json()["reviewed_as"] == "cat"
        listed = client.get(f"/api{base}/episodes?night=2026-11-24").json()
        assert [e["reviewed_as"] for e in listed] == ["cat"]
        token = csrf_token(client, "/login")
        undone = client.delete(f"/api{found['url']}/review", headers={"X-CSRF-Token": token})
        assert undone.status_code == 200, undone.text
        assert not (tmp_path / "dataset" / "cat" / earlier).exists()


def test_a_live_page_gets_the_seconds_after_its_last_one(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    now = datetime.now(UTC)
    start = now - timedelta(minutes=15)  # with microseconds, as stored times have them
    with open_store(db) as store:
        for minute in range(15):
            store.write(
                minute_of_records("live", minute, rng=np.random.default_rng(1), start=start)
            )
        store.write([shifted(episode("live", 0.0, 20.0), now - timedelta(minutes=2))])
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        asked = datetime.now(UTC)
        everything = client.get("/api/rooms/live/live?after=2026-01-01T00:00Z").json()
        answered = datetime.now(UTC)
        stored_at = [start + timedelta(seconds=k) for k in range(15 * 60)]

        def last_ten_minutes(now: datetime) -> int:
            return sum(at >= now - timedelta(minutes=10) for at in stored_at)

        # The last 10 minutes before the server's now, which lies between asked and answered
        # (however long writing the store took on a busy machine).
        n_times = len(everything["times"])
        assert last_ten_minutes(answered) <= n_times <= last_ten_minutes(asked)
        assert n_times > 500
        shown = everything["times"][-5]  # as the page has it: local, to the millisecond
        fresh = client.get("/api/rooms/live/live", params={"after": shown}).json()
        assert fresh["times"] == everything["times"][-4:]
        assert fresh["level_dbfs"] == everything["level_dbfs"][-4:]
        assert fresh["episodes"] == []  # it ended before
        before = client.get("/api/rooms/live/live", params={"after": everything["times"][-200]})
        (ended,) = before.json()["episodes"]
        assert ended["duration_s"] == 20.0 and ended["url"].startswith("/rooms/live/episodes/")
        assert client.get("/api/rooms/live/live").status_code == 400
        # An episode that ended 20 s before the page's last second, stored now (a merge gap
        # after its end): the live page still gets it.
        with open_store(db) as store:
            store.write([shifted(episode("live", 0.0, 10.0), now - timedelta(seconds=30))])
        late = client.get("/api/rooms/live/live", params={"after": shown}).json()["episodes"]
        assert [e["duration_s"] for e in late] == [10.0]


def test_a_live_page_learns_when_nobody_listens(tmp_path: Path) -> None:
    """/live's gaps: more than 30 s without a second, or a stopped listener's silence at once
    (from its last second to now); none while a listener stores its seconds."""
    db = tmp_path / "gaps.db"
    now = datetime.now(UTC).replace(microsecond=0)
    with open_store(db) as store:
        store.write(seconds_heard("live", [0.05] * 20, last_at=now - timedelta(seconds=2)))
        store.write(seconds_heard("quiet", [0.05] * 20, last_at=now - timedelta(seconds=50)))
        store.write(seconds_heard("stopped", [0.05] * 20, last_at=now - timedelta(seconds=5)))
        store.write([ListenerEvent("stopped", now - timedelta(seconds=4), "stopped", "stopped")])
    after = (now - timedelta(seconds=25)).astimezone(ZONE).replace(tzinfo=None).isoformat()

    def gap_starts(web: TestClient, room: str) -> list[datetime]:
        live = web.get(f"/api/rooms/{room}/live", params={"after": after}).json()
        assert all(g["end"] == live["now"] for g in live["gaps"])  # open: up to now
        return [datetime.fromisoformat(g["start"]).replace(tzinfo=ZONE) for g in live["gaps"]]

    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as web:
        assert gap_starts(web, "live") == []
        assert gap_starts(web, "quiet") == [now - timedelta(seconds=49)]  # its last second's end
        assert gap_starts(web, "stopped") == [now - timedelta(seconds=4)]
