"""Folder-per-label datasets: scanning and loading into memory (the split: `prepare.split`)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from miserymeter.audio.io import read_audio
from miserymeter.constants import (
    AUDIO_SUFFIXES,
    BACKGROUND_NOISE_DIR,
    SILENCE_LABEL,
    UNKNOWN_LABEL,
)
from miserymeter.errors import DatasetError
from miserymeter.prepare.layout import audio_files, label_folders, left_out_warning
from miserymeter.prepare.split import SPLITS, Split, which_set

MIN_CLIPS_TO_SCORE = 10  # of a wanted word in validation or testing, for its figures to count


@dataclass(frozen=True)
class Example:
    """One labelled file: its label index in the model's output and its split."""

    path: Path
    label_index: int
    split: Split


@dataclass(frozen=True)
class DatasetIndex:
    """Every usable file of a dataset folder, labelled and split."""

    data_dir: Path
    labels: tuple[str, ...]
    examples: tuple[Example, ...]
    background_paths: tuple[Path, ...]
    unknown_folders: tuple[str, ...]  # label folders not wanted: their clips are `_unknown_`

    def in_split(self, split: Split) -> list[Example]:
        return [e for e in self.examples if e.split == split]

    def counts(self) -> dict[Split, Counter[str]]:
        """Number of files per label, per split."""
        result: dict[Split, Counter[str]] = {s: Counter() for s in SPLITS}
        for e in self.examples:
            result[e.split][self.labels[e.label_index]] += 1
        return result


def model_labels(wanted_words: list[str]) -> tuple[str, ...]:
    """Output labels in the tutorial's order: silence, unknown, then the wanted words."""
    return (SILENCE_LABEL, UNKNOWN_LABEL, *wanted_words)


def scan_dataset(
    data_dir: Path,
    *,
    wanted_words: list[str],
    validation_percentage: float,
    testing_percentage: float,
) -> DatasetIndex:
    """Index `data_dir`: one sub-folder per label (`prepare/layout.py` says which files are
    clips); folders not wanted become `_unknown_`."""
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: no such data folder; pass --data_dir=FOLDER_OF_LABELS")
    files_by_folder = {f.name: audio_files(f) for f in label_folders(data_dir)}
    if not wanted_words:
        held = ", ".join(f for f in files_by_folder if f != BACKGROUND_NOISE_DIR) or "none"
        raise DatasetError(
            f"{data_dir}: no --wanted_words; name the label folders to learn, e.g. "
            f"--wanted_words=crying (its folders: {held})"
        )
    labels = model_labels(wanted_words)
    for word in wanted_words:
        if word not in files_by_folder:
            if _holds_clips_itself(data_dir):
                raise DatasetError(
                    f"{data_dir}: holds clips itself, not a folder per label; pass the folder "
                    f"that holds it, --data_dir={data_dir.parent}"
                )
            raise DatasetError(
                f"{data_dir / word}: wanted word '{word}' has no folder; "
                f"create it with its clips or drop it from --wanted_words"
            )
        if not files_by_folder[word]:
            raise DatasetError(
                left_out_warning(data_dir, label=word)
                or f"{data_dir / word}: folder has no audio files ({', '.join(AUDIO_SUFFIXES)}); "
                "add clips or drop it from --wanted_words"
            )
    examples = []
    for folder, paths in files_by_folder.items():
        if folder == BACKGROUND_NOISE_DIR:
            continue
        label_index = (
            labels.index(folder) if folder in wanted_words else labels.index(UNKNOWN_LABEL)
        )
        for path in paths:
            split = which_set(
                path,
                validation_percentage=validation_percentage,
                testing_percentage=testing_percentage,
            )
            examples.append(Example(path, label_index, split))
    return DatasetIndex(
        data_dir=data_dir,
        labels=labels,
        examples=tuple(examples),
        background_paths=tuple(files_by_folder.get(BACKGROUND_NOISE_DIR, [])),
        unknown_folders=tuple(
            f for f in files_by_folder if f not in wanted_words and f != BACKGROUND_NOISE_DIR
        ),
    )


def _holds_clips_itself(data_dir: Path) -> bool:
    """Whether `data_dir` is a label folder (audio files at its top), not a folder of them."""
    return any(f.suffix.lower() in AUDIO_SUFFIXES for f in data_dir.iterdir() if f.is_file())


def data_sha256(index: DatasetIndex) -> str:
    """A hash of every file's relative path and bytes: what a model was trained on."""
    digest = hashlib.sha256()
    paths = sorted([e.path for e in index.examples] + list(index.background_paths))
    for path in paths:
        digest.update(str(path.relative_to(index.data_dir)).encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class ConversionReport:
    """What loading had to change so the audio matches what the model will hear."""

    n_files: int = 0
    resampled_from_hz: Counter[int] = field(default_factory=Counter)
    n_mixed_down: int = 0
    n_padded: int = 0
    n_cropped: int = 0

    def lines(self, *, sample_rate_hz: int, clip_duration_ms: int) -> list[str]:
        """Human-readable summary, one conversion per line (empty when nothing changed)."""
        out = [
            f"resampled {n} files from {rate} Hz to {sample_rate_hz} Hz (soxr)"
            for rate, n in sorted(self.resampled_from_hz.items())
        ]
        if self.n_mixed_down:
            out.append(f"mixed {self.n_mixed_down} multi-channel files down to mono")
        if self.n_padded:
            out.append(f"zero-padded {self.n_padded} files shorter than {clip_duration_ms} ms")
        if self.n_cropped:
            out.append(
                f"cropped {self.n_cropped} files longer than {clip_duration_ms} ms "
                "(training takes a random loud window each time)"
            )
        return out


def load_clips(
    paths: list[Path], *, sample_rate_hz: int, n_window: int, report: ConversionReport
) -> list[np.ndarray]:
    """Read every file as mono float32 at the model's rate, recording what was converted."""
    clips = []
    for path in paths:
        audio = read_audio(path, sample_rate_hz=sample_rate_hz)
        report.n_files += 1
        if audio.conversion.resampled_from_hz is not None:
            report.resampled_from_hz[audio.conversion.resampled_from_hz] += 1
        if audio.conversion.mixed_down_from_channels is not None:
            report.n_mixed_down += 1
        if len(audio.samples) < n_window:
            report.n_padded += 1
        elif len(audio.samples) > n_window:
            report.n_cropped += 1
        clips.append(audio.samples)
    return clips


def thin_split_warnings(
    counts: dict[Split, Counter[str]], wanted_words: Sequence[str]
) -> list[str]:
    """A line for each wanted word with too few clips in validation or testing for their
    figures to mean anything (2 test clips give a recall of 0, 0.5 or 1)."""
    lines = []
    for word in wanted_words:
        for split in ("validation", "testing"):
            n = counts[split][word]
            if n < MIN_CLIPS_TO_SCORE:
                lines.append(
                    f"{word}: {n} clip{'' if n == 1 else 's'} in the {split} split, too few for "
                    f"its figures to mean much (wanted: {MIN_CLIPS_TO_SCORE}); label more nights "
                    "or episodes"
                )
    return lines
