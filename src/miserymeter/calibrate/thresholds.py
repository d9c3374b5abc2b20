"""Which `on_probability` to choose: the family's reviewed episodes, scored, against a threshold.

A reviewed episode is cut into clips of the model's window, its breaths and pauses between
cries among them; the detector opens an episode on its strongest cries and keeps it through
the pauses. So an episode is judged as a whole, by its highest clip (`episode_peaks`): found
by a threshold its peak reaches, missed only when none of its clips does. For a threshold, the
share of crying episodes whose peak is below it estimates the cries missed, and the share of
not-crying episodes whose peak reaches it, times how many other sounds a night brings (from the
store's history, `sounds`), the false alarms per night. The detector also smooths the scores
over seconds and waits for a cry to last: both figures are rough.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from miserymeter.detect.settings import DetectorSettings

MIN_EPISODES_PER_SIDE = 5
# The thresholds recommended from (coarse: a few dozen episodes cannot tell 0.62 from 0.6).
GRID = tuple(round(0.30 + 0.05 * k, 2) for k in range(14))  # 0.30 ... 0.95
SHOWN = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# The recommended off threshold is never a smaller share of the on one than the detector's
# defaults' (off 0.3 for on 0.7): below it an episode would stay open through nearly anything.
LOWEST_OFF_SHARE = DetectorSettings.off_probability / DetectorSettings.on_probability
N_BINS = 20


@dataclass(frozen=True)
class Candidate:
    """What one `on_probability` would do with the reviewed episodes and the room's nights:
    the crying ones it misses, the others it would flag."""

    on_probability: float
    n_crying_missed: int
    n_other_above: int
    missed_share: float
    false_share: float
    false_alarms_per_night: float | None


@dataclass(frozen=True)
class Calibration:
    """The episodes counted, how many more are needed, and the thresholds when there are enough.

    `recommended` is None while either side has fewer than `MIN_EPISODES_PER_SIDE` episodes;
    `candidates` then is empty.
    """

    n_crying: int
    n_other: int
    n_crying_needed: int
    n_other_needed: int
    recommended: DetectorSettings | None
    candidates: tuple[Candidate, ...]


def episode_peaks(scored_clips: Iterable[tuple[Hashable, float]]) -> list[float]:
    """Each episode's highest clip score, from (episode, clip score) pairs, in the order the
    episodes first come."""
    peaks: dict[Hashable, float] = {}
    for episode, score in scored_clips:
        peaks[episode] = max(score, peaks.get(episode, score))
    return list(peaks.values())


def candidate(
    on_probability: float,
    crying_scores: np.ndarray,
    other_scores: np.ndarray,
    *,
    sounds_per_night: float | None,
) -> Candidate:
    """The episodes one threshold misses and lets through (by their peaks), and its false
    alarms per night."""
    n_missed = int(np.sum(crying_scores < on_probability))
    n_above = int(np.sum(other_scores >= on_probability))
    false_share = n_above / max(1, len(other_scores))
    return Candidate(
        on_probability=on_probability,
        n_crying_missed=n_missed,
        n_other_above=n_above,
        missed_share=n_missed / max(1, len(crying_scores)),
        false_share=false_share,
        false_alarms_per_night=None if sounds_per_night is None else sounds_per_night * false_share,
    )


def best_on_probability(crying_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The threshold of `GRID` that separates the episodes best: most crying episodes at or
    above it minus most other episodes at or above it; of a range of equally good ones, its
    middle (rounded down, to miss fewer cries)."""
    separation = np.array([np.mean(crying_scores >= t) - np.mean(other_scores >= t) for t in GRID])
    is_best = np.isclose(separation, separation.max())
    first = int(np.argmax(is_best))
    last = first
    while last + 1 < len(GRID) and is_best[last + 1]:
        last += 1
    return GRID[(first + last) // 2]


def calibrate(
    crying_scores: Sequence[float] | np.ndarray,
    other_scores: Sequence[float] | np.ndarray,
    *,
    sounds_per_night: float | None,
    current: DetectorSettings,
) -> Calibration:
    """The recommended thresholds and the `SHOWN` candidates with the recommended and the
    current one, by threshold. The off one keeps `current`'s distance below the on one, but
    stays at least `LOWEST_OFF_SHARE` (3/7) of it, as in the detector's defaults."""
    crying, other = np.asarray(crying_scores, float), np.asarray(other_scores, float)
    n_crying_needed = max(0, MIN_EPISODES_PER_SIDE - len(crying))
    n_other_needed = max(0, MIN_EPISODES_PER_SIDE - len(other))
    if n_crying_needed or n_other_needed:
        return Calibration(len(crying), len(other), n_crying_needed, n_other_needed, None, ())
    on = best_on_probability(crying, other)
    gap = current.on_probability - current.off_probability
    off = round(max(LOWEST_OFF_SHARE * on, on - gap), 2)
    thresholds = sorted({*SHOWN, on, round(current.on_probability, 2)})
    return Calibration(
        n_crying=len(crying),
        n_other=len(other),
        n_crying_needed=0,
        n_other_needed=0,
        recommended=DetectorSettings(on_probability=on, off_probability=off),
        candidates=tuple(
            candidate(t, crying, other, sounds_per_night=sounds_per_night) for t in thresholds
        ),
    )


def histogram(scores: Sequence[float] | np.ndarray, *, n_bins: int = N_BINS) -> list[int]:
    """How many scores fall in each of `n_bins` equal bins from 0 to 1 (1.0 in the last)."""
    counts, _ = np.histogram(np.asarray(scores, float), bins=n_bins, range=(0.0, 1.0))
    return [int(c) for c in counts]


def config_lines(settings: DetectorSettings) -> str:
    """The lines of listen's config file (its `[listen]` table) that set these thresholds."""
    return (
        f"[listen]\non_probability = {settings.on_probability:.2f}\n"
        f"off_probability = {settings.off_probability:.2f}\n"
    )
