"""Metrics against brute-force definitions and small hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from miserymeter.evaluation.classification import (
    confusion_matrix,
    precision_recall,
    roc_auc,
    roc_curve,
    threshold_for_fpr,
)


def brute_force_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Fraction of (positive, negative) pairs the positive wins, ties counting half."""
    pos, neg = scores[positive][:, None], scores[~positive][None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_equals_pairwise_count_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    positive = rng.random(300) < 0.3
    # Few distinct values: many ties, within and across the classes.
    scores = rng.integers(0, 6, size=300) / 5 + 0.2 * positive

    assert roc_auc(scores, positive) == pytest.approx(brute_force_auc(scores, positive), abs=1e-12)


def test_roc_auc_of_continuous_scores_equals_pairwise_count() -> None:
    rng = np.random.default_rng(7)
    positive = rng.random(500) < 0.5
    scores = rng.normal(size=500) + positive

    assert roc_auc(scores, positive) == pytest.approx(brute_force_auc(scores, positive), abs=1e-12)


def test_roc_auc_extremes() -> None:
    positive = np.array([False, False, True, True])

    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), positive) == 1.0
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), positive) == 0.0
    assert roc_auc(np.full(4, 0.5), positive) == 0.5


def test_roc_auc_is_nan_with_one_class() -> None:
    assert math.isnan(roc_auc(np.array([0.1, 0.9]), np.array([True, True])))
    assert math.isnan(roc_auc(np.array([0.1, 0.9]), np.array([False, False])))


def test_confusion_matrix_counts_true_rows_predicted_columns() -> None:
    true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 2, 2, 2, 0])

    matrix = confusion_matrix(true, predicted, n_labels=4)

    np.testing.assert_array_equal(
        matrix,
        [
            [1, 1, 0, 0],
            [0, 2, 1, 0],
            [1, 0, 3, 0],
            [0, 0, 0, 0],
        ],
    )
    assert matrix.sum() == len(true)


def test_precision_recall_from_matrix() -> None:
    matrix = np.array(
        [
            [1, 1, 0],
            [0, 2, 1],
            [0, 0, 0],
        ]
    )

    precision, recall = precision_recall(matrix)

    np.testing.assert_allclose(precision[:2], [1 / 1, 2 / 3])
    assert precision[2] == 0.0  # predicted once, never right
    np.testing.assert_allclose(recall[:2], [1 / 2, 2 / 3])
    assert math.isnan(recall[2])  # label never occurs: recall undefined


def test_precision_is_nan_for_a_label_never_predicted() -> None:
    precision, recall = precision_recall(np.array([[2, 0], [3, 0]]))

    assert precision[0] == pytest.approx(0.4)
    assert math.isnan(precision[1])
    np.testing.assert_allclose(recall, [1.0, 0.0])


def brute_force_threshold(scores: np.ndarray, positive: np.ndarray, target: float) -> float:
    """The lowest candidate threshold whose false-positive rate is at most `target`."""
    candidates = np.unique(np.concatenate([scores, np.nextafter(scores, np.inf)]))
    negatives = scores[~positive]
    for threshold in candidates:
        if (negatives >= threshold).sum() / len(negatives) <= target:
            return float(threshold)
    raise AssertionError("no threshold reaches the target")


def labelled_scores(*, with_ties: bool) -> tuple[np.ndarray, np.ndarray]:
    """50 positives and 100 negatives; one positive scores below every negative."""
    rng = np.random.default_rng(3)
    positive = np.concatenate([np.ones(50, dtype=bool), np.zeros(100, dtype=bool)])
    scores = rng.random(150) * 0.8 + 0.2 * positive
    scores[0] = -1.0
    return (np.round(scores, 2) if with_ties else scores), positive


@pytest.mark.parametrize("with_ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("target", [0.0, 0.01, 0.05, 0.29, 0.5, 1.0])
def test_threshold_for_fpr_is_the_lowest_threshold_within_target(
    target: float, with_ties: bool
) -> None:
    scores, positive = labelled_scores(with_ties=with_ties)

    point = threshold_for_fpr(scores, positive, max_false_positive_rate=target)

    assert point.threshold == brute_force_threshold(scores, positive, target)
    flagged = scores >= point.threshold
    assert point.false_positive_rate == pytest.approx(flagged[~positive].mean())
    assert point.false_positive_rate <= target
    assert point.recall == pytest.approx(flagged[positive].mean())


def test_threshold_for_fpr_on_separable_scores() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    positive = np.array([False, False, False, True, True, True])

    point = threshold_for_fpr(scores, positive, max_false_positive_rate=0.0)

    assert 0.3 < point.threshold <= 0.7
    assert point.false_positive_rate == 0.0
    assert point.recall == 1.0


def test_threshold_for_fpr_lets_allowed_false_positives_through() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.95, 0.5, 0.6, 0.7, 0.8, 0.9])
    positive = np.array([False] * 5 + [True] * 5)

    strict = threshold_for_fpr(scores, positive, max_false_positive_rate=0.0)
    loose = threshold_for_fpr(scores, positive, max_false_positive_rate=0.2)

    assert strict.threshold > 0.95
    assert strict.recall == 0.0
    assert loose.threshold == pytest.approx(0.4, abs=1e-6)
    assert loose.false_positive_rate == pytest.approx(0.2)
    assert loose.recall == 1.0


def test_threshold_for_fpr_without_negatives_flags_everything() -> None:
    scores = np.array([0.2, 0.6, 0.9])

    point = threshold_for_fpr(scores, np.ones(3, dtype=bool), max_false_positive_rate=0.01)

    assert point.threshold == 0.2
    assert point.recall == 1.0
    assert point.false_positive_rate == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_roc_curve_area_is_roc_auc_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    positive = rng.random(200) < 0.4
    scores = rng.integers(0, 6, size=200) / 5 + 0.2 * positive

    fpr, tpr = roc_curve(scores, positive)

    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(scores, positive), abs=1e-12)


def test_roc_curve_steps_once_per_distinct_score() -> None:
    scores = np.array([0.9, 0.8, 0.8, 0.3])
    positive = np.array([True, True, False, False])

    fpr, tpr = roc_curve(scores, positive)

    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 1.0, 1.0])
