"""Turn loaded clips into fixed-length windows: random training batches and fixed eval sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from miserymeter.audio.io import fit_length
from miserymeter.constants import SILENCE_LABEL, UNKNOWN_LABEL
from miserymeter.train.augment import AugmentConfig, mix_background, noise_bank, room_tone

# Training crops start where the window is within this many dB of the clip's loudest window,
# so a 5 s clip labelled `crying` does not yield a silent 1 s crop labelled `crying`.
LOUD_WINDOW_RANGE_DB = 10.0
_LOUDNESS_HOP_DIVISOR = 10


def loud_window_starts(samples: np.ndarray, *, n_window: int) -> np.ndarray:
    """Starts of the windows whose energy is near the clip's loudest, loudest first."""
    if len(samples) <= n_window:
        return np.zeros(1, dtype=np.int64)
    hop = max(1, n_window // _LOUDNESS_HOP_DIVISOR)
    starts = np.arange(0, len(samples) - n_window + 1, hop, dtype=np.int64)
    cumulative = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    energy_db = 10 * np.log10(cumulative[starts + n_window] - cumulative[starts] + 1e-12)
    order = np.argsort(-energy_db, kind="stable")
    return starts[order][energy_db[order] >= energy_db.max() - LOUD_WINDOW_RANGE_DB]


@dataclass(frozen=True)
class ClipSet:
    """Clips of one split with their labels and where their loud windows start."""

    clips: list[np.ndarray]
    label_indices: np.ndarray
    loud_starts: list[np.ndarray]

    @classmethod
    def build(cls, clips: list[np.ndarray], label_indices: list[int], *, n_window: int) -> ClipSet:
        return cls(
            clips=clips,
            label_indices=np.asarray(label_indices, dtype=np.int64),
            loud_starts=[loud_window_starts(c, n_window=n_window) for c in clips],
        )


class BatchSampler:
    """Draws training windows with the tutorial's `_silence_` and `_unknown_` proportions.

    Each wanted clip has weight 1; all `_unknown_` clips share `unknown_percentage` % and
    `_silence_` gets `silence_percentage` % of the number of wanted clips. A fraction
    `unknown_mix_frequency` of wanted windows get an `_unknown_` window mixed under them, at a
    signal-to-noise ratio between `min_mix_snr_db` and `max_mix_snr_db` (still wanted: a cry
    over a barking dog is a cry).
    """

    def __init__(
        self,
        clip_set: ClipSet,
        *,
        labels: tuple[str, ...],
        n_window: int,
        silence_percentage: float,
        unknown_percentage: float,
        unknown_mix_frequency: float = 0.0,
        min_mix_snr_db: float = 0.0,
        max_mix_snr_db: float = 20.0,
    ) -> None:
        self.clip_set = clip_set
        self.n_window = n_window
        self.silence_index = labels.index(SILENCE_LABEL)
        self.unknown_mix_frequency = unknown_mix_frequency
        self.mix_snr_db = (min_mix_snr_db, max_mix_snr_db)
        is_unknown = clip_set.label_indices == labels.index(UNKNOWN_LABEL)
        self.unknown_clips = np.flatnonzero(is_unknown)
        n_wanted = int((~is_unknown).sum())
        n_unknown = int(is_unknown.sum())
        weights = np.where(is_unknown, n_wanted * unknown_percentage / 100 / max(n_unknown, 1), 1.0)
        silence_weight = n_wanted * silence_percentage / 100
        all_weights = np.append(weights, silence_weight)
        self.probabilities = all_weights / all_weights.sum()

    def sample(
        self, batch_size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Windows [batch, n_window], label indices, and which rows are `_silence_`."""
        n_clips = len(self.clip_set.clips)
        picks = rng.choice(n_clips + 1, size=batch_size, p=self.probabilities)
        windows = np.zeros((batch_size, self.n_window), dtype=np.float32)
        labels = np.full(batch_size, self.silence_index, dtype=np.int64)
        for row, pick in enumerate(picks):
            if pick == n_clips:
                continue
            windows[row] = self._window(int(pick), rng)
            labels[row] = self.clip_set.label_indices[pick]
        is_silence = picks == n_clips
        if self.unknown_mix_frequency > 0 and len(self.unknown_clips):
            is_wanted = ~is_silence & ~np.isin(picks, self.unknown_clips)
            mixed = is_wanted & (rng.random(batch_size) < self.unknown_mix_frequency)
            for row in np.flatnonzero(mixed).tolist():
                other = self._window(int(rng.choice(self.unknown_clips)), rng)
                snr_db = rng.uniform(*self.mix_snr_db)
                windows[row] = mix_at_snr(windows[row], other, snr_db=snr_db)
        return windows, labels, is_silence

    def _window(self, pick: int, rng: np.random.Generator) -> np.ndarray:
        """A random loud window of clip `pick`."""
        clip = self.clip_set.clips[pick]
        starts = self.clip_set.loud_starts[pick]
        start = int(starts[rng.integers(len(starts))])
        return fit_length(clip[start : start + self.n_window], self.n_window)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, *, snr_db: float) -> np.ndarray:
    """`signal` plus `noise` scaled to `snr_db` below it (by RMS), kept within ±1."""
    signal_rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))
    noise_rms = float(np.sqrt(np.mean(np.square(noise, dtype=np.float64))))
    if signal_rms == 0.0 or noise_rms == 0.0:
        return signal
    mixed = signal + noise * (signal_rms / noise_rms * 10.0 ** (-snr_db / 20.0))
    peak = float(np.abs(mixed).max())
    return (mixed / peak if peak > 1.0 else mixed).astype(np.float32)


def fixed_eval_set(
    clip_set: ClipSet,
    *,
    labels: tuple[str, ...],
    n_window: int,
    silence_percentage: float,
    backgrounds: list[torch.Tensor],
    augment: AugmentConfig,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic eval windows: each clip's loudest window, plus generated `_silence_`."""
    windows = [
        fit_length(clip[int(starts[0]) : int(starts[0]) + n_window], n_window)
        for clip, starts in zip(clip_set.clips, clip_set.loud_starts, strict=True)
    ]
    label_indices = list(clip_set.label_indices)
    n_wanted = int((clip_set.label_indices != labels.index(UNKNOWN_LABEL)).sum())
    n_silence = int(np.ceil(n_wanted * silence_percentage / 100))
    if n_silence:
        rng = torch.Generator().manual_seed(seed)
        quiet = mix_background(
            torch.zeros(n_silence, n_window),
            rng,
            backgrounds=backgrounds,
            frequency=1.0,
            max_volume=augment.background_volume,
            always=torch.ones(n_silence, dtype=torch.bool),
        ) + room_tone(
            n_silence,
            rng,
            bank=noise_bank(n_window, rng),
            n_samples=n_window,
            min_level_dbfs=augment.min_room_tone_dbfs,
            max_level_dbfs=augment.max_room_tone_dbfs,
        )
        windows.extend(quiet.numpy())
        label_indices.extend([labels.index(SILENCE_LABEL)] * n_silence)
    if not windows:
        return np.zeros((0, n_window), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.stack(windows).astype(np.float32), np.asarray(label_indices, dtype=np.int64)
