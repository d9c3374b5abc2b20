"""Event-level scores on crafted intervals, with exact expectations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from miserymeter.evaluation.event_scores import score_events
from miserymeter.evaluation.truth import TruthEvent
from miserymeter.records import Episode

NIGHT_START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
TWO_HOURS_S = 7200.0

TRUTH = (
    TruthEvent(100.0, 160.0, "crying"),
    TruthEvent(300.0, 305.0, "dog"),
    TruthEvent(400.0, 490.0, "crying"),
    TruthEvent(600.0, 660.0, "music"),
    TruthEvent(1000.0, 1020.0, "crying"),
)


def detection(start_s: float, end_s: float, *, confirmed_s: float | None = None) -> Episode:
    """An episode the detector found, confirmed 2 s after its start unless told otherwise."""
    return Episode(
        room="nursery",
        start=NIGHT_START + timedelta(seconds=start_s),
        end=NIGHT_START + timedelta(seconds=end_s),
        start_offset_s=start_s,
        end_offset_s=end_s,
        confirmed_offset_s=start_s + 2.0 if confirmed_s is None else confirmed_s,
        peak_probability=0.9,
        mean_probability=0.8,
        detector="model",
    )


def test_found_missed_false_alarms_and_latency() -> None:
    detections = [
        detection(103.0, 150.0),  # finds the first episode, 5 s late
        detection(155.0, 170.0),  # a second detection of it: neither a false alarm nor found again
        detection(398.0, 420.0, confirmed_s=401.0),  # finds the second, 1 s late
        detection(302.0, 304.0),  # the dog: a false alarm
        detection(620.0, 700.0),  # mostly the music
        detection(800.0, 810.0),  # nothing there
    ]
    scores = score_events(detections, TRUTH, duration_s=TWO_HOURS_S)
    assert (scores.n_episodes, scores.n_found, scores.n_missed) == (3, 2, 1)
    assert (scores.n_detections, scores.n_false_alarms) == (6, 3)
    assert scores.false_alarms_per_hour == 1.5
    assert dict(scores.false_alarms_by_kind) == {"dog": 1, "music": 1, "quiet": 1}
    assert scores.latencies_s == (5.0, 1.0)
    assert scores.latency_median_s == 3.0
    assert scores.latency_p90_s == pytest.approx(4.6)
    assert scores.precision == 0.5
    assert scores.recall == pytest.approx(2 / 3)


def test_an_alert_before_the_crying_began_is_a_false_alarm_and_latency_is_never_negative() -> None:
    """An episode that opened on a bark and merged into the crying alerted for the bark."""
    truth = (TruthEvent(80.0, 95.0, "dog"), TruthEvent(100.0, 160.0, "crying"))
    barked = score_events([detection(85.0, 150.0, confirmed_s=91.0)], truth, duration_s=3600.0)
    assert (barked.n_found, barked.n_false_alarms) == (0, 1)
    assert barked.false_alarms_by_kind == (("dog", 1),)
    both = score_events(
        [detection(85.0, 99.0, confirmed_s=91.0), detection(101.0, 150.0, confirmed_s=104.0)],
        truth,
        duration_s=3600.0,
    )
    assert (both.n_found, both.n_false_alarms, both.latencies_s) == (1, 1, (4.0,))


def test_an_alert_just_after_the_crying_ended_still_finds_it() -> None:
    truth = (TruthEvent(10.0, 20.0, "crying"), TruthEvent(25.0, 30.0, "crying"))
    scores = score_events([detection(14.0, 25.0, confirmed_s=22.5)], truth, duration_s=3600.0)
    assert (scores.n_found, scores.n_false_alarms) == (1, 0)
    assert scores.latencies_s == (12.5,)
    late = score_events([detection(14.0, 25.0, confirmed_s=23.5)], truth, duration_s=3600.0)
    assert (late.n_found, late.n_false_alarms) == (0, 1)


def test_a_false_alarm_goes_to_the_sound_at_its_alert_else_the_one_it_overlaps_most() -> None:
    truth = (TruthEvent(0.0, 10.0, "cat"), TruthEvent(12.0, 30.0, "laughing"))
    scores = score_events([detection(8.0, 20.0, confirmed_s=9.0)], truth, duration_s=3600.0)
    assert scores.false_alarms_by_kind == (("cat", 1),)
    truth = (TruthEvent(0.0, 3.0, "cat"), TruthEvent(12.0, 30.0, "laughing"))
    scores = score_events([detection(2.0, 20.0, confirmed_s=7.0)], truth, duration_s=3600.0)
    assert scores.false_alarms_by_kind == (("laughing", 1),)


def test_nothing_detected_and_nothing_to_find() -> None:
    silent = score_events([], TRUTH, duration_s=TWO_HOURS_S)
    assert (silent.n_found, silent.n_missed, silent.false_alarms_per_hour) == (0, 3, 0.0)
    assert math.isnan(silent.precision) and math.isnan(silent.latency_median_s)
    assert silent.to_dict()["precision"] is None
    no_crying = score_events([detection(5.0, 9.0)], [], duration_s=1800.0)
    assert math.isnan(no_crying.recall)
    assert no_crying.false_alarms_per_hour == 2.0
    assert no_crying.to_dict()["false_alarms_by_kind"] == {"quiet": 1}


def test_a_detector_stuck_on_crying_shows_in_the_time_it_flagged() -> None:
    """Two long detections over most of the hour: 'found 1 of 3, no false alarm, precision 1'
    alone reads as a quiet, precise detector; the time it said crying with none going on does
    not."""
    stuck = [detection(98.0, 900.0, confirmed_s=101.0), detection(950.0, 3000.0)]
    scores = score_events(stuck, TRUTH, duration_s=3600.0)
    assert (scores.n_found, scores.n_false_alarms, scores.precision) == (1, 1, 0.5)
    assert scores.crying_s == 60.0 + 90.0 + 20.0
    assert scores.flagged_s == 802.0 + 2050.0
    assert scores.flagged_not_crying_s == 802.0 + 2050.0 - (60.0 + 90.0 + 20.0)
    assert scores.longest_detection_s == 2050.0


def test_time_flagged_counts_overlapping_detections_once() -> None:
    overlapping = [detection(100.0, 130.0), detection(120.0, 170.0)]
    scores = score_events(overlapping, TRUTH, duration_s=3600.0)
    assert scores.flagged_s == 70.0
    assert scores.flagged_not_crying_s == 10.0
