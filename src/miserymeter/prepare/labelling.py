"""Cut the continuous archive into labelled clips, using the noted episodes.

Inside an episode a clip gets the episode's label; outside every episode, the default label.
A margin around each episode edge is left out, since times noted by hand are approximate.
Clips never cross a gap in the archive. Clips of one episode share one `_nohash_` group
(`crying/ep-20261125T003000Z_nohash_0003.wav`), and so do the clips of one stretch between
episodes and gaps (`silence/stretch-20261125T004236Z_nohash_0000.wav`), so training's hash
split never puts neighbouring slices of one episode on both sides.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from miserymeter import constants
from miserymeter.audio.archive import Segment
from miserymeter.audio.stream import mono_blocks, resampled
from miserymeter.errors import AudioError, ConfigError
from miserymeter.prepare.clip_cutting import apply_gain, cut_at, n_resampled
from miserymeter.prepare.noted_episodes import Episode, check_label, show_time
from miserymeter.prepare.output import CLIP_SUFFIX, ClipWriter
from miserymeter.prepare.slicing import (
    DEFAULT_CLIP_DURATION_MS,
    NOHASH,
    check_clip_settings,
    check_gain_db,
)

DEFAULT_LABEL = "silence"
DEFAULT_MARGIN_S = 5.0
# Segments closer than this (either way) are one uninterrupted capture.
CONTIGUOUS_TOLERANCE_S = 0.01
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class LabelSettings:
    clip_duration_ms: int = DEFAULT_CLIP_DURATION_MS
    sample_rate_hz: int = constants.DEFAULT_SAMPLE_RATE_HZ
    default_label: str = DEFAULT_LABEL
    margin_s: float = DEFAULT_MARGIN_S
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        check_clip_settings(
            clip_duration_ms=self.clip_duration_ms, sample_rate_hz=self.sample_rate_hz
        )
        check_gain_db(self.gain_db)
        check_label(self.default_label, where="--default_label")
        if not self.margin_s >= 0:
            raise ConfigError(f"--margin_s {self.margin_s:g}: must be 0 or more seconds")

    @property
    def n_clip_samples(self) -> int:
        return round(self.clip_duration_ms * self.sample_rate_hz / 1000)


@dataclass(frozen=True)
class Run:
    """Segments recorded back to back: one uninterrupted stretch of the archive."""

    segments: tuple[Segment, ...]

    @property
    def sample_rate_hz(self) -> int:
        return self.segments[0].sample_rate_hz

    @property
    def start(self) -> datetime:
        return self.segments[0].start

    @property
    def n_frames(self) -> int:
        return sum(s.n_frames for s in self.segments)

    @property
    def end(self) -> datetime:
        return self.time_at(self.n_frames)

    def time_at(self, frame: int) -> datetime:
        return self.start + timedelta(seconds=frame / self.sample_rate_hz)

    def frame_at(self, time: datetime) -> int:
        return round((time - self.start).total_seconds() * self.sample_rate_hz)


def contiguous_runs(segments: Sequence[Segment]) -> list[Run]:
    """Group an archive's segments (oldest first) into uninterrupted runs."""
    runs: list[list[Segment]] = []
    for segment in segments:
        if runs:
            run = Run(tuple(runs[-1]))
            offset_s = (segment.start - run.end).total_seconds()
            if offset_s < -CONTIGUOUS_TOLERANCE_S:
                raise AudioError(
                    f"{segment.path}: starts {-offset_s:.2f} s before {run.segments[-1].path} "
                    "ends (the clock jumped?); move one of them out of the archive"
                )
            if offset_s <= CONTIGUOUS_TOLERANCE_S and segment.sample_rate_hz == run.sample_rate_hz:
                runs[-1].append(segment)
                continue
        runs.append([segment])
    return [Run(tuple(r)) for r in runs]


@dataclass(frozen=True)
class Stretch:
    """A part of one run that becomes clips of one label and one `_nohash_` group."""

    run: Run
    start_frame: int
    n_frames: int
    label: str
    group: str
    first_index: int
    n_clips: int

    @property
    def start(self) -> datetime:
        return self.run.time_at(self.start_frame)

    def clip_names(self) -> list[str]:
        return [
            f"{self.label}/{self.group}{NOHASH}{k:04d}{CLIP_SUFFIX}"
            for k in range(self.first_index, self.first_index + self.n_clips)
        ]


@dataclass(frozen=True)
class LabelCount:
    """Per label: how many clips, how long in all, from how many `_nohash_` groups."""

    label: str
    n_clips: int
    duration_s: float
    n_groups: int


@dataclass(frozen=True)
class LabelPlan:
    """Every clip `label` would write, and what the user should know before it does."""

    settings: LabelSettings
    runs: tuple[Run, ...]
    stretches: tuple[Stretch, ...]
    warnings: tuple[str, ...] = field(default=())

    def clip_names(self) -> list[str]:
        return [name for s in self.stretches for name in s.clip_names()]

    def counts(self) -> tuple[LabelCount, ...]:
        clip_s = self.settings.clip_duration_ms / 1000
        n_clips: Counter[str] = Counter()
        groups: dict[str, set[str]] = {}
        for s in self.stretches:
            if s.n_clips:
                n_clips[s.label] += s.n_clips
                groups.setdefault(s.label, set()).add(s.group)
        return tuple(
            LabelCount(label, n, n * clip_s, len(groups[label]))
            for label, n in sorted(n_clips.items())
        )

    @property
    def recorded_s(self) -> float:
        return sum(r.n_frames / r.sample_rate_hz for r in self.runs)


