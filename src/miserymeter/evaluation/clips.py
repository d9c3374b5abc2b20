"""Clip-level scores of a model on a folder-per-label dataset, as `classify` scores files.

A clip's score for the wanted word is its highest-scoring window. It is flagged (predicted as
the wanted word) when that score reaches the threshold; otherwise its prediction is the other
label with the highest mean over its windows. Folders named after a model label are that
label; every other folder is `_unknown_`, as in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter.constants import AUDIO_SUFFIXES, TRAINING_CLIPS_KEY, UNKNOWN_LABEL
from miserymeter.errors import ConfigError, DatasetError
from miserymeter.evaluation.classification import (
    OperatingPoint,
    confusion_matrix,
    precision_recall,
    roc_auc,
    threshold_for_fpr,
)
from miserymeter.inference.classify import classify_file
from miserymeter.inference.model import Classifier, ModelInfo
from miserymeter.prepare.fingerprints import fingerprint, read_fingerprints
from miserymeter.prepare.layout import labelled_clips, left_out_warning


@dataclass(frozen=True)
class ClipScores:
    """Every clip's folder, and per label its peak and mean window score."""

    labels: tuple[str, ...]
    folders: tuple[str, ...]
    peak: np.ndarray
    mean: np.ndarray


@dataclass(frozen=True)
class ClipEvaluation:
    """How the model did on the clips at `threshold`, and the threshold for `target_fpr`."""

    labels: tuple[str, ...]
    wanted_word: str
    threshold: float
    n_clips: int
    scores: np.ndarray
    positive: np.ndarray
    roc_auc: float
    matrix: np.ndarray
    precision: dict[str, float]
    recall: dict[str, float]
    target_fpr: float
    at_target_fpr: OperatingPoint
    flagged_by_folder: tuple[tuple[str, int, int], ...]


def dataset_clips(data_dir: Path) -> list[tuple[Path, str]]:
    """(clip, folder) for every clip of `data_dir`, as training finds them; a DatasetError if
    there are none."""
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: no such data folder; pass --data_dir=FOLDER_OF_LABELS")
    clips = labelled_clips(data_dir)
    if not clips:
        raise DatasetError(
            left_out_warning(data_dir)
            or f"{data_dir}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in label folders; "
            "lay it out as data/<label>/<clip>"
        )
    return clips


def trained_on(
    clips: list[tuple[Path, str]], info: ModelInfo, *, model: Path
) -> frozenset[Path] | None:
    """The clips the model was trained on (its metadata holds their files' fingerprints), or
    None when it records none (the bundled model, one trained by an earlier version)."""
    text = info.metadata.get(TRAINING_CLIPS_KEY)
    if text is None:
        return None
    known = read_fingerprints(text, model=model)
    return frozenset(path for path, _ in clips if fingerprint(path) in known)


def score_clips(classifier: Classifier, clips: list[tuple[Path, str]]) -> ClipScores:
    """Score every (clip, folder) in windows of the model's clip duration."""
    labels = classifier.info.labels
    peak, mean = [], []
    for path, _ in clips:
        scores = classify_file(classifier, path)
        peak.append([scores.peak[label] for label in labels])
        mean.append([scores.mean[label] for label in labels])
    return ClipScores(
        labels=labels,
        folders=tuple(folder for _, folder in clips),
        peak=np.asarray(peak),
        mean=np.asarray(mean),
    )


def evaluate_clips(
    clips: ClipScores, *, wanted_word: str, threshold: float, target_fpr: float
) -> ClipEvaluation:
    """ROC-AUC, confusion matrix, precision/recall and the threshold for `target_fpr`."""
    labels = clips.labels
    wanted = labels.index(wanted_word)
    true = np.array([labels.index(f if f in labels else UNKNOWN_LABEL) for f in clips.folders])
    positive = true == wanted
    scores = clips.peak[:, wanted]
    others = clips.mean.copy()
    others[:, wanted] = -np.inf
    predicted = np.where(scores >= threshold, wanted, others.argmax(axis=1))
    matrix = confusion_matrix(true, predicted, n_labels=len(labels))
    precision, recall = precision_recall(matrix)
    folders = sorted(set(clips.folders))
    in_folder = {f: np.array([c == f for c in clips.folders]) for f in folders}
    return ClipEvaluation(
        labels=labels,
        wanted_word=wanted_word,
        threshold=threshold,
        n_clips=len(scores),
        scores=scores,
        positive=positive,
        roc_auc=roc_auc(scores, positive),
        matrix=matrix,
        precision=dict(zip(labels, precision.tolist(), strict=True)),
        recall=dict(zip(labels, recall.tolist(), strict=True)),
        target_fpr=target_fpr,
        at_target_fpr=threshold_for_fpr(scores, positive, max_false_positive_rate=target_fpr),
        flagged_by_folder=tuple(
            (f, int(in_folder[f].sum()), int((predicted == wanted)[in_folder[f]].sum()))
            for f in folders
        ),
    )


def check_wanted_word(
    clips: list[tuple[Path, str]],
    wanted_word: str,
    *,
    labels: tuple[str, ...],
    data_dir: Path,
    model: Path,
) -> None:
    """Refuse a wanted word the model lacks, or a dataset without clips of it or of others."""
    if wanted_word not in labels:
        raise ConfigError(
            f"{model}: has no label '{wanted_word}' (its labels: {', '.join(labels)}); "
            "pass one of them as --wanted_word"
        )
    n_wanted = sum(folder == wanted_word for _, folder in clips)
    if n_wanted == 0:
        raise DatasetError(
            f"{data_dir / wanted_word}: no clips of '{wanted_word}'; "
            "put them in that folder to measure how well it is found"
        )
    if n_wanted == len(clips):
        raise DatasetError(
            f"{data_dir}: only '{wanted_word}' clips; add folders of other sounds "
            "to count false positives"
        )
