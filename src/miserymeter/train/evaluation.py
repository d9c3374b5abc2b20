"""Score a fixed set of windows, and whole clips, with a network; summarise how well it did."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from miserymeter.constants import SILENCE_LABEL, UNKNOWN_LABEL
from miserymeter.evaluation.classification import (
    confusion_matrix,
    precision_recall,
    roc_auc,
    threshold_for_fpr,
)
from miserymeter.frontend.windows import cover_with_windows

TARGET_FALSE_POSITIVE_RATE = 0.01


@dataclass(frozen=True)
class EvalResult:
    """Accuracy, confusion matrix, per-label precision/recall, and per wanted label ROC-AUC:
    of one window per clip (its loudest) and of whole clips (their highest-scoring window, as
    `miserymeter classify` flags a file)."""

    labels: tuple[str, ...]
    n_examples: int
    accuracy: float
    cross_entropy: float
    matrix: np.ndarray
    precision: dict[str, float]
    recall: dict[str, float]
    roc_auc: dict[str, float]
    recall_at_1pct_fpr: dict[str, float]
    clip_roc_auc: dict[str, float]

    def no_better_than_guessing(self) -> str | None:
        """Why this model is no better than always answering the commonest true label (its
        accuracy at most that label's share of the examples), else None."""
        per_label = self.matrix.sum(axis=1)
        commonest = int(np.argmax(per_label))
        share = float(per_label[commonest]) / max(self.n_examples, 1)
        if self.accuracy > share:
            return None
        return (
            f"accuracy {self.accuracy:.1%} is no better than always answering "
            f"'{self.labels[commonest]}' ({share:.1%} of the windows)"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; undefined values (NaN) become None."""
        return _without_nan_dict(
            {
                "labels": list(self.labels),
                "n_examples": self.n_examples,
                "accuracy": self.accuracy,
                "cross_entropy": self.cross_entropy,
                "confusion_matrix": self.matrix.tolist(),
                "precision": self.precision,
                "recall": self.recall,
                "roc_auc": self.roc_auc,
                "recall_at_1pct_fpr": self.recall_at_1pct_fpr,
                "clip_roc_auc": self.clip_roc_auc,
            }
        )


def _without_nan_dict(values: dict[str, object]) -> dict[str, object]:
    return {k: _without_nan(v) for k, v in values.items()}


def _without_nan(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


@torch.no_grad()
def predict(model: nn.Module, windows: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """Softmax probabilities [n, labels] in eval mode (restores the model's mode after)."""
    was_training = model.training
    model.eval()
    try:
        chunks = [
            torch.softmax(model(torch.from_numpy(windows[i : i + batch_size])), dim=-1).numpy()
            for i in range(0, len(windows), batch_size)
        ]
    finally:
        model.train(was_training)
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)


def clip_peaks(model: nn.Module, clips: list[np.ndarray], *, n_window: int) -> np.ndarray:
    """Each clip's highest probability of each label over back-to-back windows [clips, labels]."""
    covered = [cover_with_windows(clip, n_window)[1].astype(np.float32) for clip in clips]
    if not covered:
        return np.zeros((0, 0), dtype=np.float32)
    probabilities = predict(model, np.concatenate(covered))
    ends = np.cumsum([len(windows) for windows in covered])
    return np.stack([p.max(axis=0) for p in np.split(probabilities, ends[:-1])])


def summarise(
    probabilities: np.ndarray,
    truth: np.ndarray,
    labels: tuple[str, ...],
    *,
    peaks: np.ndarray,
    clip_truth: np.ndarray,
) -> EvalResult:
    """Metrics of window predictions against true label indices, and of clips' `peaks`."""
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(truth, predicted, n_labels=len(labels))
    precision, recall = precision_recall(matrix)
    picked = probabilities[np.arange(len(truth)), truth]
    wanted = [i for i, label in enumerate(labels) if label not in (SILENCE_LABEL, UNKNOWN_LABEL)]
    auc, recall_at_fpr, clip_auc = {}, {}, {}
    for i in wanted:
        positive = truth == i
        auc[labels[i]] = roc_auc(probabilities[:, i], positive)
        clip_auc[labels[i]] = roc_auc(peaks[:, i], clip_truth == i) if len(peaks) else float("nan")
        if positive.any() and (~positive).any():
            point = threshold_for_fpr(
                probabilities[:, i], positive, max_false_positive_rate=TARGET_FALSE_POSITIVE_RATE
            )
            recall_at_fpr[labels[i]] = point.recall
        else:
            recall_at_fpr[labels[i]] = float("nan")
    return EvalResult(
        labels=labels,
        n_examples=len(truth),
        accuracy=float((predicted == truth).mean()) if len(truth) else float("nan"),
        cross_entropy=float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()) if len(truth) else 0.0,
        matrix=matrix,
        precision=dict(zip(labels, precision.tolist(), strict=True)),
        recall=dict(zip(labels, recall.tolist(), strict=True)),
        roc_auc=auc,
        recall_at_1pct_fpr=recall_at_fpr,
        clip_roc_auc=clip_auc,
    )
