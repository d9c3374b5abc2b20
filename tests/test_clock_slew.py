"""A drifting microphone clock: sample-count time is slewed back toward the wall clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from miserymeter.capture.clock_slew import (
    EARLY_TOLERANCE_S,
    LATE_TOLERANCE_S,
    WINDOW_S,
    ClockSlew,
)
from miserymeter.capture.sources import SourceBlock
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import Listener, ListenSettings
from miserymeter.records import Record, SecondRecord

START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


def corrected_errors(
    lateness_s: np.ndarray, *, hop_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Each hop's correction, and how late its corrected time still is."""
    slew = ClockSlew(hop_s=hop_s)
    corrections = np.array([slew.observe(float(x)) for x in lateness_s])
    return corrections, lateness_s - corrections


@pytest.mark.parametrize("drift", [+0.005, -0.005, +1e-4])  # 50x, -50x and 1x a USB clock's
def test_a_drifting_clock_stays_within_the_band_and_seconds_stay_in_order(drift: float) -> None:
    rng = np.random.default_rng(0)
    hops = np.arange(4 * 3600)
    latency_s = 0.05 + rng.exponential(0.1, len(hops))  # what the audio spends on its way
    corrections, errors = corrected_errors(drift * hops + latency_s)
    settled = errors[300:] - latency_s[300:]  # the clock's own error, once the slew caught up
    window_lag_s = WINDOW_S * abs(drift) + 0.01  # the least of a minute trails a minute's drift
    assert settled.max() <= LATE_TOLERANCE_S + window_lag_s
    assert settled.min() >= -EARLY_TOLERANCE_S - window_lag_s
    assert np.abs(np.diff(corrections)).max() <= 0.01 + 1e-9  # 1 % of a hop: no collisions
    assert abs(corrections[-1] - drift * hops[-1]) <= LATE_TOLERANCE_S + 0.3


def test_a_good_clock_and_latency_spikes_are_left_alone() -> None:
    rng = np.random.default_rng(1)
    lateness_s = 0.1 + rng.exponential(0.05, 7200)
    lateness_s[rng.choice(7200, 200, replace=False)] += 4.0  # the CPU was busy now and then
    corrections, _ = corrected_errors(lateness_s)
    assert not corrections.any()


class DriftingMicrophone:
    """Samples from a device whose clock runs `drift` slow: the wall clock moves faster."""

    name = "drifting microphone"
    is_live = True
    is_device_paced = True
    backlog_s = 0.0

    def __init__(self, samples: np.ndarray, *, sample_rate_hz: int, drift: float) -> None:
        self.samples = samples
        self.sample_rate_hz = sample_rate_hz
        self.drift = drift
        self.n_read = 0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.n_read / self.sample_rate_hz * (1 + self.drift))

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]:
        n_block = self.sample_rate_hz // 10
        for first in range(0, len(self.samples), n_block):
            self.n_read = first + n_block
            yield SourceBlock(self.samples[first : first + n_block], START if first == 0 else None)
        yield SourceBlock(np.zeros(0, dtype=np.float32), ends_run=True)


class Seconds:
    def __init__(self) -> None:
        self.stamps: list[datetime] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.stamps += [r.at for r in records if isinstance(r, SecondRecord)]


def test_the_listener_stamps_a_drifting_microphone_near_the_wall_clock() -> None:
    classifier = Classifier(DEFAULT_MODEL_PATH)
    rate_hz = classifier.info.sample_rate_hz
    room_tone = (0.001 * np.random.default_rng(2).standard_normal(15 * 60 * rate_hz)).astype(
        np.float32
    )
    microphone = DriftingMicrophone(room_tone, sample_rate_hz=rate_hz, drift=0.005)
    seconds = Seconds()
    Listener(microphone, classifier, ListenSettings(), sinks=[seconds], clock=microphone.now).run(
        threading.Event()
    )
    stamps = np.array([(s - START).total_seconds() for s in seconds.stamps])
    assert len(stamps) == 15 * 60
    assert (np.diff(stamps) > 0.98).all()  # in order, never closer than a hop allows
    wall_at_last_end_s = (microphone.now() - START).total_seconds()
    uncorrected_lag_s = wall_at_last_end_s - (stamps.size)  # 4.5 s behind without the slew
    assert uncorrected_lag_s == pytest.approx(4.5, abs=0.01)
    assert wall_at_last_end_s - (stamps[-1] + 1.0) <= LATE_TOLERANCE_S + 0.1
