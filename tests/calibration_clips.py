"""A family's reviewed clips for the calibration tests and benchmark: back-to-back windows of
the bundled examples at the bundled model's rate, named as the dashboard's reviews are."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.inference.bundled import example_clips

RATE_HZ = 16_000
WINDOW_S = 2
# The examples' labels as a family would review them; 5 crying windows, 12 others.
LABELS = {"crying": "crying", "cat": "noise", "dog": "noise", "laughing": "noise",
          "music": "music", "speech": "speech", "quiet": "silence"}  # fmt: skip


def write_reviewed_clips(data_dir: Path, *, room: str = "demo") -> list[Path]:
    """One FLAC file per whole window of each example, in its label's folder; the files."""
    written = []
    n_window = WINDOW_S * RATE_HZ
    for example in example_clips():
        label = LABELS[example.name.split("-")[0]]
        samples = read_audio(example, sample_rate_hz=RATE_HZ).samples
        (data_dir / label).mkdir(parents=True, exist_ok=True)
        for k in range(len(samples) // n_window):
            path = (
                data_dir / label / f"review-{room}-{example.stem[:12]}-{k}_nohash_00000000ms.flac"
            )
            sf.write(path, samples[k * n_window : (k + 1) * n_window], RATE_HZ)
            written.append(path)
    return written
