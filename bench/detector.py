"""Does the detector hear crying, not laughter? `make bench` (prints one table).

Every row is measured in the same run, on the same audio:
- **before**: the bundled model as it was at `--baseline` (a git revision), with the second
  opinion it shipped with then (its crying times the square root of YAMNet's crying share);
- **YAMNet alone**: AudioSet's "Baby cry, infant cry" / "Crying, sobbing" score (what Frigate runs);
- **network alone**: the bundled network without the second opinion;
- **shipped, the guard on every head**: the bundled model with the rule until 2026-12-07,
  late, when YAMNet's guard held back the head over its embedding however sure it was;
- **shipped**: the bundled model as `listen` runs it (the network, confirmed by YAMNet).

Clips (each scored by its highest window, as `classify` scores a file): the test split of the
cry corpus as the default model's training lays it out (phone and full-band cries, cats,
laughter and every other sound), made baby sounds (`bench/baby_sounds.py`: babble, infant
laughter), dogs, music and singing from Debian's packages (`bench/night_clips.py`), and
eval-only's full-band cries and white-noise-machine loops. Nights: `--nights` test nights of
an hour of those cries among those sounds, each on a white-noise-machine loop, run through
`listen`'s pipeline and scored as `evaluate --night` scores them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from miserymeter.audio.io import read_audio
from miserymeter.constants import SECOND_OPINION_HEAD_KEY, UNKNOWN_LABEL
from miserymeter.detect.settings import DetectorSettings
from miserymeter.evaluation.classification import roc_auc, threshold_for_fpr
from miserymeter.evaluation.event_scores import EventScores, score_events
from miserymeter.evaluation.night import Clip, NightSettings, make_night, write_night
from miserymeter.evaluation.truth import TruthEvent, read_night_truth
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, YAMNET_MODEL_PATH
from miserymeter.inference.model import Classifier, ModelInfo
from miserymeter.inference.second_opinion import (
    ASK_FROM_PROBABILITY,
    EmbeddingHead,
    SecondOpinion,
)
from miserymeter.pipeline import detect_file
from miserymeter.records import Episode
from night_clips import CRY_KINDS, KINDS, RATE_HZ, split_clips

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = DetectorSettings().on_probability


class YamnetAlone:
    """A Scorer whose crying probability is YAMNet's crying score (for the detector too)."""

    def __init__(self, info: ModelInfo) -> None:
        self.info = info
        self._yamnet = SecondOpinion(YAMNET_MODEL_PATH)
        self._crying = info.labels.index("crying")

    def score(self, windows: np.ndarray) -> np.ndarray:
        crying = self._yamnet.opinions(windows).crying
        probabilities = np.zeros((len(windows), len(self.info.labels)), dtype=np.float32)
        probabilities[:, self._crying] = crying
        probabilities[:, self.info.labels.index(UNKNOWN_LABEL)] = 1 - crying
        return probabilities


class ShareRule:
    """A Scorer of the model shipped before the head over YAMNet's embedding: the network's
    crying times sqrt((cry + ε) / (cry + other + 2ε)) of YAMNet's scores, the rest to
    `_unknown_`."""

    def __init__(self, path: Path) -> None:
        self._network = Classifier(path, second_opinion=False)
        self.info = self._network.info
        self._yamnet = SecondOpinion(YAMNET_MODEL_PATH)
        self._crying = self.info.labels.index("crying")
        self._unknown = self.info.labels.index(UNKNOWN_LABEL)

    def score(self, windows: np.ndarray) -> np.ndarray:
        probabilities = self._network.score(windows)
        asked = np.flatnonzero(probabilities[:, self._crying] >= ASK_FROM_PROBABILITY)
        if len(asked) == 0:
            return probabilities
        share = self._yamnet.opinions(windows[asked]).crying_share
        kept = probabilities[asked, self._crying] * np.sqrt(share)
        probabilities[asked, self._unknown] += probabilities[asked, self._crying] - kept
        probabilities[asked, self._crying] = kept
        return probabilities


