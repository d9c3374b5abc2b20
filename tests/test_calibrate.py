"""Calibration's maths on their own: thresholds from scored clips, the quiet room's level, and
the other sounds of a night; synthetic numbers with exact expectations."""

from __future__ import annotations

import numpy as np
import pytest

from miserymeter.calibrate.quiet_room import measure_quiet_room
from miserymeter.calibrate.sounds import count_sounds
from miserymeter.calibrate.thresholds import (
    SHOWN,
    best_on_probability,
    calibrate,
    config_lines,
    episode_peaks,
    histogram,
)
from miserymeter.detect.settings import DetectorSettings

DEFAULTS = DetectorSettings()
# The bundled model's scores of 2 s windows of the bundled examples: the crying ones (a phone
# recording has quieter breaths), and the others (a cat sounds like a baby to it).
CRYING = [1.0, 1.0, 0.79, 0.14, 0.92, 0.31]
OTHER = [0.999, 0.981, 0.002, 0.001, 0.377, 0.177, 0.029, 0.075, 0.036, 0.117, 0.014, 0.103]


def test_too_few_clips_say_how_many_more_instead_of_recommending() -> None:
    found = calibrate([0.9] * 2, [0.1] * 7, sounds_per_night=3.0, current=DEFAULTS)
    assert (found.n_crying, found.n_other) == (2, 7)
    assert (found.n_crying_needed, found.n_other_needed) == (3, 0)
    assert found.recommended is None and found.candidates == ()
    nothing = calibrate([], [], sounds_per_night=None, current=DEFAULTS)
    assert (nothing.n_crying_needed, nothing.n_other_needed) == (5, 5)


def test_clips_apart_get_the_middle_of_the_thresholds_between_them() -> None:
    current = DetectorSettings(on_probability=0.7, off_probability=0.4)
    found = calibrate([0.9] * 5, [0.1] * 5, sounds_per_night=4.0, current=current)
    # every threshold from 0.30 to 0.90 separates them: the middle one, off as far below it as
    # the current one's (0.3 below)
    assert found.recommended == DetectorSettings(on_probability=0.6, off_probability=0.3)
    assert [c.on_probability for c in found.candidates] == list(SHOWN)
    assert all(c.n_crying_missed == 0 and c.n_other_above == 0 for c in found.candidates)
    assert all(c.false_alarms_per_night == 0.0 for c in found.candidates)


def test_overlapping_clips_trade_missed_cries_for_false_alarms() -> None:
    current = DetectorSettings(on_probability=0.72, off_probability=0.62)
    found = calibrate(CRYING, OTHER, sounds_per_night=4.0, current=current)
    # 0.30 catches 5 of 6 cries and lets 3 of 12 others through: 0.83 - 0.25 beats the rest
    assert found.recommended == DetectorSettings(on_probability=0.3, off_probability=0.2)
    by_on = {c.on_probability: c for c in found.candidates}
    assert sorted(by_on) == [0.3, 0.4, 0.5, 0.6, 0.7, 0.72, 0.8, 0.9]  # the current one too
    low, high = by_on[0.3], by_on[0.9]
    assert (low.n_crying_missed, low.n_other_above) == (1, 3)
    assert low.missed_share == pytest.approx(1 / 6) and low.false_share == 0.25
    assert low.false_alarms_per_night == pytest.approx(1.0)  # 4 sounds x 3/12
    assert (high.n_crying_missed, high.n_other_above) == (3, 2)
    unknown = calibrate(CRYING, OTHER, sounds_per_night=None, current=current)
    assert all(c.false_alarms_per_night is None for c in unknown.candidates)


def test_the_best_threshold_rounds_a_range_down_and_keeps_off_at_3_7_of_it_or_above() -> None:
    crying, other = np.array([0.5, 0.55, 0.6, 0.9, 0.95]), np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    assert best_on_probability(crying, other) == 0.45  # 0.45 and 0.5 separate them: the lower
    found = calibrate(crying, other, sounds_per_night=None, current=DetectorSettings(0.9, 0.1))
    # 0.8 below 0.45 is nothing; 3/7 of it, as the defaults' 0.3 of 0.7, is 0.19
    assert found.recommended == DetectorSettings(on_probability=0.45, off_probability=0.19)
    # the real clips' scores, from listen's far apart thresholds: off stays above 0.3 x 3/7
    real = calibrate(CRYING, OTHER, sounds_per_night=None, current=DetectorSettings(0.9, 0.05))
    assert real.recommended == DetectorSettings(on_probability=0.3, off_probability=0.13)


