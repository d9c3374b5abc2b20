"""Cut long recordings into clips (the original project's `sox FILE OUT trim 0 5 vol 45 dB`).

Each recording is mixed down to mono, resampled with soxr, amplified by a fixed gain or
normalised to a loudness, and cut into clips named `<stem>_nohash_<offset>ms.wav`: the offset
says where in the source the clip starts, and the shared `<stem>` keeps every clip of one
recording in the same split when training hashes the names.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from miserymeter import constants
from miserymeter.audio.stream import SourceInfo, inspect_source, mono_blocks, resampled
from miserymeter.errors import ConfigError, DatasetError
from miserymeter.prepare.clip_cutting import apply_gain, cut_at, level_dbfs, n_resampled
from miserymeter.prepare.layout import files_and_folders
from miserymeter.prepare.output import CLIP_SUFFIX, ClipWriter

DEFAULT_CLIP_DURATION_MS = 5_000  # the original project's `trim 0 5`
DEFAULT_TARGET_DBFS = -20.0
NOHASH = "_nohash_"
MAX_GAIN_DB = 60.0  # a gain or a level further than this is a typo, not a recording


@dataclass(frozen=True)
class SliceSettings:
    """How to cut: clip length and hop, output rate, and a fixed gain or a loudness target."""

    clip_duration_ms: int = DEFAULT_CLIP_DURATION_MS
    sample_rate_hz: int = constants.DEFAULT_SAMPLE_RATE_HZ
    hop_ms: int | None = None  # None: back-to-back clips
    gain_db: float = 0.0
    normalize_to_dbfs: float | None = None  # one gain per recording, to reach this RMS level

    def __post_init__(self) -> None:
        check_clip_settings(
            clip_duration_ms=self.clip_duration_ms, sample_rate_hz=self.sample_rate_hz
        )
        if self.hop_ms is not None and self.hop_ms <= 0:
            raise ConfigError(f"--hop_ms {self.hop_ms}: must be a positive number of ms")
        check_gain_db(self.gain_db)
        if self.normalize_to_dbfs is not None and self.gain_db != 0.0:
            raise ConfigError("--gain_db and --normalize exclude each other: choose one")
        if self.normalize_to_dbfs is not None and not (
            -MAX_GAIN_DB <= self.normalize_to_dbfs < 0.0
        ):
            raise ConfigError(
                f"--target_dbfs {self.normalize_to_dbfs:g}: must be below 0 dBFS and at least "
                f"-{MAX_GAIN_DB:g}, e.g. -20"
            )

    @property
    def n_clip_samples(self) -> int:
        return round(self.clip_duration_ms * self.sample_rate_hz / 1000)

    @property
    def step_ms(self) -> int:
        return self.clip_duration_ms if self.hop_ms is None else self.hop_ms


def check_gain_db(gain_db: float) -> None:
    """Reject a gain no recording needs (a NaN or an overflow wrote junk or crashed)."""
    if not -MAX_GAIN_DB <= gain_db <= MAX_GAIN_DB:
        raise ConfigError(
            f"--gain_db {gain_db:g}: must be between -{MAX_GAIN_DB:g} and {MAX_GAIN_DB:g} dB, "
            "e.g. 6"
        )


def check_clip_settings(*, clip_duration_ms: int, sample_rate_hz: int) -> None:
    """Reject clip lengths and rates no model can use."""
    if clip_duration_ms <= 0:
        raise ConfigError(f"--clip_duration_ms {clip_duration_ms}: must be positive, e.g. 5000")
    if not 1_000 <= sample_rate_hz <= 384_000:
        raise ConfigError(
            f"--sample_rate {sample_rate_hz}: must be between 1000 and 384000 Hz, e.g. 16000"
        )


@dataclass(frozen=True)
class SlicedClip:
    """One clip written: where it came from in the source, and how many samples clipped."""

    path: Path
    offset_ms: int
    n_samples: int
    n_clipped: int


@dataclass(frozen=True)
class SliceResult:
    """What became of one recording."""

    source: SourceInfo
    clips: tuple[SlicedClip, ...]
    gain_db: float  # the gain applied (fixed, or chosen by normalisation)
    source_level_dbfs: float | None  # measured when normalising (-inf: digital silence)
    left_out_s: float  # the end of the recording too short for another clip

    @property
    def n_clipped(self) -> int:
        return sum(c.n_clipped for c in self.clips)


def clip_name(stem: str, offset_ms: int) -> str:
    """`night3_nohash_00025000ms.wav`: the source and where in it the clip starts."""
    return f"{stem}{NOHASH}{offset_ms:08d}ms{CLIP_SUFFIX}"


def clip_offsets_ms(n_samples: int, *, settings: SliceSettings) -> list[int]:
    """Start (ms) of every whole clip in a signal of `n_samples` at the output rate."""
    n_clip = settings.n_clip_samples
    offsets = []
    offset_ms = 0
    while _start_sample(offset_ms, settings) + n_clip <= n_samples:
        offsets.append(offset_ms)
        offset_ms += settings.step_ms
    return offsets


def _start_sample(offset_ms: int, settings: SliceSettings) -> int:
    return round(offset_ms * settings.sample_rate_hz / 1000)


def find_sources(inputs: Sequence[Path]) -> list[SourceInfo]:
    """Every recording to slice: files as given, folders by the dataset layout's rule (hidden
    files and folders, like macOS `._` copies, left out); all readable."""
    sources = [inspect_source(p) for p in files_and_folders(inputs)]
    by_stem: dict[str, Path] = {}
    for source in sources:
        other = by_stem.setdefault(source.path.stem, source.path)
        if other != source.path:
            raise ConfigError(
                f"{other} and {source.path}: both would be sliced into "
                f"{source.path.stem}{NOHASH}...; rename one of them"
            )
    return sources


def refuse_sliced_before(sources: Sequence[SourceInfo], *, out_dir: Path) -> None:
    """Raise if `out_dir` already holds clips of one of `sources` (they are never overwritten)."""
    for source in sources:
        pattern = glob.escape(f"{source.path.stem}{NOHASH}") + f"*ms{CLIP_SUFFIX}"
        existing = sorted(out_dir.glob(pattern))
        if existing:
            raise DatasetError(
                f"{existing[0]}: already exists; {out_dir} holds clips of {source.path} from "
                "an earlier run: remove them or choose another --out"
            )


def slice_recording(
    source: SourceInfo, *, out_dir: Path, settings: SliceSettings, writer: ClipWriter
) -> SliceResult:
    """Cut one recording into clips in `out_dir`, each written through `writer`."""
    n_out = n_resampled(
        source.n_frames, from_hz=source.sample_rate_hz, to_hz=settings.sample_rate_hz
    )
    offsets = clip_offsets_ms(n_out, settings=settings)
    source_level = None
    gain_db = settings.gain_db
    if settings.normalize_to_dbfs is not None:
        source_level = _level_dbfs(_output_blocks(source, settings))
        gain_db = settings.normalize_to_dbfs - source_level if math.isfinite(source_level) else 0
    starts = [_start_sample(o, settings) for o in offsets]
    pieces = cut_at(
        _output_blocks(source, settings), starts=starts, n_samples=settings.n_clip_samples
    )
    clips = []
    for offset_ms, piece in zip(offsets, pieces, strict=True):
        samples, n_clipped = apply_gain(piece, gain_db=gain_db)
        path = out_dir / clip_name(source.path.stem, offset_ms)
        writer.write(path, samples)
        clips.append(SlicedClip(path, offset_ms, len(samples), n_clipped))
    covered = starts[-1] + settings.n_clip_samples if starts else 0
    return SliceResult(
        source=source,
        clips=tuple(clips),
        gain_db=float(gain_db),
        source_level_dbfs=source_level,
        left_out_s=(n_out - covered) / settings.sample_rate_hz,
    )


def _output_blocks(source: SourceInfo, settings: SliceSettings) -> Iterator[np.ndarray]:
    return resampled(
        mono_blocks(source.path), from_hz=source.sample_rate_hz, to_hz=settings.sample_rate_hz
    )


def _level_dbfs(blocks: Iterator[np.ndarray]) -> float:
    sum_squares = 0.0
    n_samples = 0
    for block in blocks:
        sum_squares += float(np.dot(block.astype(np.float64), block.astype(np.float64)))
        n_samples += len(block)
    return level_dbfs(sum_squares, n_samples)
