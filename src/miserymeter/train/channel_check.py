"""Does a model hear crying, or the channel? Checks for the cry-corpus trap.

The corpus's cries are 8 kHz phone audio and everything else is full band, so a model can
learn "band-limited means crying". Two checks catch that: full-band cries it never saw must
still score as crying, and other sounds passed through a phone channel must not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from miserymeter.audio.io import read_audio
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.model import Classifier
from miserymeter.train.dataset import scan_dataset

PHONE_RATE_HZ = 8_000
DETECTION_THRESHOLD = 0.5


@dataclass(frozen=True)
class ChannelCheck:
    """How often one kind of audio is flagged as crying (peak window ≥ 0.5)."""

    name: str
    n_files: int
    flagged_fraction: float
    mean_peak_probability: float


def phone_channel(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Through an 8 kHz phone channel and back, as the corpus's cries were recorded."""
    narrow = soxr.resample(samples, sample_rate_hz, PHONE_RATE_HZ, quality="HQ")
    return soxr.resample(narrow, PHONE_RATE_HZ, sample_rate_hz, quality="HQ")[: len(samples)]


def peak_crying(classifier: Classifier, samples: np.ndarray, *, label: str = "crying") -> float:
    """The highest crying probability over a recording's windows."""
    _, windows = cover_with_windows(samples, classifier.info.n_window)
    return float(classifier.score(windows)[:, classifier.info.labels.index(label)].max())


def check_channel(
    classifier: Classifier, name: str, paths: list[Path], *, through_phone: bool = False
) -> ChannelCheck:
    """Flag rate of `paths`, optionally after a phone channel."""
    rate = classifier.info.sample_rate_hz
    peaks = []
    for path in paths:
        samples = read_audio(path, sample_rate_hz=rate).samples
        peaks.append(
            peak_crying(classifier, phone_channel(samples, rate) if through_phone else samples)
        )
    scores = np.asarray(peaks)
    return ChannelCheck(
        name=name,
        n_files=len(paths),
        flagged_fraction=float((scores >= DETECTION_THRESHOLD).mean()),
        mean_peak_probability=float(scores.mean()),
    )


def corpus_channel_checks(
    classifier: Classifier,
    data_dir: Path,
    heldout_cries: list[Path],
    *,
    validation_percentage: float,
    testing_percentage: float,
) -> list[ChannelCheck]:
    """The checks on the prepared cry corpus: test-split files and held-out full-band cries."""
    index = scan_dataset(
        data_dir,
        wanted_words=["crying"],
        validation_percentage=validation_percentage,
        testing_percentage=testing_percentage,
    )
    crying = index.labels.index("crying")
    test = index.in_split("testing")
    phone_cries = [e.path for e in test if e.label_index == crying]
    others = [e.path for e in test if e.label_index != crying]
    return [
        check_channel(classifier, "full-band cries, never trained on (ESC-50)", heldout_cries),
        check_channel(classifier, "phone cries, test split (donateacry)", phone_cries),
        check_channel(classifier, "other sounds, test split, full band", others),
        check_channel(
            classifier, "other sounds, test split, through 8 kHz phone", others, through_phone=True
        ),
    ]
