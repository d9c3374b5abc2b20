"""YAMNet's second opinion: does AudioSet's model hear crying, or laughter, babble, a pet?

Our small network listens every second and hears crying well, but takes a baby's laughter or
babble, a cat or a dog for it. Where it finds a window likely enough to be crying, YAMNet
(AudioSet's 521 classes, shipped as `models/yamnet.onnx`) is asked, and either of two
opinions may keep the window's crying probability up; it takes the larger:

- **YAMNet's labels**: the network's probability times the square root of the share YAMNet's
  own scores give crying among crying and laughter, babbling, a dog, a cat or music; where YAMNet
  hears a bed of noise (a white-noise machine, a fan, water, wind) more surely than crying,
  those sounds, a voice or an animal, its labels cannot tell them apart under it, and the
  share counts as at least MASKED_SHARE;
- **YAMNet's embedding**: a logistic head over its 1024-d embedding, trained on the model's own
  labelled clips (`train.embedding_head`, carried in the exported file's metadata), times a
  guard that holds it back where YAMNet is sure of one of those sounds (score above
  CONFUSING_SURE and above its crying score), unless the head itself is sure (from its
  `sure` level, which training sets only for a head that heard enough other sounds to be
  trusted there): in a room's echo YAMNet names some cries a dog's howl, where the head,
  taught on cats, dogs and laughs among its other sounds, still hears crying.

The first follows the network through a whole cry on a noisy night; the second knows crying
the network misses and what the network takes for it. The rest of each window's probability
is spread over the other labels in proportion. The rule, its classes and its constants were
chosen on the validation split (model card, "YAMNet's second opinion"). YAMNet runs only on
windows our model already finds likely to be crying, so a quiet night costs nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter.errors import ModelError
from miserymeter.inference.onnx_sessions import cpu_session

YAMNET_SAMPLE_RATE_HZ = 16_000
YAMNET_PATCH_SAMPLES = 15_600  # 0.975 s: one patch of 96 frames of 10 ms
YAMNET_INPUT = "waveform"
YAMNET_SCORES = "scores"
YAMNET_EMBEDDING = "embedding"
EMBEDDING_SIZE = 1024
YAMNET_CLASSES = 521

# AudioSet classes (index: display name), from YAMNet's class map.
CRYING_CLASSES = {19: "Crying, sobbing", 20: "Baby cry, infant cry"}
CONFUSING_CLASSES = {
    4: "Babbling",
    13: "Laughter",
    14: "Baby laughter",
    15: "Giggle",
    16: "Snicker",
    17: "Belly laugh",
    18: "Chuckle, chortle",
    69: "Dog",
    70: "Bark",
    71: "Yip",
    72: "Howl",
    73: "Bow-wow",
    75: "Whimper (dog)",
    76: "Cat",
    77: "Purr",
    78: "Meow",
    80: "Caterwaul",
    132: "Music",
}
# What a white-noise machine, a fan or an empty room sounds like to YAMNet: heard above crying
# and the confusing sounds, such a bed masks what is under it.
MASKING_CLASSES = {
    277: "Wind",
    279: "Wind noise (microphone)",
    282: "Water",
    283: "Rain",
    284: "Raindrop",
    285: "Rain on surface",
    286: "Stream",
    287: "Waterfall",
    288: "Ocean",
    289: "Waves, surf",
    290: "Steam",
    367: "Hair dryer",
    371: "Vacuum cleaner",
    406: "Mechanical fan",
    407: "Air conditioning",
    439: "Splash, splatter",
    440: "Slosh",
    447: "Spray",
    481: "Rustle",
    490: "Hum",
    494: "Silence",
    507: "Noise",
    508: "Environmental noise",
    509: "Static",
    510: "Mains hum",
    512: "Sidetone",
    514: "White noise",
    515: "Pink noise",
    516: "Throbbing",
    517: "Vibration",
}
# A voice or an animal YAMNet names above the bed: heard through it, so the bed masks nothing
# (babble under a white-noise machine is "Speech" to YAMNet, not "Babbling").
HEARD_THROUGH_BED_CLASSES = {
    0: "Speech",
    1: "Child speech, kid speaking",
    67: "Animal",
    68: "Domestic animals, pets",
}
SHARE_EPSILON = 0.001
# A bed masks from this score (and when it beats crying, the confusing sounds, a voice and an
# animal); there crying's share counts as at least MASKED_SHARE.
MASKED_FROM = 0.3
MASKED_SHARE = 0.8
# YAMNet is sure of a confusing sound from this score (and when it beats its crying score).
CONFUSING_SURE = 0.5
# YAMNet hears a quiet cry as "Silence": each patch is brought to a typical AudioSet level
# first (RMS, limited by its peak reaching full scale), as a microphone's gain is arbitrary.
PATCH_LEVEL_RMS = 0.1  # -20 dBFS
# Below this crying probability a window is not crying whatever YAMNet says: it is not asked.
ASK_FROM_PROBABILITY = 0.05


@dataclass(frozen=True)
class EmbeddingHead:
    """P(crying) = sigmoid(weights . embedding + bias) over YAMNet's 1024-d embedding;
    from `sure` (None: never) YAMNet's guard does not hold it back."""

    weights: np.ndarray
    bias: float
    sure: float | None = None

    def probability(self, embeddings: np.ndarray) -> np.ndarray:
        """The head's crying probability of each embedding [n, 1024]."""
        logits = embeddings.astype(np.float64) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> str:
        """The head as the exported file's metadata carries it."""
        weights = [float(f"{w:.6g}") for w in self.weights]
        sure = {} if self.sure is None else {"sure": self.sure}
        return json.dumps({"weights": weights, "bias": float(f"{self.bias:.6g}"), **sure})

    @classmethod
    def from_json(cls, text: str) -> EmbeddingHead:
        """The head back from metadata; ValueError when it is not one."""
        data = json.loads(text)
        weights = np.asarray(data["weights"], dtype=np.float64)
        if weights.shape != (EMBEDDING_SIZE,):
            raise ValueError(f"{weights.shape[0]} weights, not {EMBEDDING_SIZE}")
        sure = data.get("sure")
        return cls(weights, float(data["bias"]), None if sure is None else float(sure))


