"""Tune the detector's defaults on validation nights (then report them on test nights).

Each night is scored once (the model on every second); the detector and the loudness gate are
then replayed over those scores for every setting of a grid, as `listen` would run them (the
gate feeds the detector 0 for a window within `gate_db` of the crying band's noise floor while
no episode is open). A setting must find at least 95 % of
the crying episodes with at most 0.5 false alarms per hour (the targets of the issue "Hear
crying, not laughter"); among those, the lowest median latency wins (a parent is told soonest),
then the most episodes found, then the fewest pieces per episode (one cry, one notification),
then the fewest false alarms.

    make validation-nights   # bench/validation_nights.py: 9 nights on made white-noise machines
    python scripts/tune_detector.py build/validation-nights/*.flac

The threshold to start an episode stays where the bundled model's head is calibrated and
clips are flagged (`--on_probability` to search others): the rest is tuned around it.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from miserymeter.audio.io import read_audio
from miserymeter.capture.sources import FileSource
from miserymeter.constants import DEFAULT_GATE_DB
from miserymeter.detect.episodes import DetectedEpisode, EpisodeDetector
from miserymeter.detect.settings import DetectorSettings
from miserymeter.evaluation.event_scores import EventScores, score_events
from miserymeter.evaluation.truth import TruthEvent, read_night_truth
from miserymeter.frontend.loudness_gate import LoudnessGate
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import Listener, ListenSettings
from miserymeter.records import Episode, Record, SecondRecord

START = datetime(2026, 1, 1, tzinfo=UTC)
MIN_RECALL = 0.95
MAX_FALSE_ALARMS_PER_HOUR = 0.5
GRID = {
    "on_probability": (0.4, 0.5, 0.6, 0.7, 0.8),
    "off_probability": (0.3, 0.4, 0.5, 0.6, 0.7),
    "smoothing_s": (1.0, 2.0, 3.0),
    "min_duration_s": (1.0, 2.0, 3.0, 5.0),
    "merge_gap_s": (10.0, 20.0, 30.0, 60.0),
}


@dataclass(frozen=True)
class ScoredNight:
    """A night's per-second crying probabilities, whether the gate may skip each second, and
    its truth."""

    name: str
    duration_s: float
    probabilities: tuple[float, ...]
    quiet: tuple[bool, ...]
    truth: tuple[TruthEvent, ...]


class _Seconds:
    def __init__(self) -> None:
        self.probabilities: list[float] = []

    def handle(self, records: Sequence[Record]) -> None:
        for r in records:
            if isinstance(r, SecondRecord):
                self.probabilities.append(r.crying_probability or 0.0)


def score_night(path: Path, classifier: Classifier, *, gate_db: float | None) -> ScoredNight:
    duration_s, truth = read_night_truth(path, path.with_suffix(".csv"))
    seconds = _Seconds()
    source = FileSource(path, clock=lambda: START)
    settings = ListenSettings(gate_db=None)
    Listener(source, classifier, settings, sinks=[seconds]).run(threading.Event())
    quiet = _quiet_seconds(path, classifier.info.sample_rate_hz, gate_db)
    n = len(seconds.probabilities)
    return ScoredNight(path.stem, duration_s, tuple(seconds.probabilities), quiet[:n], truth)


def _quiet_seconds(path: Path, rate_hz: int, gate_db: float | None) -> tuple[bool, ...]:
    """Per second, whether the listener's gate finds the window ending there quiet (its 1 s
    hops and the model's 2 s window)."""
    samples = read_audio(path, sample_rate_hz=rate_hz).samples
    gate = LoudnessGate(gate_db=gate_db, sample_rate_hz=rate_hz, hop_s=1.0)
    quiet = []
    for i in range(len(samples) // rate_hz):
        gate.add_hop(samples[i * rate_hz : (i + 1) * rate_hz])
        quiet.append(gate.is_quiet(samples[max(0, (i - 1) * rate_hz) : (i + 1) * rate_hz]))
    return tuple(quiet)


def replay(night: ScoredNight, settings: DetectorSettings) -> EventScores:
    detector = EpisodeDetector(settings, hop_s=1.0)
    outputs = []
    for i, probability in enumerate(night.probabilities):
        skipped = night.quiet[i] and detector.open_since_s is None
        outputs += detector.feed(0.0 if skipped else probability, end_s=i + 1.0)
    outputs += detector.flush()
    episodes = [_episode(o) for o in outputs if isinstance(o, DetectedEpisode)]
    return score_events(episodes, night.truth, duration_s=night.duration_s)


def _episode(detected: DetectedEpisode) -> Episode:
    return Episode(
        "tuning",
        START,
        START,
        detected.start_s,
        detected.end_s,
        detected.confirmed_s,
        detected.peak_probability,
        detected.mean_probability,
        "model",
    )


@dataclass(frozen=True)
class Outcome:
    settings: DetectorSettings
    recall: float
    false_alarms_per_hour: float
    pieces_per_episode: float
    latency_median_s: float

    def key(self) -> tuple[float, float, float, float]:
        return (
            self.latency_median_s,
            -self.recall,
            self.pieces_per_episode,
            self.false_alarms_per_hour,
        )

    @property
    def meets_targets(self) -> bool:
        return self.recall >= MIN_RECALL and self.false_alarms_per_hour <= MAX_FALSE_ALARMS_PER_HOUR


def evaluate(nights: Sequence[ScoredNight], settings: DetectorSettings) -> Outcome:
    scores = [replay(night, settings) for night in nights]
    n_found = sum(s.n_found for s in scores)
    n_true = sum(s.n_detections - s.n_false_alarms for s in scores)
    latencies = sorted(x for s in scores for x in s.latencies_s)
    hours = sum(s.duration_s for s in scores) / 3600
    return Outcome(
        settings,
        recall=n_found / sum(s.n_episodes for s in scores),
        false_alarms_per_hour=sum(s.n_false_alarms for s in scores) / hours,
        pieces_per_episode=n_true / max(1, n_found),
        latency_median_s=latencies[len(latencies) // 2] if latencies else float("inf"),
    )


def grid(on_probabilities: Sequence[float] = GRID["on_probability"]) -> list[DetectorSettings]:
    values_of = {**GRID, "on_probability": tuple(on_probabilities)}
    names = list(values_of)
    settings = []
    for values in itertools.product(*values_of.values()):
        chosen = dict(zip(names, values, strict=True))
        if chosen["off_probability"] <= chosen["on_probability"]:
            settings.append(replace(DetectorSettings(), **chosen))
    return settings


def describe(outcome: Outcome) -> str:
    s = outcome.settings
    return (
        f"on {s.on_probability:.2f} off {s.off_probability:.2f} smoothing {s.smoothing_s:g} s "
        f"min {s.min_duration_s:g} s merge {s.merge_gap_s:g} s | recall {outcome.recall:.3f}, "
        f"{outcome.false_alarms_per_hour:.1f} false alarms/h, "
        f"{outcome.pieces_per_episode:.2f} pieces/episode, "
        f"latency median {outcome.latency_median_s:.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("nights", type=Path, nargs="+", help="Night FLACs, each with its .csv")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--gate_db", type=float, default=DEFAULT_GATE_DB)
    parser.add_argument(
        "--on_probability",
        type=float,
        nargs="+",
        default=[DetectorSettings().on_probability],
        help="Thresholds to start an episode at (default: today's, where clips are flagged "
        f"and the model's head is calibrated; the grid has {GRID['on_probability']}).",
    )
    args = parser.parse_args()
    classifier = Classifier(args.model)
    nights = [score_night(path, classifier, gate_db=args.gate_db) for path in args.nights]
    outcomes = [evaluate(nights, settings) for settings in grid(args.on_probability)]
    print(f"defaults now: {describe(evaluate(nights, DetectorSettings()))}")
    eligible = sorted((o for o in outcomes if o.meets_targets), key=Outcome.key)
    if eligible:
        for outcome in eligible[:10]:
            print(describe(outcome))
        return 0
    print(
        f"no setting reaches recall {MIN_RECALL} with at most {MAX_FALSE_ALARMS_PER_HOUR} "
        "false alarms per hour; the most episodes within that many false alarms:",
        file=sys.stderr,
    )
    within = [o for o in outcomes if o.false_alarms_per_hour <= MAX_FALSE_ALARMS_PER_HOUR]
    for outcome in sorted(within, key=lambda o: (-o.recall, o.latency_median_s))[:10]:
        print(describe(outcome))
    return 1


if __name__ == "__main__":
    sys.exit(main())