def plan_labelling(
    segments: Sequence[Segment],
    episodes: Sequence[Episode],
    *,
    settings: LabelSettings,
    episodes_path: Path,
    timezone: tzinfo | None = None,
) -> LabelPlan:
    """Decide every clip from the segments' times and headers (at least one), without
    reading audio."""
    runs = contiguous_runs(list(segments))
    warnings = _coverage_warnings(runs, episodes, episodes_path=episodes_path, timezone=timezone)
    next_index: Counter[str] = Counter()
    stretches = []
    for run in runs:
        for start_frame, n_frames, label, group in _run_parts(run, episodes, settings=settings):
            n_out = n_resampled(n_frames, from_hz=run.sample_rate_hz, to_hz=settings.sample_rate_hz)
            n_clips = n_out // settings.n_clip_samples
            stretches.append(
                Stretch(run, start_frame, n_frames, label, group, next_index[group], n_clips)
            )
            next_index[group] += n_clips
    for episode in episodes:
        if next_index[_episode_group(episode)] == 0 and _recorded_s(runs, episode) > 0:
            warnings.append(
                f"{episodes_path} line {episode.line}: episode gives no clip: after leaving out "
                f"{settings.margin_s:g} s at each edge, less than one clip was recorded"
            )
    return LabelPlan(settings, tuple(runs), tuple(stretches), tuple(warnings))


def _run_parts(
    run: Run, episodes: Sequence[Episode], *, settings: LabelSettings
) -> Iterator[tuple[int, int, str, str]]:
    """(start frame, frames, label, group) of each labelled part of `run`, in time order."""
    margin = round(settings.margin_s * run.sample_rate_hz)
    parts = []
    cursor = 0
    for episode in episodes:
        start, end = run.frame_at(episode.start), run.frame_at(episode.end)
        inside = (max(0, start + margin), min(run.n_frames, end - margin))
        if inside[1] > inside[0]:
            parts.append((*inside, episode.label, _episode_group(episode)))
        outside_end = min(run.n_frames, start - margin)
        if outside_end > cursor:
            parts.append((cursor, outside_end, settings.default_label, ""))
        cursor = max(cursor, end + margin)
    if run.n_frames > cursor:
        parts.append((cursor, run.n_frames, settings.default_label, ""))
    for begin, end, label, group in sorted(parts):
        stamp = run.time_at(begin).strftime(_STAMP)
        yield begin, end - begin, label, group or f"stretch-{stamp}"


def _episode_group(episode: Episode) -> str:
    return f"ep-{episode.start.strftime(_STAMP)}"


def _recorded_s(runs: Sequence[Run], episode: Episode) -> float:
    overlap_s = 0.0
    for run in runs:
        start, end = max(run.start, episode.start), min(run.end, episode.end)
        overlap_s += max(0.0, (end - start).total_seconds())
    return overlap_s


def _coverage_warnings(
    runs: Sequence[Run],
    episodes: Sequence[Episode],
    *,
    episodes_path: Path,
    timezone: tzinfo | None,
) -> list[str]:
    """Refuse episodes with no recorded audio at all; warn about partly recorded ones."""
    warnings = []
    for episode in episodes:
        recorded_s = _recorded_s(runs, episode)
        when = f"{show_time(episode.start, timezone)} to {show_time(episode.end, timezone)}"
        if recorded_s == 0:
            extent = f"{show_time(runs[0].start, timezone)} to {show_time(runs[-1].end, timezone)}"
            gaps = ", with gaps" if len(runs) > 1 else ""
            raise ConfigError(
                f"{episodes_path} line {episode.line}: nothing was recorded from {when} "
                f"(the recording covers {extent}{gaps}); check the date and --timezone, "
                "or delete the line"
            )
        missing_s = episode.duration_s - recorded_s
        if missing_s > 0.5:
            warnings.append(
                f"{episodes_path} line {episode.line}: {missing_s:.0f} s of the {episode.label} "
                f"episode {when} were not recorded; the rest is used"
            )
    return warnings


@dataclass(frozen=True)
class LabelResult:
    plan: LabelPlan
    n_clipped: int  # samples clipped at full scale by --gain_db
    n_clipped_clips: int


def write_labelled(plan: LabelPlan, *, out_dir: Path, writer: ClipWriter) -> LabelResult:
    """Read the archive and write every planned clip under `out_dir/<label>/`."""
    settings = plan.settings
    n_clip = settings.n_clip_samples
    n_clipped = n_clipped_clips = 0
    for stretch in plan.stretches:
        if stretch.n_clips == 0:
            continue
        blocks = resampled(
            _run_blocks(stretch.run, stretch.start_frame, stretch.n_frames),
            from_hz=stretch.run.sample_rate_hz,
            to_hz=settings.sample_rate_hz,
        )
        starts = [k * n_clip for k in range(stretch.n_clips)]
        pieces = cut_at(blocks, starts=starts, n_samples=n_clip)
        for name, piece in zip(stretch.clip_names(), pieces, strict=True):
            samples, n = apply_gain(piece, gain_db=settings.gain_db)
            writer.write(out_dir / name, samples)
            n_clipped += n
            n_clipped_clips += n > 0
    return LabelResult(plan, n_clipped, n_clipped_clips)


def _run_blocks(run: Run, start_frame: int, n_frames: int) -> Iterator[np.ndarray]:
    """Frames `[start_frame, start_frame + n_frames)` of a run, across its segments."""
    offsets = itertools.accumulate((s.n_frames for s in run.segments), initial=0)
    end_frame = start_frame + n_frames
    for segment, offset in zip(run.segments, offsets, strict=False):
        first = max(start_frame, offset)
        last = min(end_frame, offset + segment.n_frames)
        if last > first:
            yield from mono_blocks(segment.path, start_frame=first - offset, n_frames=last - first)
