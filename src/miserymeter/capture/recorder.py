"""The recorder's loop: live microphone → segment archive, through unplugs and dead captures.

It never gives up on its own: `capture.live` reopens a lost microphone and restarts a dead
capture, and each interruption is recorded as a gap. It stops when asked (`stop` is set, e.g.
by SIGTERM) or after `duration_s` of audio, and then writes out everything it has captured.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from miserymeter.capture.live import LiveInput, LiveInputConfig, RunEnded
from miserymeter.capture.retention import RetentionLimits
from miserymeter.capture.segments import SegmentWriter, WriterEvent
from miserymeter.clock import utc_now
from miserymeter.constants import (
    DEFAULT_CAPTURE_SAMPLE_RATE_HZ,
    DEFAULT_FLAT_S,
    DEFAULT_NO_FRAMES_S,
    DEFAULT_SEGMENT_S,
)

EVENTS_FILE = "recorder-events.jsonl"
# Two runs closer than this are one continuous recording, not a gap.
GAP_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class RecordConfig:
    """What `miserymeter record` was asked to do."""

    archive_dir: Path
    device: str | int | None = None
    sample_rate_hz: int = DEFAULT_CAPTURE_SAMPLE_RATE_HZ
    n_channels: int = 1
    segment_s: float = DEFAULT_SEGMENT_S
    limits: RetentionLimits = field(default_factory=RetentionLimits)
    no_frames_s: float = DEFAULT_NO_FRAMES_S
    flat_s: float = DEFAULT_FLAT_S
    duration_s: float | None = None


@dataclass(frozen=True)
class RecorderEvent:
    """One line of the recorder's log: when, what kind, and what happened."""

    at: datetime
    kind: str
    message: str


@dataclass(frozen=True)
class RecordSummary:
    """What a recording session captured."""

    n_frames: int
    n_segments_written: int
    n_frames_dropped: int
    n_frames_unwritten: int
    n_restarts: int
    gaps: tuple[tuple[datetime, datetime], ...]


class Recorder:
    """Runs the capture loop of one `RecordConfig`; see the module docstring."""

    def __init__(
        self,
        config: RecordConfig,
        *,
        on_event: Callable[[RecorderEvent], None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._clock = clock
        self._writer = SegmentWriter(
            config.archive_dir,
            sample_rate_hz=config.sample_rate_hz,
            segment_s=config.segment_s,
            limits=config.limits,
            on_event=self._writer_event,
            clock=clock,
        )
        self._input = LiveInput(
            LiveInputConfig(
                device=config.device,
                sample_rate_hz=config.sample_rate_hz,
                n_channels=config.n_channels,
                no_frames_s=config.no_frames_s,
                flat_s=config.flat_s,
                max_frames=(
                    None
                    if config.duration_s is None
                    else round(config.duration_s * config.sample_rate_hz)
                ),
            ),
            on_event=self._event,
            clock=clock,
        )
        self._gaps: list[tuple[datetime, datetime]] = []

    @property
    def n_stuck_streams(self) -> int:
        """Streams the audio driver would not release (their threads are still blocked)."""
        return self._input.n_stuck_streams

    def run(self, stop: threading.Event) -> RecordSummary:
        """Record until `stop` is set or `duration_s` of audio is captured."""
        config = self.config
        config.archive_dir.mkdir(parents=True, exist_ok=True)
        self._event("started", f"recording into {config.archive_dir} at {config.sample_rate_hz} Hz")
        for item in self._input.blocks(stop):
            if isinstance(item, RunEnded):
                self._writer.end_run()
                continue
            if item.run_start is not None:
                self._start_run(item.run_start)
            self._writer.add(item.samples)
        self._writer.end_run()
        self._writer.retry_pending()
        n_frames = self._input.n_frames
        self._event("stopped", f"stopped after {n_frames / config.sample_rate_hz:.1f} s")
        return RecordSummary(
            n_frames=n_frames,
            n_segments_written=self._writer.n_written,
            n_frames_dropped=self._writer.n_frames_dropped,
            n_frames_unwritten=self._writer.n_frames_pending,
            n_restarts=self._input.n_restarts,
            gaps=tuple(self._gaps),
        )

    def _start_run(self, start: datetime) -> None:
        """Anchor a new run to the wall clock; record the gap since the last run."""
        previous_end = self._writer.run_end
        if previous_end is not None:
            start = max(start, previous_end)
            if (start - previous_end).total_seconds() > GAP_TOLERANCE_S:
                self._gaps.append((previous_end, start))
                self._event(
                    "gap",
                    f"nothing recorded from {previous_end.isoformat()} to {start.isoformat()} "
                    f"({(start - previous_end).total_seconds():.1f} s)",
                )
        self._writer.start_run(start)

    def _writer_event(self, event: WriterEvent) -> None:
        self._event(event.kind, event.message)

    def _event(self, kind: str, message: str) -> None:
        event = RecorderEvent(self._clock(), kind, message)
        self._on_event(event)
        line = json.dumps({"at": event.at.isoformat(), "kind": kind, "message": message})
        # A full disk must not stop the recorder.
        with contextlib.suppress(OSError), (self.config.archive_dir / EVENTS_FILE).open("a") as f:
            f.write(line + "\n")
