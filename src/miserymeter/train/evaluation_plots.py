"""PNG plots of a clip-level evaluation (`evaluate --plots`): ROC curve, score histograms.

Here, not in `evaluation/`, because matplotlib comes with the `train` extra; importing this
module without it is a MissingExtraError that says what to install. Needs no PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from miserymeter.errors import MissingExtraError
from miserymeter.evaluation.classification import roc_curve
from miserymeter.evaluation.clips import ClipEvaluation

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:
    raise MissingExtraError(
        "plots need matplotlib: install the train extra with `pip install 'miserymeter[train]'`"
    ) from e

ROC_PNG = "roc.png"
HISTOGRAM_PNG = "scores.png"


def plot_evaluation(evaluation: ClipEvaluation, folder: Path) -> list[Path]:
    """Write the ROC curve and the score histograms into `folder` (made by the caller);
    returns their paths."""
    paths = [folder / ROC_PNG, folder / HISTOGRAM_PNG]
    plot_roc(evaluation, paths[0])
    plot_score_histograms(evaluation, paths[1])
    return paths


def plot_roc(evaluation: ClipEvaluation, path: Path) -> None:
    """The ROC curve, with the operating point at the target false-positive rate."""
    fpr, tpr = roc_curve(evaluation.scores, evaluation.positive)
    point = evaluation.at_target_fpr
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"ROC-AUC {evaluation.roc_auc:.3f}")
    ax.plot([0, 1], [0, 1], ":", color="grey", lw=0.8)
    ax.plot(
        point.false_positive_rate,
        point.recall,
        "o",
        label=f"threshold {point.threshold:.3f}: FPR {point.false_positive_rate:.1%}, "
        f"recall {point.recall:.1%}",
    )
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel(f"recall ({evaluation.wanted_word})")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_score_histograms(evaluation: ClipEvaluation, path: Path) -> None:
    """Clip scores of the wanted word's clips and of the others, with both thresholds."""
    bins = np.linspace(0.0, 1.0, 41).tolist()
    fig, ax = plt.subplots(figsize=(7, 4))
    word = evaluation.wanted_word
    ax.hist(evaluation.scores[evaluation.positive], bins=bins, alpha=0.6, label=word)
    ax.hist(evaluation.scores[~evaluation.positive], bins=bins, alpha=0.6, label=f"not {word}")
    ax.axvline(evaluation.threshold, color="black", lw=0.8, label="threshold")
    ax.axvline(
        evaluation.at_target_fpr.threshold,
        color="red",
        ls="--",
        lw=0.8,
        label=f"threshold at {evaluation.target_fpr * 100:g} % FPR",
    )
    ax.set_xlabel(f"clip score: highest window's {word} probability")
    ax.set_ylabel("clips")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
