"""Classification metrics in numpy: confusion matrix, precision/recall, ROC-AUC, thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, *, n_labels: int) -> np.ndarray:
    """Counts [true label, predicted label]."""
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-label precision and recall from a confusion matrix (NaN where undefined)."""
    hits = np.diag(matrix).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / matrix.sum(axis=0), hits / matrix.sum(axis=1)


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive outscores a negative (ties count half)."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # average rank of tied scores
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False-positive and true-positive rates as the threshold falls past each distinct score,
    from (0, 0) to (1, 1): the points `roc_auc` is the area under (trapezoids)."""
    order = np.argsort(-scores, kind="stable")
    flagged_positive = np.cumsum(positive[order])
    flagged_negative = np.cumsum(~positive[order])
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = np.r_[0, flagged_negative[last_of_each_score]] / flagged_negative[-1]
        tpr = np.r_[0, flagged_positive[last_of_each_score]] / flagged_positive[-1]
    return fpr, tpr


@dataclass(frozen=True)
class OperatingPoint:
    """A score threshold and what it gives on labelled data."""

    threshold: float
    false_positive_rate: float
    recall: float


def threshold_for_fpr(
    scores: np.ndarray, positive: np.ndarray, *, max_false_positive_rate: float
) -> OperatingPoint:
    """The lowest threshold whose false-positive rate stays within the target, and its recall."""
    negatives = np.sort(scores[~positive])[::-1]
    # The tolerance keeps e.g. 0.29 * 100 (= 28.999999999999996) from allowing only 28.
    n_allowed = int(np.floor(max_false_positive_rate * len(negatives) + 1e-9))
    if n_allowed < len(negatives):
        threshold = float(np.nextafter(negatives[n_allowed], np.inf))
    else:  # every negative may be flagged (or there are none): flag everything
        threshold = float(scores.min())
    flagged = scores >= threshold
    return OperatingPoint(
        threshold=threshold,
        false_positive_rate=float(flagged[~positive].mean()) if len(negatives) else 0.0,
        recall=float(flagged[positive].mean()) if positive.any() else float("nan"),
    )
