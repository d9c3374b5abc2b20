"""Cut an uninterrupted run of samples into archive segments, each written whole.

Audio waits in memory until a segment is complete, then goes to disk in one write (kind to SD
cards), as `.<name>.flac.partial` renamed into place, so a segment file is always whole.
Segment boundaries fall on multiples of the segment length in UTC (…:00, …:30), so names are
round; the first and last segment of a run may be shorter. Times come from sample counts,
anchored once per run to the wall clock.

A write that fails (a full disk, a folder that vanished) loses nothing at first: the segment
waits in memory and is retried; on a full disk the oldest segments are deleted to make room.
Only when more than `max_pending_s` of audio is waiting is the oldest waiting audio dropped.
"""

from __future__ import annotations

import errno
import io
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter.atomic_write import atomic_write
from miserymeter.audio.archive import segment_path
from miserymeter.capture.retention import RetentionLimits, delete_oldest, enforce_retention


@dataclass(frozen=True)
class WriterEvent:
    """Something the archive owner should hear about: `kind` and a line of text."""

    kind: str
    message: str


@dataclass(frozen=True)
class PendingSegment:
    """A complete segment waiting to be written."""

    path: Path
    samples: np.ndarray  # int16 [frames, channels]


class SegmentWriter:
    """Collects blocks of one run at a time and writes them as timestamped segments."""

    def __init__(
        self,
        archive_dir: Path,
        *,
        sample_rate_hz: int,
        segment_s: float,
        limits: RetentionLimits,
        on_event: Callable[[WriterEvent], None],
        max_pending_s: float = 600.0,
        clock: Callable[[], datetime],
    ) -> None:
        self.archive_dir = archive_dir
        self._sample_rate_hz = sample_rate_hz
        self._segment_s = segment_s
        self._limits = limits
        self._on_event = on_event
        self._max_pending_frames = int(max_pending_s * sample_rate_hz)
        self._clock = clock
        self._run_start: datetime | None = None
        self._run_frames = 0
        self._segment_first_frame = 0
        self._blocks: list[np.ndarray] = []
        self._pending: deque[PendingSegment] = deque()
        self.n_written = 0
        self.n_frames_dropped = 0

    @property
    def run_end(self) -> datetime | None:
        """The instant just after the last sample of the current or last run."""
        if self._run_start is None:
            return None
        return self._frame_time(self._run_frames)

    @property
    def n_frames_pending(self) -> int:
        """Frames of complete segments still waiting to be written."""
        return sum(len(p.samples) for p in self._pending)

    def start_run(self, start: datetime) -> None:
        """Begin an uninterrupted run whose first sample was heard at `start`."""
        self.end_run()
        self._run_start, self._run_frames, self._segment_first_frame = start, 0, 0

    def add(self, block: np.ndarray) -> None:
        """Append samples [frames, channels] to the run; write each segment it completes."""
        while len(block):
            room = self._frames_to_boundary() - (self._run_frames - self._segment_first_frame)
            head, block = block[:room], block[room:]
            self._blocks.append(head)
            self._run_frames += len(head)
            if len(block) or len(head) == room:
                self._close_segment()

    def end_run(self) -> None:
        """Write what the run holds as a (shorter) segment: a gap or the end follows.

        Samples added afterwards still continue the run, in a segment of their own.
        """
        if self._run_frames > self._segment_first_frame:
            self._close_segment()

    def retry_pending(self) -> None:
        """Try again to write segments that are waiting in memory."""
        while self._pending and self._write(self._pending[0]):
            self._pending.popleft()

    def _frame_time(self, frame: int) -> datetime:
        assert self._run_start is not None, "start_run() first"
        return self._run_start + timedelta(seconds=frame / self._sample_rate_hz)

    def _frames_to_boundary(self) -> int:
        """Frames from the current segment's start to the next multiple of the segment length.

        A start less than half a sample before a boundary counts as on it, so rounding never
        leaves a segment of a few samples.
        """
        assert self._run_start is not None, "start_run() first"
        run_start_s = self._run_start.timestamp()
        start_s = run_start_s + self._segment_first_frame / self._sample_rate_hz
        half_sample_s = 0.5 / self._sample_rate_hz
        boundary_s = (math.floor((start_s + half_sample_s) / self._segment_s) + 1) * self._segment_s
        boundary_frame = round((boundary_s - run_start_s) * self._sample_rate_hz)
        return boundary_frame - self._segment_first_frame

    def _close_segment(self) -> None:
        samples = np.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
        path = segment_path(self.archive_dir, self._frame_time(self._segment_first_frame))
        self._blocks = []
        self._segment_first_frame = self._run_frames
        self._pending.append(PendingSegment(path, samples))
        self.retry_pending()
        self._drop_excess()

    def _write(self, segment: PendingSegment) -> bool:
        """Write one segment; False if it must wait (the reason is reported)."""
        try:
            write_segment(segment.path, segment.samples, sample_rate_hz=self._sample_rate_hz)
        except OSError as e:
            if e.errno == errno.ENOSPC and delete_oldest(self.archive_dir) is not None:
                self._on_event(WriterEvent("disk_full", "disk full: deleted the oldest segment"))
                return self._write(segment)
            self._on_event(
                WriterEvent(
                    "write_failed",
                    f"{segment.path}: cannot write ({e.strerror or e}); keeping the audio "
                    "in memory and retrying; free space or fix the archive folder",
                )
            )
            return False
        self.n_written += 1
        for deleted in enforce_retention(self.archive_dir, self._limits, now=self._clock()):
            self._on_event(WriterEvent("retention", f"retention: deleted {deleted.name}"))
        return True

    def _drop_excess(self) -> None:
        """Drop the oldest waiting audio beyond `max_pending_s` (only while writes fail)."""
        while self.n_frames_pending > self._max_pending_frames:
            dropped = self._pending.popleft()
            self.n_frames_dropped += len(dropped.samples)
            dropped_s = len(dropped.samples) / self._sample_rate_hz
            message = f"{dropped.path.name}: dropped {dropped_s:.0f} s of unwritable audio"
            self._on_event(WriterEvent("dropped", message))


def write_segment(path: Path, samples: np.ndarray, *, sample_rate_hz: int) -> None:
    """Write a FLAC segment atomically: to a partial file, synced, then renamed.

    It is encoded in memory first, so that a full disk raises OSError(ENOSPC) from the one
    write rather than an opaque error from inside the encoder.
    """
    encoded = io.BytesIO()
    sf.write(encoded, samples, sample_rate_hz, format="FLAC", subtype="PCM_16")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as partial:
        partial.write_bytes(encoded.getbuffer())
