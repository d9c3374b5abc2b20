"""YAMNet's second opinion: does AudioSet's model hear crying, or laughter, babble, a pet?

Our small model hears crying well but takes a baby's laughter or babble, a cat or a dog for it;
YAMNet (AudioSet's 521 classes, shipped as `models/yamnet.onnx`) rarely does. A model exported
with the second opinion keeps of its crying probability the square root of the share YAMNet
gives crying among crying and those sounds,

    crying' = crying * sqrt((cry + ε) / (cry + other + 2ε)),

moving the rest to `_unknown_`: nearly all of it where YAMNet hears crying, little where it
hears laughter or a meow. The rule and its classes were chosen on the validation split
(model card, "YAMNet's second opinion"). YAMNet runs only on windows our model already finds
likely to be crying, so a quiet night costs nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter.errors import ModelError
from miserymeter.inference.onnx_sessions import cpu_session

YAMNET_SAMPLE_RATE_HZ = 16_000
YAMNET_PATCH_SAMPLES = 15_600  # 0.975 s: one patch of 96 frames of 10 ms
YAMNET_INPUT = "waveform"
YAMNET_SCORES = "scores"

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
}
SHARE_EPSILON = 0.001
# YAMNet hears a quiet cry as "Silence": each patch is brought to a typical AudioSet level
# first (RMS, limited by its peak reaching full scale), as a microphone's gain is arbitrary.
PATCH_LEVEL_RMS = 0.1  # -20 dBFS
# Below this crying probability a window is not crying whatever YAMNet says: it is not asked.
ASK_FROM_PROBABILITY = 0.05


@dataclass(frozen=True)
class Opinions:
    """Per window, YAMNet's highest crying score and highest score of a confusing sound."""

    crying: np.ndarray
    confusing: np.ndarray

    @property
    def crying_weight(self) -> np.ndarray:
        """The square root of crying's share among crying and the confusing sounds."""
        share = (self.crying + SHARE_EPSILON) / (self.crying + self.confusing + 2 * SHARE_EPSILON)
        return np.sqrt(share)


class SecondOpinion:
    """An ONNX Runtime session over YAMNet, scoring windows of any length at 16 kHz."""

    def __init__(self, path: Path, *, n_threads: int = 1) -> None:
        if not path.is_file():
            raise ModelError(f"{path}: no such file; reinstall miserymeter (it ships YAMNet)")
        self._session = cpu_session(path, n_threads=n_threads)
        self._crying = list(CRYING_CLASSES)
        self._confusing = list(CONFUSING_CLASSES)

    def class_scores(self, patch: np.ndarray) -> np.ndarray:
        """YAMNet's 521 AudioSet scores of one patch of 15,600 samples, at PATCH_LEVEL_RMS."""
        batch = np.ascontiguousarray(at_typical_level(patch), dtype=np.float32)[None, :]
        (scores,) = self._session.run([YAMNET_SCORES], {YAMNET_INPUT: batch})
        return np.asarray(scores[0])

    def opinions(self, windows: np.ndarray) -> Opinions:
        """The highest crying and confusing-sound scores over each window's patches."""
        crying, confusing = [], []
        for window in windows:
            scores = np.stack([self.class_scores(p) for p in patches(window)])
            crying.append(scores[:, self._crying].max())
            confusing.append(scores[:, self._confusing].max())
        return Opinions(np.array(crying), np.array(confusing))

    def confirm(
        self, probabilities: np.ndarray, windows: np.ndarray, *, label: int, unknown: int
    ) -> np.ndarray:
        """`probabilities` with `label` scaled by YAMNet's crying weight and the rest moved to
        `unknown`, for the windows where `label` reaches ASK_FROM_PROBABILITY."""
        confirmed = probabilities.copy()
        asked = np.flatnonzero(probabilities[:, label] >= ASK_FROM_PROBABILITY)
        if len(asked) == 0:
            return confirmed
        weight = self.opinions(windows[asked]).crying_weight
        kept = probabilities[asked, label] * weight
        confirmed[asked, unknown] += probabilities[asked, label] - kept
        confirmed[asked, label] = kept
        return confirmed


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
