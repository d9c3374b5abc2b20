"""CPU and memory of `miserymeter record`: `make bench-record` (prints a table).

The microphone is the tests' ALSA file-backed device, fed through a FIFO at real-time pace
(`tests/file_microphone.py`), so the recorder sees what a USB microphone would give it: one
block every 0.1 s, all night. Measures CPU time over wall time (% of one core), peak RSS, and
archive bytes per hour of audio, for each sample rate. (A FIFO reader that is faster than
its writer gets short reads, which ALSA's file plugin pads with stale audio, so the recorder
archives somewhat more audio than wall time: the CPU figure errs on the high side.)
"""

from __future__ import annotations

import argparse
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from file_microphone import DEVICE_NAME, RATE_HZ, FileMicrophone
from miserymeter.audio.archive import list_segments
from miserymeter.audio.io import read_audio
from miserymeter.inference.bundled import EXAMPLES_DIR


@dataclass(frozen=True)
class RecordBench:
    sample_rate_hz: int
    wall_s: float
    cpu_percent: float
    peak_rss_mb: float
    audio_s: float
    archive_mb_per_hour: float


def room_audio(duration_s: float) -> np.ndarray:
    """The example clips, looped, as int16 at the device's rate."""
    clips = [
        read_audio(p, sample_rate_hz=RATE_HZ).samples for p in sorted(EXAMPLES_DIR.glob("*.flac"))
    ]
    loop = np.concatenate(clips)
    samples = np.resize(loop, round(duration_s * RATE_HZ))
    return np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)


def bench(sample_rate_hz: int, duration_s: float, work_dir: Path) -> RecordBench:
    home = work_dir / f"home-{sample_rate_hz}"
    home.mkdir()
    microphone = FileMicrophone(home)
    microphone.open_fifo()
    microphone.feed(room_audio(duration_s + 5.0), speed=1.0)
    archive = work_dir / f"archive-{sample_rate_hz}"
    command = [
        sys.executable,
        "-m",
        "miserymeter.cli",
        "record",
        "--device",
        DEVICE_NAME,
        "--out",
        str(archive),
        "--sample_rate",
        str(sample_rate_hz),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_s = time.monotonic()
    process = subprocess.Popen(
        command, env=microphone.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(duration_s)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    wall_s = time.monotonic() - started_s
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    microphone.close()
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    segments = list_segments(archive)
    archive_bytes = sum(s.path.stat().st_size for s in segments)
    audio_s = sum(s.duration_s for s in segments)
    return RecordBench(
        sample_rate_hz=sample_rate_hz,
        wall_s=wall_s,
        cpu_percent=100.0 * cpu_s / wall_s,
        peak_rss_mb=after.ru_maxrss / 1024,
        audio_s=audio_s,
        archive_mb_per_hour=archive_bytes / 1e6 * 3600 / audio_s,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="Recording time per run.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for rate_hz in (16_000, 22_050):
            rows.append(bench(rate_hz, args.seconds, Path(work)))
    table = Table(
        "sample rate (Hz)",
        "wall (s)",
        "CPU (% of one core)",
        "peak RSS (MB)",
        "audio archived (s)",
        "archive (MB per hour of audio)",
        title="miserymeter record, real-time input",
    )
    for row in rows:
        table.add_row(
            str(row.sample_rate_hz),
            f"{row.wall_s:.1f}",
            f"{row.cpu_percent:.2f}",
            f"{row.peak_rss_mb:.0f}",
            f"{row.audio_s:.1f}",
            f"{row.archive_mb_per_hour:.1f}",
        )
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
