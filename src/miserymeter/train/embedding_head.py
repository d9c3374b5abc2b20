"""Teach YAMNet's embedding the dataset's cries: the head of the runtime's second opinion.

Every window of the training clips is heard by YAMNet (`inference.second_opinion`); a logistic
regression over its 1024-d embedding learns the wanted label against everything else (the
other labels' clips and the background noise), each clip weighing the same and both classes
balanced, with an L2 penalty. It is then fitted again with the other sounds it took for the
label weighing more (up to 1 + HARD_NEGATIVE_BOOST times: an angry cat or a laugh that sounds
like crying teaches more than one more door), the classes still balanced. Its bias is then
shifted so that CALIBRATED_AT, the detector's default threshold to start an episode, flags at
most FLAGGED_NON_TARGET of the validation clips that are not the label, each clip scored as
`classify` scores a file: by its highest window (the head's probability times YAMNet's
guard). Last, the head may be trusted over the guard from HEAD_SURE: where the validation
split holds at least MIN_OTHERS_FOR_SURE other clips and the head reaches HEAD_SURE in none
of their windows that the guard holds back (a head taught on a few clips is sure of music
too). Recipe and constants chosen on the default model's validation split (model card).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from miserymeter.constants import SILENCE_LABEL, UNKNOWN_LABEL
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.second_opinion import (
    YAMNET_SAMPLE_RATE_HZ,
    EmbeddingHead,
    Opinions,
    SecondOpinion,
    guarded,
)

L2_STRENGTH = 1 / 0.3  # the inverse of scikit-learn's C = 0.3
HARD_NEGATIVE_BOOST = 10.0
FLAGGED_NON_TARGET = 0.03
CALIBRATED_AT = 0.7  # the detector's default on_probability
HEAD_SURE = 0.98
MIN_OTHERS_FOR_SURE = 40  # none of 40 reaching it: fewer than 1 in 13 would (95 %)
_LBFGS_STEPS = 200
CRYING_LABEL = "crying"


def wanted_labels(labels: tuple[str, ...]) -> list[str]:
    """The model's labels other than `_silence_` and `_unknown_`."""
    return [label for label in labels if label not in (SILENCE_LABEL, UNKNOWN_LABEL)]


def confirmed_label(labels: tuple[str, ...], sample_rate_hz: int) -> str:
    """The label YAMNet's second opinion confirms: `crying`, or the only wanted label; ""
    when there is none, or the model does not listen at YAMNet's rate."""
    wanted = wanted_labels(labels)
    if sample_rate_hz != YAMNET_SAMPLE_RATE_HZ:
        return ""
    return CRYING_LABEL if CRYING_LABEL in wanted else (wanted[0] if len(wanted) == 1 else "")


def why_unconfirmed(labels: tuple[str, ...], sample_rate_hz: int) -> str:
    """Why YAMNet cannot confirm any label of such a model (`confirmed_label` gives "")."""
    if sample_rate_hz != YAMNET_SAMPLE_RATE_HZ:
        return (
            f"the model listens at {sample_rate_hz} Hz and YAMNet at {YAMNET_SAMPLE_RATE_HZ} Hz; "
            f"train at --sample_rate={YAMNET_SAMPLE_RATE_HZ} for YAMNet to confirm crying "
            "(it tells laughter, babble and pets from it)"
        )
    return (
        f"it confirms '{CRYING_LABEL}' or a single wanted word, and the wanted words are "
        f"{', '.join(wanted_labels(labels)) or 'none'}"
    )


@dataclass(frozen=True)
class HeardClips:
    """YAMNet's opinions of every window of a set of clips, and which clip each came from."""

    opinions: Opinions
    clip_of_window: np.ndarray
    is_target: np.ndarray  # per clip


def hear_clips(
    clips: list[np.ndarray], is_target: list[bool], *, n_window: int, yamnet: SecondOpinion
) -> HeardClips:
    """YAMNet's opinion of each window covering each clip (none for no clips)."""
    parts, owners = [yamnet.opinions(np.zeros((0, n_window)))], [np.zeros(0, dtype=int)]
    for k, clip in enumerate(clips):
        _, windows = cover_with_windows(clip, n_window)
        parts.append(yamnet.opinions(windows))
        owners.append(np.full(len(windows), k))
    opinions = Opinions(
        crying=np.concatenate([p.crying for p in parts]),
        confusing=np.concatenate([p.confusing for p in parts]),
        bed=np.concatenate([p.bed for p in parts]),
        voice_or_animal=np.concatenate([p.voice_or_animal for p in parts]),
        embeddings=np.concatenate([p.embeddings for p in parts]),
    )
    return HeardClips(opinions, np.concatenate(owners), np.asarray(is_target, dtype=bool))


