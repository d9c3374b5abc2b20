"""Re-train the bundled default model from the cry corpus: `make default-model`.

Prepares the corpus (family-grouped split, full-band cries held out) with the cat and laughter
clips of Debian's packages (`apt-get download`, once), runs `miserymeter train` with the
default model's flags, exports into the package, and runs the channel checks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from miserymeter.errors import MiseryMeterError
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.train.channel_check import corpus_channel_checks
from miserymeter.train.checkpoint import checkpoint_path
from miserymeter.train.corpus import (
    DEBIAN_PACKAGES_DIR,
    DEFAULT_MODEL_FLAGS,
    flag_value,
    prepare_cry_corpus,
)

MINIMUM_FULLBAND_RECALL = 0.7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--work_dir", type=Path, default=Path("build/default-model"))
    parser.add_argument("--output_file", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--packages_dir", type=Path, default=DEBIAN_PACKAGES_DIR)
    parser.add_argument(
        "--without_packaged_sounds",
        action="store_true",
        help="Train on the corpus alone (no apt-get): cats and laughter get mistaken more.",
    )
    args = parser.parse_args()
    console = Console()

    packages_dir = None if args.without_packaged_sounds else args.packages_dir
    try:
        prepared = prepare_cry_corpus(args.corpus, args.work_dir, packages_dir=packages_dir)
    except MiseryMeterError as e:
        console.print(f"[red]error:[/red] {e}", highlight=False)
        return 1
    train_dir = args.work_dir / "training"
    miserymeter = [sys.executable, "-m", "miserymeter.cli"]
    command = [
        *miserymeter,
        "train",
        f"--data_dir={prepared.data_dir}",
        f"--train_dir={train_dir}",
        *DEFAULT_MODEL_FLAGS,
    ]
    console.print("$ miserymeter " + " ".join(command[3:]), highlight=False)
    subprocess.run(command, check=True)
    steps = sum(
        int(s) for s in flag_value(DEFAULT_MODEL_FLAGS, "how_many_training_steps").split(",")
    )
    architecture = flag_value(DEFAULT_MODEL_FLAGS, "model_architecture")
    checkpoint = checkpoint_path(train_dir, architecture, steps)
    subprocess.run(
        [
            *miserymeter,
            "export",
            f"--start_checkpoint={checkpoint}",
            f"--output_file={args.output_file}",
        ],
        check=True,
    )

    checks = corpus_channel_checks(
        Classifier(args.output_file),
        prepared.data_dir,
        list(prepared.heldout_fullband_cries),
        validation_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "validation_percentage")),
        testing_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "testing_percentage")),
    )
    table = Table(title="Channel checks (peak crying probability per file)", title_justify="left")
    for column in ("audio", "files", "flagged ≥ 0.5", "mean peak"):
        table.add_column(column, justify="left" if column == "audio" else "right")
    for check in checks:
        table.add_row(
            check.name,
            str(check.n_files),
            f"{check.flagged_fraction:.0%}",
            f"{check.mean_peak_probability:.3f}",
        )
    console.print(table)
    (args.work_dir / "channel_checks.json").write_text(
        json.dumps([asdict(c) for c in checks], indent=2)
    )
    if checks[0].flagged_fraction < MINIMUM_FULLBAND_RECALL:
        console.print(
            f"[red]full-band cries flagged below {MINIMUM_FULLBAND_RECALL:.0%}: "
            "the model may be hearing the phone channel, not the crying"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
