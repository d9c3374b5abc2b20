"""The continuous archive: timestamped segment files, named so they sort by time.

A segment is `<archive>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSS.ffffff>Z.flac`, the date and time being
the UTC instant of its first sample. Segments of one uninterrupted capture follow each other
sample-exactly; a gap between two segments is a time when nothing was recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import soundfile as sf

from miserymeter.errors import AudioError

SEGMENT_SUFFIX = ".flac"
_STAMP_FORMAT = "%Y%m%dT%H%M%S.%f"
_SEGMENT_NAME = re.compile(r"^(\d{8}T\d{6}\.\d{6})Z\.flac$")


def segment_path(archive_dir: Path, start: datetime) -> Path:
    """Where the segment whose first sample was heard at `start` (timezone-aware) goes."""
    start_utc = start.astimezone(UTC)
    stamp = start_utc.strftime(_STAMP_FORMAT)
    return archive_dir / start_utc.strftime("%Y-%m-%d") / f"{stamp}Z{SEGMENT_SUFFIX}"


def segment_start(path: Path) -> datetime | None:
    """The UTC start time a segment's name carries, or None if it is not a segment's name."""
    match = _SEGMENT_NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), _STAMP_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Segment:
    """One archived segment file: when it starts, and how long it is."""

    path: Path
    start: datetime
    n_frames: int
    sample_rate_hz: int

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate_hz

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)


def list_segments(archive_dir: Path) -> list[Segment]:
    """Every segment of an archive, oldest first; other files are ignored."""
    if not archive_dir.is_dir():
        raise AudioError(f"{archive_dir}: no such archive folder; record into it first")
    segments = []
    for path in sorted(archive_dir.glob(f"*/*{SEGMENT_SUFFIX}")):
        start = segment_start(path)
        if start is None:
            continue
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioError(
                f"{path}: archive segment is not readable ({e}); move it out of the archive"
            ) from e
        segments.append(Segment(path, start, int(info.frames), int(info.samplerate)))
    return segments