def fit_embedding_head(training: HeardClips, validation: HeardClips) -> EmbeddingHead:
    """The logistic head on `training`, refitted on its hard negatives, its bias set on
    `validation` (see the module)."""
    first = _logistic_regression(training, np.ones(training.is_target.size))
    emphasis = 1.0 + HARD_NEGATIVE_BOOST * _clip_maxima(
        first.probability(_embeddings(training)), training
    )
    emphasis[training.is_target] = 1.0
    head = _logistic_regression(training, emphasis)
    calibrated = _calibrated(head, validation if validation.is_target.size else training)
    return dataclasses.replace(calibrated, sure=_sure_level(calibrated, validation))


def _embeddings(heard: HeardClips) -> np.ndarray:
    """Every window's embedding, in float64."""
    return heard.opinions.embeddings.astype(np.float64)


def _logistic_regression(heard: HeardClips, emphasis: np.ndarray) -> EmbeddingHead:
    """L2-penalised logistic regression on standardised embeddings, folded back to raw ones,
    each clip weighing its `emphasis` within its class."""
    embeddings = _embeddings(heard)
    mean, scale = embeddings.mean(axis=0), embeddings.std(axis=0) + 1e-6
    x = torch.from_numpy((embeddings - mean) / scale)
    target = torch.from_numpy(heard.is_target[heard.clip_of_window].astype(np.float64))
    weight = torch.from_numpy(_sample_weights(heard, emphasis))
    coef = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [coef, bias], max_iter=_LBFGS_STEPS, tolerance_grad=1e-9, line_search_fn="strong_wolfe"
    )

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        logits = x @ coef + bias
        data = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target, weight=weight, reduction="sum"
        )
        value = data + 0.5 * L2_STRENGTH * coef.square().sum()
        value.backward()
        return value

    optimizer.step(loss)
    weights = coef.detach().numpy() / scale
    return EmbeddingHead(weights, float(bias.item() - weights @ mean))


def _sample_weights(heard: HeardClips, emphasis: np.ndarray) -> np.ndarray:
    """Each clip weighs its share of its class's emphasis (its windows share it), and each
    class weighs as much in all as balanced class weights give it (n / 2)."""
    n_windows = np.bincount(heard.clip_of_window, minlength=heard.is_target.size)
    n_clips = heard.is_target.size
    in_class = np.where(
        heard.is_target, emphasis[heard.is_target].sum(), emphasis[~heard.is_target].sum()
    )
    per_clip = n_clips / 2 * emphasis / np.maximum(in_class, 1e-12) / np.maximum(n_windows, 1)
    return per_clip[heard.clip_of_window]


def _clip_maxima(windows: np.ndarray, heard: HeardClips) -> np.ndarray:
    """Each clip's highest value of `windows` (one value per window)."""
    maxima = np.zeros(heard.is_target.size)
    np.maximum.at(maxima, heard.clip_of_window, windows)
    return maxima


def clip_scores(head: EmbeddingHead, heard: HeardClips) -> np.ndarray:
    """Each clip's highest window: the head's probability times YAMNet's guard (or 1 where
    the head is sure)."""
    by_head = head.probability(_embeddings(heard))
    return _clip_maxima(by_head * guarded(by_head, heard.opinions.guard, sure=head.sure), heard)


def _sure_level(head: EmbeddingHead, validation: HeardClips) -> float | None:
    """HEAD_SURE, or None where too few validation clips are other sounds to trust it or
    one of their windows held back by the guard reaches it."""
    others = ~validation.is_target
    if others.sum() < MIN_OTHERS_FOR_SURE:
        return None
    in_others = others[validation.clip_of_window]
    by_head = head.probability(_embeddings(validation))
    held_back = validation.opinions.guard < 1.0
    return None if (in_others & held_back & (by_head >= HEAD_SURE)).any() else HEAD_SURE


def _calibrated(head: EmbeddingHead, validation: HeardClips) -> EmbeddingHead:
    """`head` with its bias shifted so that CALIBRATED_AT flags at most FLAGGED_NON_TARGET of
    `validation`'s non-target clips."""
    others = np.sort(clip_scores(head, validation)[~validation.is_target])[::-1]
    if others.size == 0:
        return head
    threshold = float(np.clip(others[int(FLAGGED_NON_TARGET * others.size)], 1e-6, 1 - 1e-6))
    threshold = math.nextafter(threshold, 1.0)
    shift = math.log(CALIBRATED_AT / (1 - CALIBRATED_AT)) - math.log(threshold / (1 - threshold))
    return EmbeddingHead(head.weights, head.bias + shift)