class GuardOnEveryHead:
    """A Scorer of the shipped model with the rule until 2026-12-07, late: YAMNet's guard held
    the head over its embedding back however sure the head was (now: below its `sure`)."""

    def __init__(self, path: Path) -> None:
        self._network = Classifier(path, second_opinion=False)
        self.info = self._network.info
        self._yamnet = SecondOpinion(YAMNET_MODEL_PATH)
        head = EmbeddingHead.from_json(self.info.metadata[SECOND_OPINION_HEAD_KEY])
        self._head = replace(head, sure=None)
        self._crying = self.info.labels.index("crying")

    def score(self, windows: np.ndarray) -> np.ndarray:
        probabilities = self._network.score(windows)
        return self._yamnet.confirm(probabilities, windows, head=self._head, label=self._crying)


Scorer = Classifier | YamnetAlone | ShareRule | GuardOnEveryHead


@dataclass(frozen=True)
class Row:
    name: str
    roc_auc: float
    recall_at_1pct: float
    flagged: dict[str, float]
    nights: EventScores


def test_clips(corpus: Path, eval_only: Path, work: Path, rng: np.random.Generator) -> list[Clip]:
    """Every test clip at RATE_HZ with its kind (KINDS, or `other`): the test split's and
    eval-only's full-band cries and white-noise-machine loops."""
    clips = split_clips(corpus, work, "testing", rng)
    for path in sorted(eval_only.glob("*/*.flac")):
        kind = "full-band cries" if path.parent.name == "crying" else "white noise"
        clips.append(Clip(read_audio(path, sample_rate_hz=RATE_HZ).samples, kind))
    return clips


def clip_score(scorer: Scorer, samples: np.ndarray) -> float:
    """A clip's crying score: its highest window's."""
    _, windows = cover_with_windows(samples, scorer.info.n_window)
    return float(scorer.score(windows)[:, scorer.info.labels.index("crying")].max())


def nights(clips: list[Clip], n_nights: int, work: Path, rng: np.random.Generator) -> list[Path]:
    """Test nights of the clips, each on one white-noise loop (its own white noise left out)."""
    cries = [c for c in clips if c.kind in CRY_KINDS]
    beds = [c for c in clips if c.kind == "white noise"]
    others = [c for c in clips if c.kind not in CRY_KINDS and c.kind != "white noise"]
    paths = []
    for k in range(n_nights):
        bed = beds[k % len(beds)]
        settings = NightSettings(room_tone_dbfs=float(rng.uniform(-45.0, -35.0)))
        night = make_night(cries, others, rng=rng, settings=settings, room_tone=bed.samples)
        path = work / f"night-{k}.flac"
        write_night(night, path, path.with_suffix(".csv"))
        paths.append(path)
    return paths


def measure(
    name: str,
    scorer: Scorer,
    clips: list[Clip],
    night_paths: list[Path],
    settings: DetectorSettings | None = None,
) -> Row:
    scores = np.array([clip_score(scorer, c.samples) for c in clips])
    kinds = np.array([c.kind for c in clips])
    flagged = {k: float((scores[kinds == k] >= THRESHOLD).mean()) for k in KINDS}
    nights = _nights(scorer, night_paths, settings)
    return Row(name, *ranking(scores, kinds), flagged, nights)


def ranking(scores: np.ndarray, kinds: np.ndarray) -> tuple[float, float]:
    """How clips' scores rank the cries (CRY_KINDS) above the rest: ROC-AUC, and the recall
    at 1 % false positives."""
    positive = np.isin(kinds, CRY_KINDS)
    point = threshold_for_fpr(scores, positive, max_false_positive_rate=0.01)
    return roc_auc(scores, positive), point.recall