def test_an_episode_is_judged_by_its_highest_clip_not_by_its_pauses() -> None:
    clips = [("a", 0.2), ("b", 0.9), ("a", 0.95), ("a", 0.1), ("c", 0.4), ("b", 0.3)]
    assert episode_peaks(clips) == [0.95, 0.9, 0.4]  # in the order the episodes first come
    assert episode_peaks([]) == []


def test_histogram_bins_and_config_lines() -> None:
    counts = histogram([0.0, 0.05, 0.049, 0.999, 1.0])
    assert len(counts) == 20 and sum(counts) == 5
    assert (counts[0], counts[1], counts[19]) == (2, 1, 2)
    settings = DetectorSettings(on_probability=0.55, off_probability=0.35)
    assert config_lines(settings) == "[listen]\non_probability = 0.55\noff_probability = 0.35\n"


def quiet_levels(rng: np.random.Generator, n_seconds: int = 600) -> np.ndarray:
    return rng.uniform(-61.0, -59.0, n_seconds)


def test_a_steady_quiet_room_has_its_floor_and_gate() -> None:
    levels = quiet_levels(np.random.default_rng(1))
    levels[:5] = -120.0  # digital silence while the device starts: not the floor
    found = measure_quiet_room(levels, gate_db=6.0)
    assert found.ok and "steady" in found.verdict and "-55 dBFS" in found.verdict
    assert found.n_seconds == 600 and found.floor_dbfs == round(levels[5:].min(), 1)
    assert found.floor_dbfs is not None and found.median_dbfs is not None
    assert found.p95_dbfs is not None
    assert -61.0 <= found.floor_dbfs < found.median_dbfs < found.p95_dbfs <= -59.0
    assert found.gate_dbfs == round(levels[5:].min() + 6.0, 1) and found.share_above_gate == 0.0


def test_the_quiet_room_verdicts() -> None:
    rng = np.random.default_rng(2)
    noisy = quiet_levels(rng)
    noisy[::10] = -40.0  # a sound every 10 s
    found = measure_quiet_room(noisy, gate_db=6.0)
    assert not found.ok and found.verdict.startswith("not steady: 10 %")
    assert found.share_above_gate == 0.1
    faint = measure_quiet_room(quiet_levels(rng) - 20.0, gate_db=6.0)
    assert not faint.ok and faint.verdict.startswith("very quiet (-81 dBFS)")
    ungated = measure_quiet_room(noisy, gate_db=None)
    assert ungated.ok and "no_gate" in ungated.verdict and ungated.share_above_gate is None
    silent = measure_quiet_room([-120.0] * 30, gate_db=6.0)
    assert not silent.ok and "flat digital silence" in silent.verdict
    assert silent.floor_dbfs is None and silent.n_seconds == 30
    empty = measure_quiet_room([], gate_db=6.0)
    assert not empty.ok and "nothing was stored" in empty.verdict


def test_other_sounds_are_loud_stretches_outside_episodes_merged_like_episodes() -> None:
    levels = quiet_levels(np.random.default_rng(3))
    offsets_s = np.arange(len(levels), dtype=float)
    levels[5] = -30.0  # before 10 s of history there is no floor yet
    levels[100:105] = -30.0  # a sound...
    levels[125:127] = -30.0  # ...and its echo 20 s later: one sound
    levels[200:203] = -120.0  # digital silence is not a sound and does not lower the floor
    levels[300:306] = -30.0  # a second sound
    levels[450:460] = -30.0  # crying: inside an episode
    found = count_sounds(
        offsets_s, levels, episodes_s=[(448.0, 470.0)], gate_db=6.0, merge_gap_s=30.0
    )
    assert found == 2
    apart = count_sounds(
        offsets_s, levels, episodes_s=[(448.0, 470.0)], gate_db=6.0, merge_gap_s=10.0
    )
    assert apart == 3
    assert count_sounds([], [], episodes_s=[], gate_db=6.0, merge_gap_s=30.0) == 0
    steady = quiet_levels(np.random.default_rng(4))
    assert count_sounds(offsets_s, steady, episodes_s=[], gate_db=6.0, merge_gap_s=30.0) == 0
