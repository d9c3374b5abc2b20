"""Training on a busy machine: `make bench-train-load` (prints a table).

Runs `miserymeter train` for a few steps of the bundled model's recipe on the cry corpus, with
the machine to itself and with one busy process per CPU core beside it (a laptop doing other
work), under each OpenMP wait policy: PASSIVE (waiting threads sleep: what `train` asks for
unless OMP_WAIT_POLICY is set) and ACTIVE (they spin). Prints each run's wall and CPU time,
and how much longer the busy machine made it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from miserymeter.train.corpus import DEBIAN_PACKAGES_DIR, DEFAULT_MODEL_FLAGS, prepare_cry_corpus

POLICIES = ("PASSIVE", "ACTIVE")
STEPS = 150


@dataclass(frozen=True)
class Run:
    policy: str
    busy: int
    wall_s: float
    cpu_s: float


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy_cores(n: int) -> Iterator[None]:
    """`n` processes that each keep a core busy, for the length of the block."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def train_once(data_dir: Path, work: Path, *, policy: str, busy: int) -> Run:
    """Wall and CPU time (user + system) of one short training run."""
    flags = [f for f in DEFAULT_MODEL_FLAGS if not f.startswith(("--how_many", "--learning"))]
    command = [
        *(sys.executable, "-m", "miserymeter.cli", "train"),
        f"--data_dir={data_dir}",
        f"--train_dir={work / f'{policy}-{busy}'}",
        *flags,
        f"--how_many_training_steps={STEPS}",
        "--learning_rate=0.002",
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    with busy_cores(busy):
        start = time.perf_counter()
        training = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(training.pid, 0)  # this process's CPU, not the busy ones'
        wall_s = time.perf_counter() - start
    training.returncode = os.waitstatus_to_exitcode(status)
    if training.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return Run(policy, busy, wall_s, usage.ru_utime + usage.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--packages_dir", type=Path, default=DEBIAN_PACKAGES_DIR)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="miserymeter-bench-") as tmp:
        work = Path(tmp)
        prepared = prepare_cry_corpus(args.corpus, work, packages_dir=args.packages_dir)
        runs = [
            train_once(prepared.data_dir, work, policy=policy, busy=busy)
            for policy in POLICIES
            for busy in (0, cores)
        ]
    table = Table(
        title=f"`train`, {STEPS} steps of the bundled recipe ({cores} CPU cores)",
        title_justify="left",
    )
    for column in ("OpenMP wait policy", "busy processes beside it", "wall s", "CPU s", "slowed"):
        table.add_column(column, justify="left" if column.startswith("OpenMP") else "right")
    alone = {r.policy: r.wall_s for r in runs if r.busy == 0}
    for r in runs:
        table.add_row(
            r.policy + (" (train's default)" if r.policy == "PASSIVE" else ""),
            str(r.busy),
            f"{r.wall_s:.1f}",
            f"{r.cpu_s:.1f}",
            f"{r.wall_s / alone[r.policy]:.1f}x",
        )
    Console(width=100).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
