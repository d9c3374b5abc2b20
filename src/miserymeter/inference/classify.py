"""Score whole files: the `label_wav` step, for files of any format, rate and length."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter.audio.stream import CountedBlocks, inspect_source, mono_blocks, resampled
from miserymeter.errors import AudioError
from miserymeter.frontend.windows import stream_windows
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
    """Score `path` in consecutive windows of the model's clip duration, streamed: a night's
    recording is read a block at a time."""
    info = classifier.info
    source = inspect_source(path)
    if source.duration_s < MIN_DURATION_S:
        raise AudioError(
            f"{path}: {source.duration_s * 1000:.1f} ms of audio, too short to hear anything "
            f"(at least {MIN_DURATION_S * 1000:.0f} ms); pass a longer recording"
        )
    read = CountedBlocks(mono_blocks(path))
    samples = resampled(read, from_hz=source.sample_rate_hz, to_hz=info.sample_rate_hz)
    starts: list[int] = []
    probabilities: list[np.ndarray] = []
    windows = stream_windows(samples, info.n_window)
    while batch := list(itertools.islice(windows, batch_size)):
        starts += [start for start, _ in batch]
        probabilities.append(classifier.score(np.stack([window for _, window in batch])))
    scores = np.concatenate(probabilities)
    return FileScores(
        path=path,
        duration_s=read.n_frames / source.sample_rate_hz,
        windows=tuple(
            WindowScores(start / info.sample_rate_hz, _by_label(info.labels, row))
            for start, row in zip(starts, scores, strict=True)
        ),
        mean=_by_label(info.labels, scores.mean(axis=0)),
        peak=_by_label(info.labels, scores.max(axis=0)),
    )


def _by_label(labels: tuple[str, ...], values: np.ndarray) -> dict[str, float]:
    return {label: round(float(v), 4) for label, v in zip(labels, values, strict=True)}
