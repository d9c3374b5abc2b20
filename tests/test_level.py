"""Test the microphone: the listener's level meter, the verdict `devices --test` shares with the
dashboard, and the level API over the listener's meter or a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from miserymeter.capture.level_check import judge_level, level_verdict
from miserymeter.frontend.level_meter import LevelMeter
from miserymeter.frontend.loudness import FLOOR_DBFS, band_dbfs, rms_dbfs
from miserymeter.records import SecondRecord
from miserymeter.store import open_store
from miserymeter.web import create_app
from miserymeter.web.level import LiveLevel
from web_helpers import LOCAL, settings_for

RATE_HZ = 16_000


def tone(amplitude: float, duration_s: float) -> np.ndarray:
    t_s = np.arange(round(duration_s * RATE_HZ)) / RATE_HZ
    return (amplitude * np.sin(2 * np.pi * 440.0 * t_s)).astype(np.float32)


def test_the_meter_reads_each_quarter_second_of_blocks_of_any_size() -> None:
    meter = LevelMeter(clock=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    assert meter.latest is None
    samples = tone(0.5, 0.2)
    for first in range(0, len(samples), 160):  # 0.2 s: not a whole window yet
        meter.add(samples[first : first + 160], sample_rate_hz=RATE_HZ, floor_dbfs=-60.0)
    assert meter.latest is None
    meter.add(tone(0.5, 0.05), sample_rate_hz=RATE_HZ, floor_dbfs=-61.0)
    reading = meter.latest
    assert reading is not None and not reading.is_flat and reading.floor_dbfs == -61.0
    assert reading.rms_dbfs == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    assert reading.peak_dbfs == pytest.approx(20 * np.log10(0.5), abs=0.05)
    meter.add(np.zeros(RATE_HZ // 4, np.float32), sample_rate_hz=RATE_HZ, floor_dbfs=None)
    silent = meter.latest
    assert silent is not None and silent.is_flat and silent.rms_dbfs == FLOOR_DBFS


@pytest.mark.parametrize(
    ("level_dbfs", "peak_dbfs", "is_flat", "ok", "starts"),
    [
        (-40.0, -20.0, False, True, "good"),
        (-40.0, None, False, True, "good"),
        (-75.0, -60.0, False, False, "too quiet"),
        (-12.0, 0.0, False, False, "clipping"),
        (-2.0, None, False, False, "clipping"),  # the store keeps no peaks
        (FLOOR_DBFS, FLOOR_DBFS, True, False, "flat digital silence"),
    ],
)
def test_one_verdict_for_devices_test_and_the_dashboard(
    level_dbfs: float, peak_dbfs: float | None, is_flat: bool, ok: bool, starts: str
) -> None:
    assert level_verdict(level_dbfs, peak_dbfs, is_flat=is_flat)[0] == ok
    assert level_verdict(level_dbfs, peak_dbfs, is_flat=is_flat)[1].startswith(starts)


def test_devices_test_judges_a_recording_with_it() -> None:
    recording = (tone(0.25, 1.0) * 32767).astype(np.int16)[:, None]
    check = judge_level(recording, sample_rate_hz=RATE_HZ)
    assert check.ok and "the microphone works" in check.verdict
    clipped = judge_level(np.full((RATE_HZ, 1), 32767, np.int16), sample_rate_hz=RATE_HZ)
    assert "flat digital silence" in clipped.verdict  # one value: a stuck device


def seconds(room: str, end: datetime, levels_dbfs: list[float]) -> list[SecondRecord]:
    """One second per level, the last one a second before `end`."""
    n = len(levels_dbfs)
    return [
        SecondRecord(room, end - timedelta(seconds=n - k), float(k), level, None, None)
        for k, level in enumerate(levels_dbfs)
    ]


def test_the_level_of_a_room_comes_from_the_stores_latest_second(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        store.write(seconds("nursery", now, [FLOOR_DBFS, -58.5, -52.0, -41.26]))
        store.write(seconds("nursery", now - timedelta(hours=1), [-70.0]))  # floor: not lately
        store.write(seconds("attic", now - timedelta(minutes=5), [-40.0]))
        store.write(seconds("hall", now, [-1.5]))
    with TestClient(create_app(settings_for(db, tmp_path)), base_url=LOCAL) as client:
        nursery = client.get("/api/rooms/nursery/level").json()
        attic = client.get("/api/rooms/attic/level").json()
        hall = client.get("/api/rooms/hall/level").json()
        page = client.get("/rooms/nursery/level")
    assert nursery["source"] == "store" and nursery["refresh_ms"] == 1000
    assert nursery["level_dbfs"] == -41.3 and nursery["peak_dbfs"] is None
    assert nursery["floor_dbfs"] == -58.5  # digital silence is no floor
    assert nursery["ok"] and nursery["verdict"].startswith("good")
    assert nursery["age_s"] < 5
    assert not attic["ok"] and "nothing heard for 30" in attic["verdict"]
    assert not hall["ok"] and hall["verdict"].startswith("clipping")
    assert page.status_code == 200 and "/static/level.js" in page.text


def test_inside_listen_the_listeners_room_comes_from_its_meter(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with open_store(db) as store:
        store.write(seconds("attic", datetime.now(UTC), [-45.0]))
        meter = LevelMeter()
        live = LiveLevel("Room 2/B", meter)
        app = create_app(settings_for(db, tmp_path), store=store, live=live)
        with TestClient(app, base_url=LOCAL) as client:
            url = "/api/rooms/Room%202%2FB/level"
            before = client.get(url).json()  # no record of the room stored yet: still its page
            meter.add(tone(0.99, 0.25), sample_rate_hz=RATE_HZ, floor_dbfs=-50.0)
            loud = client.get(url).json()
            meter.add(tone(0.01, 0.25), sample_rate_hz=RATE_HZ, floor_dbfs=-50.0)
            quiet = client.get(url).json()
            attic = client.get("/api/rooms/attic/level").json()
            assert client.get("/rooms/Room%202%2FB/level").status_code == 200
        assert store.rooms() == ["attic"]  # the app left the listener's store open
    assert before["source"] == "listener" and before["level_dbfs"] is None and not before["ok"]
    assert loud["refresh_ms"] == 250 and loud["floor_dbfs"] == -50.0
    assert loud["peak_dbfs"] == pytest.approx(-0.1, abs=0.05) and loud["verdict"] == (
        "clipping: lower the capture gain (alsamixer, F4)"
    )
    assert quiet["level_dbfs"] == pytest.approx(-43.0, abs=0.1) and quiet["ok"]
    assert attic["source"] == "store" and attic["level_dbfs"] == -45.0


def test_band_level_reads_what_a_band_pass_filter_would_leave() -> None:
    t_s = np.arange(16_000) / 16_000
    tone_1k = 0.5 * np.sin(2 * np.pi * 1_000 * t_s)
    tone_6k = 0.5 * np.sin(2 * np.pi * 6_000 * t_s)
    band = (250.0, 4_000.0)
    assert band_dbfs(tone_1k, sample_rate_hz=16_000, band_hz=band) == pytest.approx(
        rms_dbfs(tone_1k), abs=0.01
    )
    assert band_dbfs(tone_6k, sample_rate_hz=16_000, band_hz=band) < -100
    both = band_dbfs(tone_1k + tone_6k, sample_rate_hz=16_000, band_hz=band)
    assert both == pytest.approx(rms_dbfs(tone_1k), abs=0.01)
    assert band_dbfs(np.zeros(0), sample_rate_hz=16_000, band_hz=band) == FLOOR_DBFS
