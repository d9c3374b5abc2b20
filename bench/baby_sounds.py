"""Baby sounds no licensed recording offers, made for measurement: babble and infant laughter.

- babble: espeak-ng voicing random syllables ("ba", "da", "ma" ...) in several voices, played
  1.4-1.9 times faster, which lifts its pitch into a toddler's range;
- infant laughter: adult laughter pitched up 1.5-2 times (to a 300-600 Hz fundamental).

Used by `bench/detector.py` as sounds the detector must not alarm on; never trained on.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from miserymeter.audio.io import read_audio

RATE_HZ = 16_000
SYLLABLES = ("ba", "da", "ma", "ga", "na", "pa", "ta", "wa", "ya", "bu", "di", "mo", "ah", "oh")
VOICES = ("en", "en-us", "en+f2", "en+f3", "en+f4", "en+m3", "en+klatt", "fr", "es", "de")


def babble(n_clips: int, *, rng: np.random.Generator) -> list[np.ndarray]:
    """`n_clips` of espeak-ng babble at a toddler's pitch, at RATE_HZ."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is missing: apt-get install espeak-ng")
    clips = []
    for _ in range(n_clips):
        words = " ".join(
            "".join(rng.choice(SYLLABLES) for _ in range(rng.integers(1, 4)))
            for _ in range(rng.integers(2, 7))
        )
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            command = [espeak, "-v", str(rng.choice(VOICES)), "-p", str(rng.integers(70, 100))]
            command += ["-s", str(rng.integers(110, 171)), "-w", wav.name, words]
            subprocess.run(command, check=True)
            samples, rate = sf.read(wav.name, dtype="float32")
        clips.append(_faster(samples, rate, factor=rng.uniform(1.4, 1.9)))
    return clips


def infant_laughter(recordings: list[Path], *, rng: np.random.Generator) -> list[np.ndarray]:
    """Each laughter recording pitched (and sped) up 1.5-2 times, at RATE_HZ."""
    return [
        _faster(read_audio(p, sample_rate_hz=RATE_HZ).samples, RATE_HZ, rng.uniform(1.5, 2.0))
        for p in recordings
    ]


def _faster(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Played `factor` times faster: resampled as if recorded at `rate * factor`."""
    return soxr.resample(samples, rate * factor, RATE_HZ).astype(np.float32)