@dataclass(frozen=True)
class Opinions:
    """Per window, YAMNet's highest crying score, highest score of a confusing sound, of a
    bed of noise and of a voice or an animal (over the window's patches), and its embedding
    (their mean)."""

    crying: np.ndarray
    confusing: np.ndarray
    bed: np.ndarray
    voice_or_animal: np.ndarray
    embeddings: np.ndarray

    @property
    def crying_share(self) -> np.ndarray:
        """Crying's share among crying and the confusing sounds, in YAMNet's scores."""
        return (self.crying + SHARE_EPSILON) / (self.crying + self.confusing + 2 * SHARE_EPSILON)

    @property
    def masked(self) -> np.ndarray:
        """Where YAMNet hears a bed of noise (from MASKED_FROM) above crying, the confusing
        sounds, a voice and an animal."""
        heard = np.maximum.reduce([self.crying, self.confusing, self.voice_or_animal])
        return (self.bed >= MASKED_FROM) & (self.bed > heard)

    @property
    def labels_factor(self) -> np.ndarray:
        """What the network's crying probability is multiplied by on YAMNet's labels: the
        square root of crying's share, at least MASKED_SHARE where a bed of noise masks."""
        share = self.crying_share
        return np.sqrt(np.where(self.masked, np.maximum(share, MASKED_SHARE), share))

    @property
    def guard(self) -> np.ndarray:
        """1, or where YAMNet is sure of a confusing sound, the square root of crying's share
        among crying and that sound."""
        sure = (self.confusing > CONFUSING_SURE) & (self.confusing > self.crying)
        return np.where(sure, np.sqrt(self.crying_share), 1.0)


