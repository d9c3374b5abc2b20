"""Score a fixed set of windows with a network and summarise how well it did."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from miserymeter.constants import SILENCE_LABEL, UNKNOWN_LABEL
from miserymeter.metrics import confusion_matrix, precision_recall, roc_auc, threshold_for_fpr

TARGET_FALSE_POSITIVE_RATE = 0.01


@dataclass(frozen=True)
class EvalResult:
    """Accuracy, confusion matrix, per-label precision/recall, and per wanted label ROC-AUC."""

    labels: tuple[str, ...]
    n_examples: int
    accuracy: float
    cross_entropy: float
    matrix: np.ndarray
    precision: dict[str, float]
    recall: dict[str, float]
    roc_auc: dict[str, float]
    recall_at_1pct_fpr: dict[str, float]

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


def summarise(probabilities: np.ndarray, truth: np.ndarray, labels: tuple[str, ...]) -> EvalResult:
    """Metrics of predictions against true label indices."""
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(truth, predicted, n_labels=len(labels))
    precision, recall = precision_recall(matrix)
    picked = probabilities[np.arange(len(truth)), truth]
    wanted = [i for i, label in enumerate(labels) if label not in (SILENCE_LABEL, UNKNOWN_LABEL)]
    auc, recall_at_fpr = {}, {}
    for i in wanted:
        positive = truth == i
        auc[labels[i]] = roc_auc(probabilities[:, i], positive)
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
    )
