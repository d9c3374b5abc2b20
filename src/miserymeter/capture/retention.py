"""Keep the archive within its limits by deleting the oldest segments first."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from miserymeter.audio.archive import SEGMENT_SUFFIX, segment_start


@dataclass(frozen=True)
class RetentionLimits:
    """How much archive to keep: segments younger than `keep_days`, `max_bytes` in all."""

    keep_days: float | None = None
    max_bytes: int | None = None


@dataclass(frozen=True)
class SegmentFile:
    """A segment on disk: its path, start time and size."""

    path: Path
    start: datetime
    n_bytes: int


def segment_files(archive_dir: Path) -> list[SegmentFile]:
    """The archive's segment files, oldest first (from their names; no audio is read)."""
    files = []
    for path in sorted(archive_dir.glob(f"*/*{SEGMENT_SUFFIX}")):
        start = segment_start(path)
        if start is not None:
            with contextlib.suppress(FileNotFoundError):
                files.append(SegmentFile(path, start, path.stat().st_size))
    return files


def enforce_retention(archive_dir: Path, limits: RetentionLimits, *, now: datetime) -> list[Path]:
    """Delete the oldest segments beyond `limits`; return what was deleted."""
    files = segment_files(archive_dir)
    doomed: list[SegmentFile] = []
    if limits.keep_days is not None:
        cutoff = now - timedelta(days=limits.keep_days)
        doomed = [f for f in files if f.start < cutoff]
    if limits.max_bytes is not None:
        kept = files[len(doomed) :]
        total_bytes = sum(f.n_bytes for f in kept)
        for f in kept:
            if total_bytes <= limits.max_bytes:
                break
            doomed.append(f)
            total_bytes -= f.n_bytes
    return [delete_segment(f.path) for f in doomed]


def delete_oldest(archive_dir: Path) -> Path | None:
    """Delete the oldest segment (to free space on a full disk); None if there is none."""
    files = segment_files(archive_dir)
    return delete_segment(files[0].path) if files else None


def delete_segment(path: Path) -> Path:
    """Delete a segment, and its day folder once that is empty."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty yet
        path.parent.rmdir()
    return path
