"""What a folder-per-label dataset holds, and what in it would hurt training.

Per label: clips, minutes, `_nohash_` groups and how the hash split divides them, sample
rates, channels, durations and loudness. Warnings: mixed sample rates, very quiet or clipped
clips, identical clips, unbalanced labels, labels missing from a split, unreadable files.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter import constants
from miserymeter.audio.io import c_stderr_silenced
from miserymeter.audio.stream import first_line
from miserymeter.errors import DatasetError
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.prepare.layout import audio_files, label_folders, left_out_audio
from miserymeter.prepare.slicing import NOHASH
from miserymeter.prepare.split import SPLITS, Split, check_split_percentages, which_set

QUIET_DBFS = -60.0  # RMS level below which a clip is "very quiet"
FULL_SCALE = 0.999  # |sample| at or above this is at full scale
CLIPPED_RUN = 3  # this many full-scale samples in a row: the clip was clipped
UNBALANCED_RATIO = 5.0  # largest / smallest total duration of two labels
N_EXAMPLES = 2  # file names quoted in a warning
N_COPY_GROUPS_SHOWN = 5  # groups of identical clips a warning lists, one a line
N_COPIES_SHOWN = 3  # files of one such group it names
LINE_CHARS = 80  # a group longer than this is listed a file a line


@dataclass(frozen=True)
class ClipStats:
    """One readable clip."""

    path: Path
    label: str
    sample_rate_hz: int
    n_channels: int
    duration_s: float
    level_dbfs: float
    clipped: bool
    digest: str
    group: str
    split: Split


@dataclass(frozen=True)
class Distribution:
    """Minimum, 10th percentile, median, 90th percentile and maximum."""

    min: float
    p10: float
    median: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        q = np.percentile(np.asarray(values, dtype=np.float64), [0, 10, 50, 90, 100])
        return cls(*(round(float(v), 2) for v in q))


@dataclass(frozen=True)
class LabelStats:
    label: str
    n_clips: int
    total_s: float
    n_groups: int
    splits: tuple[tuple[Split, int], ...]
    sample_rates_hz: tuple[tuple[int, int], ...]  # (rate, clips), most common first
    channels: tuple[tuple[int, int], ...]  # (channels, clips)
    duration_s: Distribution
    level_dbfs: Distribution
    n_quiet: int
    n_clipped: int


@dataclass(frozen=True)
class Unreadable:
    path: Path
    reason: str


@dataclass(frozen=True)
class DatasetStats:
    data_dir: Path
    labels: tuple[LabelStats, ...]
    warnings: tuple[str, ...]
    unreadable: tuple[Unreadable, ...]
    identical: tuple[tuple[Path, ...], ...]  # every group of identical clips, by path


def dataset_stats(
    data_dir: Path, *, validation_percentage: float = 10.0, testing_percentage: float = 10.0
) -> DatasetStats:
    """Read every clip under `data_dir/<label>/` and describe the dataset."""
    check_split_percentages(
        validation_percentage=validation_percentage, testing_percentage=testing_percentage
    )
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: no such dataset folder; pass a folder of label folders")
    clips: list[ClipStats] = []
    unreadable: list[Unreadable] = []
    for folder in label_folders(data_dir):  # _background_noise_ too: it is described as well
        for path in audio_files(folder):
            split = which_set(
                path,
                validation_percentage=validation_percentage,
                testing_percentage=testing_percentage,
            )
            result = _clip_stats(path, label=folder.name, split=split)
            if isinstance(result, Unreadable):
                unreadable.append(result)
            else:
                clips.append(result)
    unreadable += [
        Unreadable(path, f"a {path.suffix.lower()} file, which soundfile cannot read")
        for path in left_out_audio(data_dir)
    ]
    if not clips and not unreadable:
        raise DatasetError(
            f"{data_dir}: no audio files in label folders ({data_dir}/<label>/*.wav); "
            "create them with `miserymeter label` or `miserymeter slice`"
        )
    by_label: dict[str, list[ClipStats]] = defaultdict(list)
    for clip in clips:
        by_label[clip.label].append(clip)
    labels = tuple(
        _label_stats(label, group, splits=SPLITS) for label, group in sorted(by_label.items())
    )
    identical = _identical_groups(clips)
    warnings = _warnings(
        labels,
        clips,
        identical=identical,
        data_dir=data_dir,
        check_splits={"validation": validation_percentage > 0, "testing": testing_percentage > 0},
    )
    return DatasetStats(
        data_dir,
        labels,
        tuple(warnings),
        tuple(unreadable),
        tuple(tuple(c.path for c in group) for group in identical),
    )


def _clip_stats(path: Path, *, label: str, split: Split) -> ClipStats | Unreadable:
    try:
        with c_stderr_silenced():
            data, rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        return Unreadable(path, f"not a readable audio file ({first_line(e)})")
    if len(data) == 0:
        return Unreadable(path, "holds no audio samples")
    if not np.all(np.isfinite(data)):
        return Unreadable(path, "holds NaN or infinite samples")
    mono = data.mean(axis=1)
    digest = hashlib.sha1(int(rate_hz).to_bytes(4, "little") + mono.tobytes()).hexdigest()
    return ClipStats(
        path=path,
        label=label,
        sample_rate_hz=int(rate_hz),
        n_channels=data.shape[1],
        duration_s=len(data) / rate_hz,
        level_dbfs=rms_dbfs(mono),
        clipped=_is_clipped(data),
        digest=digest,
        group=path.name.split(NOHASH)[0] if NOHASH in path.name else path.name,
        split=split,
    )


def _is_clipped(data: np.ndarray) -> bool:
    """True if some channel has CLIPPED_RUN samples in a row at full scale."""
    at_full_scale = (np.abs(data) >= FULL_SCALE).astype(np.int32)
    window = np.ones(CLIPPED_RUN, dtype=np.int32)
    return any(
        (np.convolve(channel, window, mode="valid") >= CLIPPED_RUN).any()
        for channel in at_full_scale.T
        if channel.any()
    )


def _label_stats(label: str, clips: Sequence[ClipStats], *, splits: Sequence[Split]) -> LabelStats:
    counts = Counter(c.split for c in clips)
    return LabelStats(
        label=label,
        n_clips=len(clips),
        total_s=round(sum(c.duration_s for c in clips), 3),
        n_groups=len({c.group for c in clips}),
        splits=tuple((s, counts[s]) for s in splits),
        sample_rates_hz=tuple(Counter(c.sample_rate_hz for c in clips).most_common()),
        channels=tuple(Counter(c.n_channels for c in clips).most_common()),
        duration_s=Distribution.of([c.duration_s for c in clips]),
        level_dbfs=Distribution.of([c.level_dbfs for c in clips]),
        n_quiet=sum(c.level_dbfs < QUIET_DBFS for c in clips),
        n_clipped=sum(c.clipped for c in clips),
    )


def _warnings(
    labels: Sequence[LabelStats],
    clips: Sequence[ClipStats],
    *,
    identical: Sequence[tuple[ClipStats, ...]],
    data_dir: Path,
    check_splits: dict[str, bool],
) -> list[str]:
    wanted = [s for s in labels if s.label != constants.BACKGROUND_NOISE_DIR]
    by_label: dict[str, list[ClipStats]] = defaultdict(list)
    for clip in clips:
        by_label[clip.label].append(clip)
    warnings = _rate_warnings(wanted)
    for stats in wanted:
        label_clips = by_label[stats.label]
        quiet = [c.path for c in label_clips if c.level_dbfs < QUIET_DBFS]
        if quiet:
            warnings.append(
                f"{stats.label}: {len(quiet)} of {stats.n_clips} clips are very quiet "
                f"(below {QUIET_DBFS:g} dBFS), e.g. {_examples(quiet)}; "
                "check they hold what their label says"
            )
        clipped = [c.path for c in label_clips if c.clipped]
        if clipped:
            warnings.append(
                f"{stats.label}: {len(clipped)} of {stats.n_clips} clips are clipped "
                f"({CLIPPED_RUN}+ samples in a row at full scale), e.g. {_examples(clipped)}; "
                "record or slice them with less gain"
            )
        short = [c.path for c in label_clips if c.duration_s * 1000 < constants.MIN_WINDOW_MS]
        if short:
            warnings.append(
                f"{stats.label}: {len(short)} clips are shorter than {constants.MIN_WINDOW_MS} "
                f"ms, e.g. {_examples(short)}; training pads them with silence"
            )
        for split, n in stats.splits:
            if n == 0 and check_splits.get(split, True):
                warnings.append(
                    f"{stats.label}: no clips in the {split} split (its {stats.n_clips} clips come "
                    f"from {stats.n_groups} _nohash_ group{'' if stats.n_groups == 1 else 's'}); "
                    "add clips of more nights or episodes"
                )
    warnings += _identical_warnings(identical, data_dir=data_dir)
    warnings += _balance_warnings(wanted)
    return warnings


def _rate_warnings(labels: Sequence[LabelStats]) -> list[str]:
    rates = {rate for s in labels for rate, _ in s.sample_rates_hz}
    if len(rates) <= 1:
        return []
    per_label = "; ".join(
        f"{s.label}: " + ", ".join(f"{n} at {rate} Hz" for rate, n in s.sample_rates_hz)
        for s in labels
    )
    return [
        f"mixed sample rates ({per_label}); training resamples them, but rates that differ "
        "by label let the model learn the microphone instead of the sound: slice every label "
        "with the same --sample_rate"
    ]


def _identical_groups(clips: Sequence[ClipStats]) -> list[tuple[ClipStats, ...]]:
    """The clips that hold the same audio as another, in groups, by path."""
    by_digest: dict[str, list[ClipStats]] = defaultdict(list)
    for clip in clips:
        by_digest[clip.digest].append(clip)
    groups = [tuple(sorted(g, key=lambda c: c.path)) for g in by_digest.values() if len(g) > 1]
    return sorted(groups, key=lambda g: g[0].path)


def _identical_warnings(groups: Sequence[tuple[ClipStats, ...]], *, data_dir: Path) -> list[str]:
    """A warning for the recordings filed under two labels, one for the copies within a label;
    each lists its groups, one a line."""
    across = [g for g in groups if len({c.label for c in g}) > 1]
    within = [g for g in groups if len({c.label for c in g}) == 1]
    warnings = []
    if across:
        n = len(across)
        warnings.append(
            f"{n} recording{' is' if n == 1 else 's are'} in more than one label; keep each in "
            "the right one" + _listing(across, data_dir=data_dir)
        )
    if within:
        n = sum(len(g) - 1 for g in within)
        warnings.append(
            f"{n} clip{' is a copy' if n == 1 else 's are copies'} of others in their label: a "
            "copy weighs twice in training and can sit on both sides of the split; keep one of "
            "each" + _listing(within, data_dir=data_dir)
        )
    return warnings


def _listing(groups: Sequence[tuple[ClipStats, ...]], *, data_dir: Path) -> str:
    """Up to N_COPY_GROUPS_SHOWN groups by their paths within `data_dir`, a line each (a line a
    file where one would not fit in LINE_CHARS), then how many more there are."""
    lines = []
    for group in groups[:N_COPY_GROUPS_SHOWN]:
        names = [str(c.path.relative_to(data_dir)) for c in group[:N_COPIES_SHOWN]]
        if len(group) > N_COPIES_SHOWN:
            names[-1] += f" and {len(group) - N_COPIES_SHOWN} more"
        line = "  " + " = ".join(names)
        lines.append(line if len(line) <= LINE_CHARS else "  " + "\n    = ".join(names))
    if (n_more := len(groups) - N_COPY_GROUPS_SHOWN) > 0:
        lines.append(f"  and {n_more} more group{'' if n_more == 1 else 's'} (`--json` lists all)")
    return ":" + "".join(f"\n{line}" for line in lines)


def _balance_warnings(labels: Sequence[LabelStats]) -> list[str]:
    if len(labels) < 2:
        return (
            ["only one label: training needs at least two (e.g. crying and silence)"]
            if labels
            else []
        )
    most = max(labels, key=lambda s: s.total_s)
    least = min(labels, key=lambda s: s.total_s)
    if least.total_s * UNBALANCED_RATIO > most.total_s:
        return []
    ratio = most.total_s / least.total_s if least.total_s else float("inf")
    return [
        f"unbalanced labels: {most.label} has {most.total_s / 60:.1f} min, {least.label} "
        f"{least.total_s / 60:.1f} min ({ratio:.0f}x); add {least.label} clips or leave "
        f"some {most.label} clips out"
    ]


def _examples(paths: Sequence[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:N_EXAMPLES])
    return shown + (" ..." if len(paths) > N_EXAMPLES else "")
