"""Score whole files: the `label_wav` step, for files of any format, rate and length."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter.audio.io import read_audio
from miserymeter.errors import AudioError
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.model import Classifier


@dataclass(frozen=True)
class WindowScores:
    """Label probabilities of one window, `start_s` seconds into the file."""

    start_s: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class FileScores:
    """A file's windows and, per label, the mean and the maximum over its windows."""

    path: Path
    duration_s: float
    windows: tuple[WindowScores, ...]
    mean: dict[str, float]
    peak: dict[str, float]

    def ranked(self) -> list[tuple[str, float]]:
        """Labels by mean probability, most likely first."""
        return sorted(self.mean.items(), key=lambda item: item[1], reverse=True)


# Shorter than this, a file holds no sound a person could name (a cry lasts seconds).
MIN_DURATION_S = 0.1


def classify_file(classifier: Classifier, path: Path, *, batch_size: int = 16) -> FileScores:
    """Score `path` in consecutive windows of the model's clip duration."""
    info = classifier.info
    audio = read_audio(path, sample_rate_hz=info.sample_rate_hz)
    if audio.duration_s < MIN_DURATION_S:
        raise AudioError(
            f"{path}: {audio.duration_s * 1000:.1f} ms of audio, too short to hear anything "
            f"(at least {MIN_DURATION_S * 1000:.0f} ms); pass a longer recording"
        )
    starts, windows = cover_with_windows(audio.samples, info.n_window)
    probabilities = np.concatenate(
        [classifier.score(windows[i : i + batch_size]) for i in range(0, len(windows), batch_size)]
    )
    return FileScores(
        path=path,
        duration_s=audio.duration_s,
        windows=tuple(
            WindowScores(float(start) / info.sample_rate_hz, _by_label(info.labels, row))
            for start, row in zip(starts, probabilities, strict=True)
        ),
        mean=_by_label(info.labels, probabilities.mean(axis=0)),
        peak=_by_label(info.labels, probabilities.max(axis=0)),
    )


def _by_label(labels: tuple[str, ...], values: np.ndarray) -> dict[str, float]:
    return {label: round(float(v), 4) for label, v in zip(labels, values, strict=True)}
