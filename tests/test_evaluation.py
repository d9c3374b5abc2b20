"""Whole-clip scores: a clip counts by its highest-scoring window, as `classify` flags a file."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from miserymeter.train.evaluation import clip_peaks, summarise

LABELS = ("_silence_", "_unknown_", "crying")


class Loudness(nn.Module):
    """Says `crying` in proportion to a window's peak amplitude."""

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        loudness = 10 * waveform.abs().amax(dim=1)
        return torch.stack([torch.zeros_like(loudness), torch.zeros_like(loudness), loudness], 1)


def test_a_clip_scores_its_loudest_window_wherever_it_is() -> None:
    quiet = np.zeros(5_000, dtype=np.float32)
    late_burst = quiet.copy()
    late_burst[4_500] = 1.0  # in the last window, which is aligned to the end of the clip
    short = np.full(300, 0.5, dtype=np.float32)  # shorter than a window: zero-padded
    peaks = clip_peaks(Loudness(), [quiet, late_burst, short], n_window=1_000)
    assert peaks.shape == (3, 3)
    np.testing.assert_allclose(peaks[:, 2], [crying(0.0), crying(10.0), crying(5.0)], rtol=1e-6)


def crying(logit: float) -> float:
    return float(np.exp(logit) / (2 + np.exp(logit)))


def test_clip_roc_auc_ranks_clips_by_their_peaks() -> None:
    windows = np.array([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    peaks = np.array([[0.0, 0.1, 0.9], [0.0, 0.6, 0.4], [0.0, 0.3, 0.7]])
    result = summarise(
        windows, np.array([2, 1]), LABELS, peaks=peaks, clip_truth=np.array([2, 1, 1])
    )
    assert result.roc_auc["crying"] == 1.0
    assert result.clip_roc_auc["crying"] == 1.0
    flipped = summarise(
        windows, np.array([2, 1]), LABELS, peaks=peaks, clip_truth=np.array([1, 1, 2])
    )
    assert flipped.clip_roc_auc["crying"] == 0.5


def test_a_model_no_better_than_guessing_the_commonest_label_is_told_so() -> None:
    """Four `_unknown_` windows and two cries: saying `crying` to all is 33 % right, below the
    67 % of always saying `_unknown_`; a model that tells them apart is not called out."""
    truth = np.array([1, 1, 1, 1, 2, 2])
    all_crying = np.tile([0.1, 0.1, 0.8], (6, 1))
    result = summarise(all_crying, truth, LABELS, peaks=all_crying, clip_truth=truth)
    assert result.no_better_than_guessing() == (
        "accuracy 33.3% is no better than always answering '_unknown_' (66.7% of the windows)"
    )
    right = np.array([[0.1, 0.8, 0.1]] * 4 + [[0.1, 0.1, 0.8]] * 2)
    learned = summarise(right, truth, LABELS, peaks=right, clip_truth=truth)
    assert learned.no_better_than_guessing() is None
