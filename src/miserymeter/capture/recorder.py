"""The recorder's loop: microphone → segment archive, through unplugs and dead captures.

It never gives up on its own: a microphone that cannot be opened is retried with backoff
(1 s, 2 s, 4 s ... up to a minute), a capture the watchdog finds dead is restarted, and each
interruption is recorded as a gap. It stops when asked (`stop` is set, e.g. by SIGTERM) or
after `duration_s` of audio, and then writes out everything it has captured.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from miserymeter.capture.microphone import CLOSE_TIMEOUT_S, Microphone, rescan_devices
from miserymeter.capture.retention import RetentionLimits
from miserymeter.capture.segments import SegmentWriter, WriterEvent
from miserymeter.capture.watchdog import Watchdog
from miserymeter.constants import (
    DEFAULT_CAPTURE_SAMPLE_RATE_HZ,
    DEFAULT_FLAT_S,
    DEFAULT_NO_FRAMES_S,
    DEFAULT_SEGMENT_S,
    FIRST_RETRY_S,
    LONGEST_RETRY_S,
)
from miserymeter.errors import MicrophoneError

EVENTS_FILE = "recorder-events.jsonl"
BLOCK_S = 0.1
# Two runs closer than this are one continuous recording, not a gap.
GAP_TOLERANCE_S = 0.05

RunEnd = Literal["stopped", "finished", "lost", "dead"]


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


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        self._watchdog = Watchdog(
            sample_rate_hz=config.sample_rate_hz,
            no_frames_s=config.no_frames_s,
            flat_s=config.flat_s,
        )
        self._n_frames = 0
        self._n_restarts = 0
        self._run_started = self._healthy = False
        self.n_stuck_streams = 0
        self._gaps: list[tuple[datetime, datetime]] = []

    def run(self, stop: threading.Event) -> RecordSummary:
        """Record until `stop` is set or `duration_s` of audio is captured."""
        config = self.config
        config.archive_dir.mkdir(parents=True, exist_ok=True)
        self._event("started", f"recording into {config.archive_dir} at {config.sample_rate_hz} Hz")
        retry_s = FIRST_RETRY_S
        while not stop.is_set() and self._frames_left() != 0:
            try:
                microphone = self._open()
            except MicrophoneError as e:
                self._event(
                    "microphone_unavailable",
                    f"{e}; retrying in {retry_s:.0f} s (`miserymeter devices` lists them)",
                )
                stop.wait(retry_s)
                retry_s = min(2 * retry_s, LONGEST_RETRY_S)
                with contextlib.suppress(MicrophoneError):
                    rescan_devices()
                continue
            end, healthy = self._capture(microphone, stop)
            if healthy:
                retry_s = FIRST_RETRY_S
            if end in ("lost", "dead"):
                self._n_restarts += 1
                stop.wait(0 if healthy else retry_s)
                if not healthy:
                    retry_s = min(2 * retry_s, LONGEST_RETRY_S)
        self._writer.end_run()
        self._writer.retry_pending()
        self._event("stopped", f"stopped after {self._n_frames / config.sample_rate_hz:.1f} s")
        return RecordSummary(
            n_frames=self._n_frames,
            n_segments_written=self._writer.n_written,
            n_frames_dropped=self._writer.n_frames_dropped,
            n_frames_unwritten=self._writer.n_frames_pending,
            n_restarts=self._n_restarts,
            gaps=tuple(self._gaps),
        )

    def _frames_left(self) -> int | None:
        if self.config.duration_s is None:
            return None
        return round(self.config.duration_s * self.config.sample_rate_hz) - self._n_frames

    def _open(self) -> Microphone:
        config = self.config
        return Microphone(
            config.device,
            sample_rate_hz=config.sample_rate_hz,
            n_channels=config.n_channels,
            block_frames=round(BLOCK_S * config.sample_rate_hz),
            max_frames=self._frames_left(),
        )

    def _capture(self, microphone: Microphone, stop: threading.Event) -> tuple[RunEnd, bool]:
        """One open stream, until it ends; returns how, and whether real audio came through."""
        self._watchdog.start(time.monotonic())
        self._run_started = self._healthy = False
        end: RunEnd = "stopped"
        while not stop.is_set():
            block = microphone.next_block()
            if block is not None:
                self._keep(block)
            if microphone.finished and block is None:
                end = "finished"
                break
            if microphone.failed.is_set() and block is None:
                end = "lost"
                self._event("microphone_lost", "the microphone stopped delivering audio")
                break
            verdict = self._watchdog.check(time.monotonic())
            if verdict is not None:
                end = "dead"
                self._event(f"watchdog_{verdict.fault}", f"{verdict.message}; restarting")
                break
        # Everything captured goes to disk before the stream is closed: a driver stuck in a
        # read can make closing hang, and a service manager then kills the process.
        self._keep_all(microphone.drain())
        self._writer.end_run()
        if not microphone.close(timeout_s=CLOSE_TIMEOUT_S):
            self.n_stuck_streams += 1
            self._event(
                "microphone_stuck", "the audio driver does not let go of the stream; moving on"
            )
        self._keep_all(microphone.drain())
        self._writer.end_run()
        if microphone.overflows:
            self._event(
                "overflow",
                f"PortAudio lost input {microphone.overflows} time(s): the CPU or the card "
                "could not keep up",
            )
        return end, self._healthy

    def _keep(self, block: np.ndarray) -> None:
        """Archive one block of the open stream (the first one anchors a new run)."""
        if not self._run_started:
            self._start_run(len(block))
            self._run_started = True
        self._healthy = self._healthy or bool(np.any(block != block.flat[0]))
        self._watchdog.feed(block, time.monotonic())
        self._writer.add(block)
        self._n_frames += len(block)

    def _keep_all(self, blocks: list[np.ndarray]) -> None:
        for block in blocks:
            self._keep(block)

    def _start_run(self, first_block_frames: int) -> None:
        """Anchor a new run to the wall clock; record the gap since the last run."""
        start = self._clock() - timedelta(seconds=first_block_frames / self.config.sample_rate_hz)
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
