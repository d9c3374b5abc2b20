"""PNG plots of a training run: the confusion matrix and the training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_confusion_matrix(matrix: np.ndarray, labels: tuple[str, ...], path: Path) -> None:
    """Counts with true labels as rows, predictions as columns."""
    size = 1.2 + 0.9 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(
            col,
            row,
            str(count),
            ha="center",
            va="center",
            color="white" if count > threshold else "black",
        )
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_training_curves(
    train_steps: list[float],
    train_loss: list[float],
    train_accuracy: list[float],
    eval_steps: list[float],
    eval_accuracy: list[float],
    path: Path,
) -> None:
    """Cross-entropy and accuracy over the steps, validation accuracy beside training's."""
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax_loss.plot(train_steps, train_loss, lw=0.8)
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.plot(train_steps, train_accuracy, lw=0.8, label="training batch")
    ax_acc.plot(eval_steps, eval_accuracy, "o-", label="validation")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
