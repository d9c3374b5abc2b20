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


def _heard(embeddings: np.ndarray, is_target: np.ndarray) -> HeardClips:
    """Clips of one window each, every one a sound YAMNet is sure is a confusing one (a
    meow at 0.9, crying at 0.1): its guard holds the head back on all of them."""
    n = len(embeddings)
    opinions = Opinions(np.full(n, 0.1), np.full(n, 0.9), np.zeros(n), np.zeros(n), embeddings)
    return HeardClips(opinions, np.arange(n), is_target)


@pytest.mark.parametrize(
    ("n_others", "a_sure_other", "sure"),
    [(60, False, embedding_head.HEAD_SURE), (20, False, None), (60, True, None)],
    ids=["60 others, none sure", "20 others", "60 others, one sure"],
)
def test_the_head_is_trusted_over_the_guard_only_where_other_sounds_never_made_it_so_sure(
    n_others: int, a_sure_other: bool, sure: float | None
) -> None:
    """From HEAD_SURE the head outweighs YAMNet's guard, but only for a head measured on at
    least MIN_OTHERS_FOR_SURE other validation clips, none of which it was that sure of
    where the guard held it back (a head taught on a few clips is sure of music too)."""
    rng = np.random.default_rng(0)
    training = _heard(
        np.concatenate([_around(CRY, 60, rng), _around(-CRY, 300, rng)]),
        np.arange(360) < 60,
    )
    others = _around(-CRY, n_others, rng)
    if a_sure_other:
        others[0] = CRY * 3  # a meow the head takes for the surest of cries
    validation = _heard(
        np.concatenate([_around(CRY, 30, rng), others]), np.arange(30 + n_others) < 30
    )
    assert fit_embedding_head(training, validation).sure == sure
