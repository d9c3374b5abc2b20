"""Out-of-fold scores of the training split, to choose a rule on: `make out-of-fold`.

The validation split holds 45 cries and 91 other sounds, too few to choose against a sound it
happens to lack: it holds no music at all. This trains the default model's recipe `--folds`
times, each time without one fold of the training split's hash groups, and scores every
training clip with the model that did not see it; the validation split is scored by the
bundled model, which did not see it either. About 216 cries and 420 other sounds in all, each
scored by its highest window as `classify` scores a file, flagged at the detector's threshold.
Rows: the network alone, the bundled rule before a sure head was trusted (YAMNet's guard on
every head), and the rule `listen` runs. Trained folds are kept in `--work_dir` and reused
(about 2 min each).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from detector import THRESHOLD, GuardOnEveryHead, Scorer, clip_columns, clip_score, ranking
from miserymeter.audio.io import read_audio
from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.prepare.layout import labelled_clips
from miserymeter.prepare.split import group_percentage, which_set
from miserymeter.train.checkpoint import checkpoint_path
from miserymeter.train.corpus import (
    DEBIAN_PACKAGES_DIR,
    DEFAULT_MODEL_FLAGS,
    flag_value,
    prepare_cry_corpus,
)
from night_clips import CRY_KINDS, RATE_HZ, clip_kind

KINDS = ("phone cries", "full-band cries", "laughter", "cats", "dogs", "music", "other")
VALIDATION_PERCENTAGE = float(flag_value(DEFAULT_MODEL_FLAGS, "validation_percentage"))
TESTING_PERCENTAGE = float(flag_value(DEFAULT_MODEL_FLAGS, "testing_percentage"))


def fold_of(path: Path, n_folds: int) -> int | None:
    """The fold of a training-split file (its hash group's place in the training range);
    None for a validation or testing file."""
    start = VALIDATION_PERCENTAGE + TESTING_PERCENTAGE
    percentage = group_percentage(path)
    if percentage < start:
        return None
    return min(n_folds - 1, int((percentage - start) * n_folds / (100.0 - start)))


def fold_data(data_dir: Path, out: Path, fold: int, n_folds: int) -> Path:
    """`data_dir` without `fold`'s clips, as symbolic links in `out`."""
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        is_clip = path.suffix == ".flac" and relative.parts[0] != BACKGROUND_NOISE_DIR
        if path.is_dir() or (is_clip and fold_of(path, n_folds) == fold):
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(path.resolve())
    return out


def trained_fold(data_dir: Path, work: Path, fold: int, n_folds: int) -> Path:
    """The model trained without `fold` by the default model's recipe (trained if missing)."""
    model = work / f"fold-{fold}.onnx"
    if model.is_file():
        return model
    folder = work / f"fold-{fold}"
    miserymeter = [sys.executable, "-m", "miserymeter.cli"]
    train_dir = folder / "training"
    data = fold_data(data_dir, folder / "data", fold, n_folds)
    subprocess.run(
        [
            *miserymeter,
            "train",
            f"--data_dir={data}",
            f"--train_dir={train_dir}",
            *DEFAULT_MODEL_FLAGS,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    steps = sum(
        int(s) for s in flag_value(DEFAULT_MODEL_FLAGS, "how_many_training_steps").split(",")
    )
    architecture = flag_value(DEFAULT_MODEL_FLAGS, "model_architecture")
    checkpoint = checkpoint_path(train_dir, architecture, steps)
    subprocess.run(
        [*miserymeter, "export", f"--start_checkpoint={checkpoint}", f"--output_file={model}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return model


def scorers(model: Path) -> dict[str, Scorer]:
    """The rows' scorers over one model file."""
    return {
        "network alone": Classifier(model, second_opinion=False),
        "before: the guard on every head": GuardOnEveryHead(model),
        "shipped rule": Classifier(model),
    }


def kind_of(path: Path) -> str:
    """One of KINDS: the bench's kinds, with the corpus's music apart from the other sounds."""
    return "music" if path.parent.name == "music" else clip_kind(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--work_dir", type=Path, default=Path("build/out-of-fold"))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=160)
    start = time.perf_counter()
    data_dir = prepare_cry_corpus(
        args.corpus, args.work_dir / "corpus", packages_dir=DEBIAN_PACKAGES_DIR
    ).data_dir
    by_fold: dict[int, list[Path]] = {}  # -1: the validation split, for the bundled model
    for path, _ in labelled_clips(data_dir):
        split = which_set(
            path,
            validation_percentage=VALIDATION_PERCENTAGE,
            testing_percentage=TESTING_PERCENTAGE,
        )
        fold = fold_of(path, args.folds)
        if split == "validation" or fold is not None:
            by_fold.setdefault(-1 if fold is None else fold, []).append(path)
    scores: dict[str, list[float]] = {}
    kinds: list[str] = []
    for fold, paths in sorted(by_fold.items()):
        if fold < 0:
            model = DEFAULT_MODEL_PATH
        else:
            console.print(f"fold {fold}: the recipe without its {len(paths)} clips …")
            model = trained_fold(data_dir, args.work_dir, fold, args.folds)
        rows = scorers(model)
        for path in paths:
            samples = read_audio(path, sample_rate_hz=RATE_HZ).samples
            for name, scorer in rows.items():
                scores.setdefault(name, []).append(clip_score(scorer, samples))
            kinds.append(kind_of(path))
    console.print(table(scores, np.array(kinds), time.perf_counter() - start))
    return 0


def table(scores: dict[str, list[float]], kinds: np.ndarray, elapsed_s: float) -> Table:
    """One row per scorer: ROC-AUC, recall at 1 % false positives, flagged per kind."""
    positive = np.isin(kinds, CRY_KINDS)
    result = clip_columns(
        f"Out-of-fold: {positive.sum()} cries, {(~positive).sum()} other sounds "
        f"({elapsed_s:.0f} s); flagged at {THRESHOLD}",
        {kind: int((kinds == kind).sum()) for kind in KINDS},
    )
    for name, values in scores.items():
        row = np.array(values)
        roc_auc, recall = ranking(row, kinds)
        result.add_row(
            name,
            f"{roc_auc:.3f}",
            f"{recall:.2f}",
            *(f"{(row[kinds == k] >= THRESHOLD).sum()}" for k in KINDS),
        )
    return result


if __name__ == "__main__":
    sys.exit(main())