def clip_columns(title: str, counts: dict[str, int]) -> Table:
    """A table with the clip columns: a row's name, ROC-AUC, recall @ 1% FPR, one per kind."""
    table = Table(title=title, title_justify="left")
    for column in ("", "clip ROC-AUC", "recall @ 1% FPR"):
        table.add_column(column, justify="left" if not column else "right")
    for kind, n in counts.items():
        table.add_column(f"{kind} ({n})", justify="right")
    return table


def _nights(scorer: Scorer, paths: list[Path], settings: DetectorSettings | None) -> EventScores:
    """All nights scored as one long night."""
    detections: list[Episode] = []
    truth: list[TruthEvent] = []
    offset_s = 0.0
    for path in paths:
        duration_s, events = read_night_truth(path, path.with_suffix(".csv"))
        found = detect_file(path, classifier=scorer, settings=settings)  # type: ignore[arg-type]
        detections += [
            replace(
                e,
                start_offset_s=e.start_offset_s + offset_s,
                end_offset_s=e.end_offset_s + offset_s,
                confirmed_offset_s=e.confirmed_offset_s + offset_s,
            )
            for e in found
        ]
        truth += [
            replace(e, start_s=e.start_s + offset_s, end_s=e.end_s + offset_s) for e in events
        ]
        offset_s += duration_s
    return score_events(detections, truth, duration_s=offset_s)


def baseline_model(revision: str, work: Path) -> Path:
    """The bundled model file as it was at `revision`."""
    path = work / "baseline.onnx"
    blob = f"{revision}:src/miserymeter/models/default.onnx"
    path.write_bytes(
        subprocess.run(["git", "show", blob], cwd=ROOT, capture_output=True, check=True).stdout
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--eval_only", type=Path, default=Path("../shared/data/eval-only"))
    parser.add_argument("--baseline", default="bc03b4e", help="Git revision of 'before'.")
    parser.add_argument("--nights", type=int, default=4, help="Test nights of an hour each.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Keep the nights and clips in this folder.")
    args = parser.parse_args()
    console = Console(width=160)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="miserymeter-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        clips = test_clips(args.corpus, args.eval_only, work, rng)
        night_paths = nights(clips, args.nights, work, rng)
        shipped = Classifier(DEFAULT_MODEL_PATH)
        scorers: list[tuple[str, Scorer, DetectorSettings | None]] = [
            (f"before ({args.baseline})", ShareRule(baseline_model(args.baseline, work)), None),
            ("YAMNet alone", YamnetAlone(shipped.info), None),
            ("network alone", Classifier(DEFAULT_MODEL_PATH, second_opinion=False), None),
            ("shipped, the guard on every head", GuardOnEveryHead(DEFAULT_MODEL_PATH), None),
            ("shipped: network + YAMNet", shipped, None),
        ]
        rows = []
        for name, scorer, settings in scorers:
            console.print(f"measuring {name} …")
            rows.append(measure(name, scorer, clips, night_paths, settings))
    counts = {k: sum(c.kind == k for c in clips) for k in KINDS}
    hours = rows[0].nights.duration_s / 3600
    table = clip_columns(
        f"Detector benchmark: {len(clips)} test clips, {hours:.0f} test nights on "
        f"white-noise beds ({time.perf_counter() - start:.0f} s); flagged at {THRESHOLD}",
        counts,
    )
    for column in ("episodes found", "false alarms / h", "latency median s"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r.name,
            f"{r.roc_auc:.3f}",
            f"{r.recall_at_1pct:.2f}",
            *(f"{r.flagged[k]:.0%}" for k in KINDS),
            f"{r.nights.n_found}/{r.nights.n_episodes}",
            f"{r.nights.false_alarms_per_hour:.2f}",
            f"{r.nights.latency_median_s:.1f}",
        )
    console.print(table)
    sizes = {p.name: p.stat().st_size / 1e6 for p in (DEFAULT_MODEL_PATH, YAMNET_MODEL_PATH)}
    console.print(
        "models in the package: "
        + ", ".join(f"{n} {mb:.2f} MB" for n, mb in sizes.items())
        + f" ({sum(sizes.values()):.2f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
