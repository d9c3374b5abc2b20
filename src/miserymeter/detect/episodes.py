"""Hysteresis over smoothed scores: a hop-by-hop state machine that finds crying episodes.

Fed one score per hop, in order, with the hop's end time in seconds from the start of the
input. An episode opens when the smoothed score reaches the "on" threshold, starting where
the crying rose: at the first hop of the smoothing window that was already at or above "off",
or before it, as far as the hops before it held at or above "off" (up to the minimum duration
back); it stays open while the smoothed score holds at or above "off", and ends at the last
hop whose own score was at or above "off". It is announced (`EpisodeConfirmed`) once its
crying has lasted the minimum duration, and handed out (`DetectedEpisode`) once the merge gap
has passed without crying, or at `flush`. Episodes that never reach the minimum duration are
dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from miserymeter.detect.settings import DetectorSettings


@dataclass(frozen=True)
class EpisodeConfirmed:
    """An episode is now certain: it started at `start_s` and was confirmed at `confirmed_s`."""

    start_s: float
    confirmed_s: float


@dataclass(frozen=True)
class DetectedEpisode:
    """A finished episode; probabilities are of the hops from its start to its end."""

    start_s: float
    end_s: float
    confirmed_s: float
    peak_probability: float
    mean_probability: float


DetectorOutput = EpisodeConfirmed | DetectedEpisode


@dataclass
class _OpenEpisode:
    start_s: float
    last_on_end_s: float
    hops: list[tuple[float, float]] = field(default_factory=list)  # (end_s, probability)
    confirmed_s: float | None = None


def n_smoothing_hops(settings: DetectorSettings, *, hop_s: float) -> int:
    """How many hops the score is smoothed over (at least one)."""
    return max(1, round(settings.smoothing_s / hop_s))


def n_lead_hops(settings: DetectorSettings, *, hop_s: float) -> int:
    """How many hops before the one that opens an episode its start may lie: the smoothing
    window, or the minimum duration when longer."""
    return max(n_smoothing_hops(settings, hop_s=hop_s), round(settings.min_duration_s / hop_s))


class EpisodeDetector:
    """The state machine of the module docstring, for hops of `hop_s` seconds."""

    def __init__(self, settings: DetectorSettings, *, hop_s: float) -> None:
        self.settings = settings
        self.hop_s = hop_s
        self._n_smoothing = n_smoothing_hops(settings, hop_s=hop_s)
        # (start_s, p) of the last hops: the smoothing window and, before it, the lead
        self._hops: deque[tuple[float, float]] = deque(maxlen=n_lead_hops(settings, hop_s=hop_s))
        self._open: _OpenEpisode | None = None
        self._active = False

    @property
    def open_since_s(self) -> float | None:
        """Start of the episode in progress (crying now, or within the merge gap), if any."""
        return self._open.start_s if self._open is not None else None

    @property
    def heard_until_s(self) -> float:
        """The end of the last hop fed (0 before any)."""
        return self._hops[-1][0] + self.hop_s if self._hops else 0.0

    @property
    def is_crying(self) -> bool:
        """Whether the smoothed score is at or above the off threshold now (not in a gap)."""
        return self._active

    def feed(self, probability: float | None, *, end_s: float) -> list[DetectorOutput]:
        """Account for the hop ending at `end_s`; None means no score (repeat the last one)."""
        if probability is None:
            probability = self._hops[-1][1] if self._hops else 0.0
        settings = self.settings
        start_s = end_s - self.hop_s
        self._hops.append((start_s, probability))
        recent = self._recent()
        smoothed = sum(p for _, p in recent) / len(recent)
        outputs: list[DetectorOutput] = []
        if self._open is not None:
            self._open.hops.append((end_s, probability))
        if self._active:
            if smoothed < settings.off_probability:
                self._active = False
            elif probability >= settings.off_probability and self._open is not None:
                self._open.last_on_end_s = end_s
        if not self._active:
            if smoothed >= settings.on_probability:
                outputs += self._activate(end_s)
            elif self._open is not None and end_s - self._open.last_on_end_s > settings.merge_gap_s:
                outputs += self._close()
        outputs += self._confirm_if_long_enough(end_s)
        return outputs

    def flush(self) -> list[DetectorOutput]:
        """The input ended: hand out the episode in progress, if it lasted long enough."""
        self._active = False
        return self._close()

    def in_progress(self) -> DetectedEpisode | None:
        """The episode `flush` would hand out now, without ending it (None: none)."""
        episode = self._open
        if episode is None or episode.confirmed_s is None:
            return None
        scores = [p for end_s, p in episode.hops if end_s <= episode.last_on_end_s]
        return DetectedEpisode(
            start_s=episode.start_s,
            end_s=episode.last_on_end_s,
            confirmed_s=episode.confirmed_s,
            peak_probability=max(scores),
            mean_probability=sum(scores) / len(scores),
        )

    def _activate(self, end_s: float) -> list[DetectorOutput]:
        outputs: list[DetectorOutput] = []
        start_s = self._rise_start_s()
        episode = self._open
        if episode is not None and start_s - episode.last_on_end_s > self.settings.merge_gap_s:
            outputs += self._close()
            episode = None
        if episode is None:
            episode = _OpenEpisode(start_s, end_s)
            episode.hops = [(s + self.hop_s, p) for s, p in self._hops if s >= start_s]
            self._open = episode
        episode.last_on_end_s = end_s
        self._active = True
        return outputs

    def _recent(self) -> list[tuple[float, float]]:
        """The hops of the smoothing window, oldest first."""
        return list(self._hops)[-self._n_smoothing :]

    def _rise_start_s(self) -> float:
        """Where the crying that reached "on" rose: the first hop of the smoothing window at or
        above "off", or the first of the hops at or above "off" that lead up to it."""
        off = self.settings.off_probability
        start_s = min(s for s, p in self._recent() if p >= off)
        for s, p in reversed(self._hops):
            if s < start_s:
                if p < off:
                    break
                start_s = s
        return start_s

    def _confirm_if_long_enough(self, end_s: float) -> list[DetectorOutput]:
        episode = self._open
        if (
            episode is None
            or not self._active
            or episode.confirmed_s is not None
            or episode.last_on_end_s - episode.start_s < self.settings.min_duration_s
        ):
            return []
        episode.confirmed_s = end_s
        return [EpisodeConfirmed(episode.start_s, end_s)]

    def _close(self) -> list[DetectorOutput]:
        finished = self.in_progress()
        self._open = None
        return [] if finished is None else [finished]
