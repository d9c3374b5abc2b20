"""The dashboard's parts on their own: the spectrogram, sessions, request parameters."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from miserymeter.web.params import RequestError, time_range
from miserymeter.web.sessions import SessionSigner, csrf_matches
from miserymeter.web.spectrogram import spectrogram
from miserymeter.web.timeline import not_heard

RATE_HZ = 16_000


def test_a_full_scale_tone_peaks_near_0_db_at_its_frequency() -> None:
    t_s = np.arange(3 * RATE_HZ) / RATE_HZ
    tone = np.sin(2 * np.pi * 1_000.0 * t_s).astype(np.float32)
    found = spectrogram(tone, sample_rate_hz=RATE_HZ, max_frames=100)
    assert found.power_db.shape == (len(found.freqs_hz), len(found.times_s))
    assert len(found.times_s) <= 100 and found.times_s[-1] < 3.0
    peak_bins = found.freqs_hz[np.argmax(found.power_db, axis=0)]
    assert np.all(np.abs(peak_bins - 1_000.0) <= RATE_HZ / 256)
    assert -1.5 < found.power_db.max() < 0.5
    silent = spectrogram(np.zeros(100, dtype=np.float32), sample_rate_hz=RATE_HZ)
    assert silent.power_db.max() == pytest.approx(-100.0) and len(silent.times_s) == 1


def test_a_session_round_trips_and_expires() -> None:
    signer = SessionSigner()
    session = signer.new(authenticated=True)
    assert signer.load(signer.dump(session)) == session
    assert csrf_matches(session, session.csrf_token) and not csrf_matches(session, None)
    expired = signer.new(authenticated=True).__class__(True, "x", time.time() - 1)
    assert signer.load(signer.dump(expired)) is None
    for damaged in ("", "abc", "a.b.c", "!!!.???"):
        assert signer.load(damaged) is None


def test_ranges_default_to_tonight_and_read_local_times() -> None:
    zone = timezone(timedelta(hours=1))
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 04:00 local: still the night of the 24th
    tonight = time_range(since=None, until=None, night=None, zone=zone, now=now)
    assert tonight.since == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    local = time_range(
        since="2026-11-25T01:00", until="2026-11-25T02:00Z", night=None, zone=zone, now=now
    )
    assert local.since == datetime(2026, 11, 25, 0, 0, tzinfo=UTC) and local.duration_s == 7200
    with pytest.raises(RequestError, match="not both"):
        time_range(since="2026-11-25", until=None, night="2026-11-24", zone=zone, now=now)
    with pytest.raises(RequestError, match="both since= and until="):
        time_range(since="2026-11-25", until=None, night=None, zone=zone, now=now)


def test_the_stretches_no_point_covers_are_gaps() -> None:
    t0 = datetime(2026, 12, 5, 20, tzinfo=UTC)
    minute = timedelta(minutes=1)
    heard = [(t0 + m * minute, 60.0) for m in (0, 1, 2, 5, 6)]
    before, end = t0 - timedelta(hours=1), t0 + 7 * minute + timedelta(seconds=20)
    found = not_heard(heard, since=before, until=end, step_s=60.0)
    assert found == [(before, t0), (t0 + 3 * minute, t0 + 5 * minute)]  # not 20 s: < half a step
    assert not_heard([(t0, 20.0)], since=t0, until=t0 + minute, step_s=60.0) == [
        (t0 + timedelta(seconds=20), t0 + minute)
    ]
    assert not_heard([], since=t0, until=t0 - minute, step_s=60.0) == []  # a range still to come
