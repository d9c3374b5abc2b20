"""Rich tables for the training run: split counts, confusion matrices, final metrics."""

from __future__ import annotations

import math
from collections import Counter

from rich.table import Table

from miserymeter.prepare.split import SPLITS, Split
from miserymeter.train.evaluation import EvalResult


def split_table(
    labels: tuple[str, ...], counts: dict[Split, Counter[str]], n_silence: dict[Split, int]
) -> Table:
    """Files per label and split (generated `_silence_` windows counted as such)."""
    table = Table(title="Dataset", title_justify="left")
    table.add_column("label")
    for split in SPLITS:
        table.add_column(split, justify="right")
    for label in labels:
        row = [counts[s][label] + (n_silence[s] if label == labels[0] else 0) for s in SPLITS]
        table.add_row(label, *map(str, row))
    return table


def confusion_table(result: EvalResult, *, title: str) -> Table:
    """The confusion matrix with its labels: rows true, columns predicted."""
    table = Table(
        title=f"{title}: accuracy {result.accuracy:.1%} on {result.n_examples} "
        f"windows, cross-entropy {result.cross_entropy:.3f}",
        title_justify="left",
    )
    table.add_column("true \\ predicted")
    for label in result.labels:
        table.add_column(label, justify="right")
    for label, row in zip(result.labels, result.matrix, strict=True):
        table.add_row(label, *map(str, row))
    return table


def metrics_table(result: EvalResult) -> Table:
    """Per-label precision and recall; for wanted labels, ROC-AUC and recall at 1 % FPR of the
    loudest windows, and ROC-AUC of whole clips (their peak window)."""
    table = Table(title="Per label (test split)", title_justify="left")
    for column in ("label", "precision", "recall", "ROC-AUC", "recall @ 1% FPR", "clip ROC-AUC"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in result.labels:
        table.add_row(
            label,
            _number(result.precision[label]),
            _number(result.recall[label]),
            _number(result.roc_auc.get(label)),
            _number(result.recall_at_1pct_fpr.get(label)),
            _number(result.clip_roc_auc.get(label)),
        )
    return table


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return "n/a" if math.isnan(value) else f"{value:.3f}"
