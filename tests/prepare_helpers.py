"""Helpers for the slice/label/stats tests: tiny archives, reading clips."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter.audio.archive import segment_path
from miserymeter.inference.bundled import EXAMPLES_DIR

CRYING = EXAMPLES_DIR / "crying-fullband-esc50-4-185575-B.flac"
PHONE_CRYING = EXAMPLES_DIR / "crying-phone-donateacry-d6cda191.flac"
DOG = EXAMPLES_DIR / "dog-esc50-4-184575-A.flac"
QUIET_ROOM = EXAMPLES_DIR / "quiet-room-synthetic.flac"
SPEECH = EXAMPLES_DIR / "speech-librispeech-198-209-0000.flac"


def read_int16(path: Path) -> tuple[np.ndarray, int]:
    """A clip's samples as int16 (clips are 16-bit WAV), and its rate."""
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1), info
    samples, rate_hz = sf.read(str(path), dtype="int16")
    return samples, int(rate_hz)


def read_float(path: Path) -> tuple[np.ndarray, int]:
    samples, rate_hz = sf.read(str(path), dtype="float32")
    return samples, int(rate_hz)


def write_segments(
    archive_dir: Path, start: datetime, pieces: list[np.ndarray], *, sample_rate_hz: int
) -> datetime:
    """Write `pieces` as back-to-back FLAC segments from `start`; returns the end time."""
    for piece in pieces:
        path = segment_path(archive_dir, start)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), piece, sample_rate_hz, subtype="PCM_16")
        start += timedelta(seconds=len(piece) / sample_rate_hz)
    return start


def tile_to(path: Path, n_samples: int) -> np.ndarray:
    """An example clip repeated until `n_samples` long (float32, its own rate)."""
    samples, _ = read_float(path)
    return np.resize(samples, n_samples).astype(np.float32)


# The start of an AAC voice memo in an MP4 box ("ftyp M4A "): what a phone shares, and
# soundfile cannot read.
M4A_HEADER = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00"
