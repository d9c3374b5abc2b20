"""The embedding head learns most from the other sounds it takes for crying."""

from __future__ import annotations

import numpy as np
import pytest

from miserymeter.inference.second_opinion import EMBEDDING_SIZE, Opinions
from miserymeter.train import embedding_head
from miserymeter.train.embedding_head import HeardClips, fit_embedding_head

CRY = np.eye(EMBEDDING_SIZE)[0] * 2.0
# An angry cat: most of a cry's direction, and a little of its own.
HARD = np.eye(EMBEDDING_SIZE)[0] * 1.5 + np.eye(EMBEDDING_SIZE)[1]


def _around(centre: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` embeddings scattered around `centre` in 16 of the 1024 dimensions."""
    spread = np.zeros((n, EMBEDDING_SIZE))
    spread[:, :16] = rng.normal(size=(n, 16))
    return centre + spread


def _cries_above_hard(seed: int) -> float:
    """How often an unseen cry scores above an unseen hard sound (the ROC-AUC between them),
    for a head trained on 60 cries, 300 easy other sounds and 15 hard ones."""
    rng = np.random.default_rng(seed)
    embeddings = np.concatenate(
        [_around(CRY, 60, rng), _around(-CRY, 300, rng), _around(HARD, 15, rng)]
    )
    n = len(embeddings)
    zeros = np.zeros(n)
    heard = HeardClips(
        Opinions(zeros, zeros, zeros, zeros, embeddings), np.arange(n), np.arange(n) < 60
    )
    head = fit_embedding_head(heard, heard)
    unseen = np.random.default_rng(seed + 100)
    cries = head.probability(_around(CRY, 1000, unseen))
    hard = head.probability(_around(HARD, 1000, unseen))
    return float(np.mean(cries[:, None] > hard[None, :]))


def test_the_hard_other_sounds_teach_the_head_more(monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = range(3)
    boosted = [_cries_above_hard(seed) for seed in seeds]
    monkeypatch.setattr(embedding_head, "HARD_NEGATIVE_BOOST", 0.0)
    plain = [_cries_above_hard(seed) for seed in seeds]
    assert all(b > p + 0.01 for b, p in zip(boosted, plain, strict=True)), (boosted, plain)