class SecondOpinion:
    """An ONNX Runtime session over YAMNet, scoring windows of any length at 16 kHz."""

    def __init__(
        self,
        path: Path,
        *,
        n_threads: int = 1,
        confusing_classes: Collection[int] = tuple(CONFUSING_CLASSES),
    ) -> None:
        if not path.is_file():
            raise ModelError(f"{path}: no such file; reinstall miserymeter (it ships YAMNet)")
        self._session = cpu_session(path, n_threads=n_threads)
        self._crying = list(CRYING_CLASSES)
        self._confusing = list(confusing_classes)
        self._masking = list(MASKING_CLASSES)
        self._heard_through = list(HEARD_THROUGH_BED_CLASSES)

    def heard(self, patch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """YAMNet's 521 AudioSet scores and its embedding of one patch of 15,600 samples,
        brought to PATCH_LEVEL_RMS."""
        batch = np.ascontiguousarray(at_typical_level(patch), dtype=np.float32)[None, :]
        scores, embedding = self._session.run(
            [YAMNET_SCORES, YAMNET_EMBEDDING], {YAMNET_INPUT: batch}
        )
        return np.asarray(scores[0]), np.asarray(embedding[0])

    def class_scores(self, patch: np.ndarray) -> np.ndarray:
        """YAMNet's 521 AudioSet scores of one patch of 15,600 samples, at PATCH_LEVEL_RMS."""
        return self.heard(patch)[0]

    def opinions(self, windows: np.ndarray) -> Opinions:
        """The highest crying, confusing-sound, bed and voice-or-animal scores over each
        window's patches, and the window's mean embedding."""
        best, embeddings = [], []
        for window in windows:
            heard = [self.heard(p) for p in patches(window)]
            best.append(np.stack([s for s, _ in heard]).max(axis=0))
            embeddings.append(np.mean([e for _, e in heard], axis=0))
        scores = np.stack(best) if best else np.zeros((0, YAMNET_CLASSES))
        return Opinions(
            crying=scores[:, self._crying].max(axis=1),
            confusing=scores[:, self._confusing].max(axis=1),
            bed=scores[:, self._masking].max(axis=1),
            voice_or_animal=scores[:, self._heard_through].max(axis=1),
            embeddings=np.array(embeddings) if embeddings else np.zeros((0, EMBEDDING_SIZE)),
        )

    def confirm(
        self,
        probabilities: np.ndarray,
        windows: np.ndarray,
        *,
        head: EmbeddingHead,
        label: int,
    ) -> np.ndarray:
        """`probabilities` with `label` replaced by the larger of the two opinions (see the
        module), the other labels scaled to the rest, for the windows where `label` reaches
        ASK_FROM_PROBABILITY."""
        confirmed = probabilities.copy()
        asked = np.flatnonzero(probabilities[:, label] >= ASK_FROM_PROBABILITY)
        if len(asked) == 0:
            return confirmed
        opinions = self.opinions(windows[asked])
        by_labels = probabilities[asked, label] * opinions.labels_factor
        by_head = head.probability(opinions.embeddings)
        by_embedding = by_head * guarded(by_head, opinions.guard, sure=head.sure)
        kept = np.maximum(by_labels, by_embedding)
        others = np.delete(probabilities[asked], label, axis=1).astype(np.float64)
        total = others.sum(axis=1, keepdims=True)
        spread = np.where(total > 1e-9, others / np.maximum(total, 1e-12), 1.0 / others.shape[1])
        confirmed[asked] = np.insert(spread * (1.0 - kept)[:, None], label, kept, axis=1)
        return confirmed


def guarded(by_head: np.ndarray, guard: np.ndarray, *, sure: float | None) -> np.ndarray:
    """What the head's probabilities are multiplied by: YAMNet's guard, or 1 from `sure`."""
    return guard if sure is None else np.where(by_head >= sure, 1.0, guard)


def at_typical_level(patch: np.ndarray) -> np.ndarray:
    """`patch` scaled to PATCH_LEVEL_RMS, or less where its peak would pass full scale."""
    rms = float(np.sqrt(np.mean(np.square(patch, dtype=np.float64))))
    peak = float(np.max(np.abs(patch)))
    if peak == 0.0:
        return patch
    return patch * min(PATCH_LEVEL_RMS / rms, 1.0 / peak)


def patches(window: np.ndarray) -> list[np.ndarray]:
    """YAMNet patches spread evenly over `window` (as many as fit end to end, at least one);
    a window shorter than a patch is zero-padded."""
    n = len(window)
    if n <= YAMNET_PATCH_SAMPLES:
        return [np.pad(window, (0, YAMNET_PATCH_SAMPLES - n))]
    n_patches = max(1, round(n / YAMNET_PATCH_SAMPLES))
    starts = np.linspace(0, n - YAMNET_PATCH_SAMPLES, n_patches).round().astype(int)
    return [window[s : s + YAMNET_PATCH_SAMPLES] for s in starts]
