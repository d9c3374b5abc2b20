"""Speed and footprint of `miserymeter listen`: `make bench-listen` (prints two tables).

Runs the real command on an hour of audio (a generated night from the bundled examples, or
`--night`), as fast as it goes, into a SQLite database: CPU time of the whole process minus
that of a 1-second run (start-up) is the pipeline's cost, given as % of one core for real-time
audio. Also: peak RSS, start-up time, the database's size per 12-hour night, and what the
loudness gate saves on an hour of quiet room. Then `miserymeter classify` on the same hour:
it streams a file as `listen` does, so its memory does not grow with the recording's length.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from rich.console import Console
from rich.table import Table

from miserymeter.audio.io import read_audio
from miserymeter.inference.bundled import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
MISERYMETER = Path(sys.executable).with_name("miserymeter")
RATE_HZ = 16_000
NIGHT_HOURS = 12


@dataclass(frozen=True)
class Run:
    """One `miserymeter` process: its wall and CPU time, peak memory and `listen`'s database."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    db_bytes: int


def listen(audio: Path, work: Path, *options: str) -> Run:
    db = work / f"{audio.stem}-{len(list(work.glob('*.db*')))}.db"
    run = measured("listen", "--input", str(audio), "--no-clips", "--db", str(db), *options)
    db_bytes = sum(p.stat().st_size for p in work.glob(f"{db.name}*"))
    return replace(run, db_bytes=db_bytes)


def classify(audio: Path) -> Run:
    return measured("classify", str(audio))


def measured(*args: str) -> Run:
    """`miserymeter ARGS...` run to its end: its wall and CPU time and peak memory."""
    started_s = time.monotonic()
    process = subprocess.Popen(
        [str(MISERYMETER), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall_s = time.monotonic() - started_s
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"miserymeter {' '.join(args)} failed")
    return Run(wall_s, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, 0)


def write(path: Path, samples: np.ndarray, rate_hz: int = RATE_HZ) -> Path:
    sf.write(path, samples, rate_hz, subtype="PCM_16")
    return path


def example_night(work: Path, hours: float) -> Path:
    out = work / "night.flac"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_night.py"),
            "--examples",
            "--hours",
            str(hours),
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def quiet_room(work: Path, duration_s: float) -> Path:
    bed = read_audio(EXAMPLES_DIR / "quiet-room-synthetic.flac", sample_rate_hz=RATE_HZ).samples
    n = int(duration_s * RATE_HZ)
    return write(work / "quiet.flac", np.tile(bed, n // len(bed) + 1)[:n])


def inputs(night: Path | None, hours: float, work: Path) -> tuple[Path, Path, Path, Path, float]:
    """The night (16 kHz), it at 44.1 kHz, a quiet room as long, 1 s of it; and its length."""
    night = night or example_night(work, hours)
    samples = read_audio(night, sample_rate_hz=RATE_HZ).samples
    night_44k = write(work / "night-44k.flac", soxr.resample(samples, RATE_HZ, 44_100), 44_100)
    one_second = write(work / "one-second.flac", samples[:RATE_HZ])
    night_s = len(samples) / RATE_HZ
    return night, night_44k, quiet_room(work, night_s), one_second, night_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--night", type=Path, help="A night to listen to (default: generated).")
    parser.add_argument("--hours", type=float, default=1.0, help="Length of the generated audio.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Made in a process of its own: a process forked from one that held the audio would
        # inherit its peak memory, and so would every `listen` measured after it.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            made = pool.submit(inputs, args.night, args.hours, work).result()
        night, night_44k, quiet, one_second, night_s = made
        startup = listen(one_second, work)
        runs = {
            "night, 16 kHz": (listen(night, work), night_s),
            "night, 16 kHz, no gate": (listen(night, work, "--no-gate"), night_s),
            "night, 44.1 kHz (resampled)": (listen(night_44k, work), night_s),
            "quiet room": (listen(quiet, work), night_s),
            "quiet room, no gate": (listen(quiet, work, "--no-gate"), night_s),
        }
        classified = {
            "night, 16 kHz": classify(night),
            "night, 44.1 kHz (resampled)": classify(night_44k),
        }
    table = Table(
        "input",
        "audio (min)",
        "wall (s)",
        "pipeline CPU (s)",
        "% of one core",
        "peak RSS (MB)",
        f"database (MB per {NIGHT_HOURS} h)",
        title=f"miserymeter listen, one process, start-up {startup.wall_s:.2f} s wall, "
        f"{startup.cpu_s:.2f} s CPU, {startup.peak_rss_mb:.0f} MB",
    )
    for name, (run, audio_s) in runs.items():
        pipeline_cpu_s = max(0.0, run.cpu_s - startup.cpu_s)
        table.add_row(
            name,
            f"{audio_s / 60:.0f}",
            f"{run.wall_s:.1f}",
            f"{pipeline_cpu_s:.1f}",
            f"{100 * pipeline_cpu_s / audio_s:.2f}",
            f"{run.peak_rss_mb:.0f}",
            f"{run.db_bytes * NIGHT_HOURS * 3600 / audio_s / 1e6:.2f}",
        )
    console = Console(width=140)
    console.print(table)
    classify_table = Table(
        "input",
        "audio (min)",
        "wall (s)",
        "CPU (s)",
        "peak RSS (MB)",
        title="miserymeter classify, one process, the whole file",
    )
    for name, run in classified.items():
        classify_table.add_row(
            name,
            f"{night_s / 60:.0f}",
            f"{run.wall_s:.1f}",
            f"{run.cpu_s:.1f}",
            f"{run.peak_rss_mb:.0f}",
        )
    console.print(classify_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
