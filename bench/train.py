"""Training and inference benchmark on the cry corpus: `make bench` (prints a table).

For the default architecture and the tutorial's `conv`, with the bundled model's flags (the
`conv`, with no normalisation between its layers and a 64,000-input dense layer, learns
nothing at their learning rates: it gets the lower `CONV_LEARNING_RATES`):
wall time of `miserymeter train` on this machine's CPUs, test-split accuracy, ROC-AUC and
recall at 1 % false-positive rate for `crying` (each clip's loudest window), ROC-AUC of whole
clips (each clip's highest-scoring window, as `classify` flags a file), model file size, and
ONNX Runtime latency per 1 s and 5 s window on one thread; then the channel checks of each model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from miserymeter.inference.model import Classifier
from miserymeter.train.channel_check import ChannelCheck, corpus_channel_checks
from miserymeter.train.checkpoint import checkpoint_path
from miserymeter.train.corpus import (
    DEBIAN_PACKAGES_DIR,
    DEFAULT_MODEL_FLAGS,
    flag_value,
    prepare_cry_corpus,
)

ARCHITECTURES = (flag_value(DEFAULT_MODEL_FLAGS, "model_architecture"), "cnn2d", "conv")
CONV_LEARNING_RATES = "--learning_rate=0.0005,0.0002,0.0001"
N_LATENCY_RUNS = 200


@dataclass(frozen=True)
class BenchRow:
    architecture: str
    train_s: float
    accuracy: float
    roc_auc: float
    recall_at_1pct_fpr: float
    clip_roc_auc: float
    model_kb: float
    latency_1s_ms: float
    latency_5s_ms: float
    checks: list[ChannelCheck]


def latency_ms(classifier: Classifier, window_s: float) -> float:
    """Median wall time of scoring one window of `window_s` seconds."""
    rng = np.random.default_rng(0)
    window = 0.1 * rng.standard_normal((1, int(window_s * classifier.info.sample_rate_hz)))
    window = window.astype(np.float32)
    for _ in range(10):
        classifier.score(window)
    times = []
    for _ in range(N_LATENCY_RUNS):
        start = time.perf_counter()
        classifier.score(window)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def bench_architecture(
    architecture: str, data_dir: Path, heldout: list[Path], work: Path, console: Console
) -> BenchRow:
    train_dir = work / architecture
    command = [
        sys.executable,
        "-m",
        "miserymeter.cli",
        "train",
        f"--data_dir={data_dir}",
        f"--train_dir={train_dir}",
        *(f for f in DEFAULT_MODEL_FLAGS if not f.startswith("--model_architecture=")),
        f"--model_architecture={architecture}",
        *([CONV_LEARNING_RATES] if architecture == "conv" else []),
    ]
    console.print(f"training {architecture} …")
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    train_s = time.perf_counter() - start
    metrics = json.loads((train_dir / "test_metrics.json").read_text())
    checkpoint = checkpoint_path(train_dir, architecture, metrics["steps"])
    model_file = work / f"{architecture}.onnx"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "miserymeter.cli",
            "export",
            f"--start_checkpoint={checkpoint}",
            f"--output_file={model_file}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    classifier = Classifier(model_file, n_threads=1)
    return BenchRow(
        architecture=architecture,
        train_s=train_s,
        accuracy=metrics["accuracy"],
        roc_auc=metrics["roc_auc"]["crying"],
        recall_at_1pct_fpr=metrics["recall_at_1pct_fpr"]["crying"],
        clip_roc_auc=metrics["clip_roc_auc"]["crying"],
        model_kb=model_file.stat().st_size / 1024,
        latency_1s_ms=latency_ms(classifier, 1.0),
        latency_5s_ms=latency_ms(classifier, 5.0),
        checks=corpus_channel_checks(
            classifier,
            data_dir,
            heldout,
            validation_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "validation_percentage")),
            testing_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "testing_percentage")),
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES))
    parser.add_argument("--packages_dir", type=Path, default=DEBIAN_PACKAGES_DIR)
    args = parser.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="miserymeter-bench-") as tmp:
        work = Path(tmp)
        prepared = prepare_cry_corpus(args.corpus, work, packages_dir=args.packages_dir)
        rows = [
            bench_architecture(
                a, prepared.data_dir, list(prepared.heldout_fullband_cries), work, console
            )
            for a in args.architectures.split(",")
        ]
    table = Table(
        title=f"Training benchmark ({os.cpu_count()} CPU cores; "
        f"steps {flag_value(DEFAULT_MODEL_FLAGS, 'how_many_training_steps')})",
        title_justify="left",
    )
    for column in (
        "architecture",
        "train wall s",
        "test accuracy",
        "crying ROC-AUC",
        "recall @ 1% FPR",
        "clip ROC-AUC",
        "model KB",
        "ms / 1 s window",
        "ms / 5 s window",
    ):
        table.add_column(column, justify="left" if column == "architecture" else "right")
    for r in rows:
        table.add_row(
            r.architecture,
            f"{r.train_s:.0f}",
            f"{r.accuracy:.3f}",
            f"{r.roc_auc:.3f}",
            f"{r.recall_at_1pct_fpr:.3f}",
            f"{r.clip_roc_auc:.3f}",
            f"{r.model_kb:.0f}",
            f"{r.latency_1s_ms:.2f}",
            f"{r.latency_5s_ms:.2f}",
        )
    console.print(table)
    checks = Table(
        title="Channel checks: files whose peak crying probability ≥ 0.5", title_justify="left"
    )
    checks.add_column("audio")
    for r in rows:
        checks.add_column(r.architecture, justify="right")
    for i, check in enumerate(rows[0].checks):
        checks.add_row(
            f"{check.name} ({check.n_files})",
            *(f"{r.checks[i].flagged_fraction:.0%}" for r in rows),
        )
    console.print(checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
