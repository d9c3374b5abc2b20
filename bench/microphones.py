"""Other microphones and rooms: `make bench-microphones` (prints one table).

Each clip of the validation split (`night_clips.py`: cries, cats, laughter, made infant
laughter and babble, other sounds) is changed as another microphone or room would change it,
`--draws` times where the change is random, and scored as `classify` scores a file (its
highest window), by the bundled model (or `--model`) as `listen` runs it and by its network
alone. A cell
is the share flagged at the detector's threshold: "shipped (network alone)".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from miserymeter.detect.settings import DetectorSettings
from miserymeter.evaluation.room_echo import in_a_room
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from night_clips import RATE_HZ, split_clips

THRESHOLD = DetectorSettings().on_probability
COLUMNS = ("phone cries", "full-band cries", "cats", "laughter", "babble", "other")
Change = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def at_level(samples: np.ndarray, dbfs: float) -> np.ndarray:
    """`samples` scaled to an RMS of `dbfs`."""
    return samples * 10 ** ((dbfs - rms_dbfs(samples)) / 20)


def reverberant(
    samples: np.ndarray, rng: np.random.Generator, *, rt60_s: float, direct_db: float
) -> np.ndarray:
    """`samples` in a room (`evaluation.room_echo`) at RATE_HZ."""
    return in_a_room(samples, rng, rt60_s=rt60_s, direct_db=direct_db, sample_rate_hz=RATE_HZ)


def band(samples: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """`samples` through a microphone's band: 2nd-order roll-off below `low_hz`, 4th above
    `high_hz` (magnitudes, zero phase)."""
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE_HZ)
    gain = 1 / np.sqrt(1 + (low_hz / np.maximum(freqs, 1.0)) ** 4)
    gain /= np.sqrt(1 + (freqs / high_hz) ** 8)
    return np.fft.irfft(np.fft.rfft(samples) * gain, n=len(samples))


def clipped(samples: np.ndarray, *, over: float) -> np.ndarray:
    """`samples` with their peak driven to `over` times full scale, clipped."""
    return np.clip(samples / (np.max(np.abs(samples)) + 1e-12) * over, -1.0, 1.0)


def compressed(samples: np.ndarray, *, threshold_dbfs: float, ratio: float) -> np.ndarray:
    """`samples` through an automatic gain: above `threshold_dbfs` (10 ms RMS), `ratio`:1."""
    power = np.convolve(samples**2, np.ones(160) / 160, mode="same")
    level = 10 * np.log10(power + 1e-18)
    over = np.maximum(level - threshold_dbfs, 0.0)
    return samples * 10 ** (-over * (1 - 1 / ratio) / 20)


CHANGES: dict[str, Change] = {
    "as they are, at -26 dBFS": lambda x, rng: at_level(x, -26),
    "a quiet microphone, -50 dBFS": lambda x, rng: at_level(x, -50),
    "clipped, peaks 2x full scale": lambda x, rng: clipped(x, over=2),
    "clipped, peaks 4x full scale": lambda x, rng: clipped(x, over=4),
    "a cheap microphone, 200 Hz-5 kHz": lambda x, rng: at_level(band(x, 200, 5000), -26),
    "an automatic gain, 6:1 above -30 dBFS": lambda x, rng: at_level(
        compressed(at_level(x, -20), threshold_dbfs=-30, ratio=6), -26
    ),
    "a room's echo, RT60 0.5 s, direct 0 dB": lambda x, rng: at_level(
        reverberant(x, rng, rt60_s=0.5, direct_db=0), -26
    ),
    "far in an echoing room, RT60 0.7 s, direct -10 dB": lambda x, rng: at_level(
        reverberant(x, rng, rt60_s=0.7, direct_db=-10), -26
    ),
    "that, a cheap microphone, -45 dBFS": lambda x, rng: at_level(
        band(reverberant(x, rng, rt60_s=0.7, direct_db=-10), 200, 5000), -45
    ),
}


def flagged_share(classifier: Classifier, clips: list[np.ndarray]) -> float:
    """The share of `clips` whose highest window reaches THRESHOLD."""
    crying = classifier.info.labels.index("crying")
    flagged = 0
    for samples in clips:
        _, windows = cover_with_windows(samples.astype(np.float32), classifier.info.n_window)
        flagged += classifier.score(windows)[:, crying].max() >= THRESHOLD
    return flagged / max(1, len(clips))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="An exported model.")
    parser.add_argument("--draws", type=int, default=2, help="Draws of each random change.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="miserymeter-microphones-") as work:
        clips = split_clips(args.corpus, Path(work), "validation", np.random.default_rng(args.seed))
    by_kind = {k: [c.samples for c in clips if c.kind == k] for k in COLUMNS}
    shipped = Classifier(args.model)
    network = Classifier(args.model, second_opinion=False)
    table = Table(
        title=f"Validation clips through other microphones and rooms, flagged at {THRESHOLD}: "
        f"shipped (network alone); {args.draws} draws of each",
        title_justify="left",
    )
    table.add_column("the clips")
    for kind in COLUMNS:
        table.add_column(f"{kind} ({len(by_kind[kind])})", justify="right")
    for name, change in CHANGES.items():
        cells = []
        for kind in COLUMNS:
            rng = np.random.default_rng(args.seed)  # the same rooms for every kind and model
            changed = [change(x, rng) for x in by_kind[kind] for _ in range(args.draws)]
            cells.append(
                f"{flagged_share(shipped, changed):.0%} ({flagged_share(network, changed):.0%})"
            )
        table.add_row(name, *cells)
    console = Console(width=160)
    console.print(table)
    console.print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
