"""Where the listener's audio comes from: a file, raw PCM on standard input, or a microphone.

Every source yields mono float32 blocks at its own sample rate. The first block of a *run*
(a file, a stdin stream, one open microphone stream) carries the wall-clock time of its first
sample when it is known; an empty block with `ends_run` closes a run, and an empty block
without it says that a live source is idle.
"""

from __future__ import annotations

import io
import select
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, cast

import numpy as np

from miserymeter.audio.recorded_time import recorded_start
from miserymeter.audio.stream import BLOCK_FRAMES, inspect_source, mono_blocks
from miserymeter.capture.live import LiveInput, LiveInputConfig, RunEnded
from miserymeter.errors import AudioError
from miserymeter.frontend.loudness import as_float

_NO_SAMPLES = np.zeros(0, dtype=np.float32)
READ_TIMEOUT_S = 0.25
FIRST_READ_BYTES = 1 << 20  # more than a pipe buffers


@dataclass(frozen=True)
class SourceBlock:
    """Mono samples in [-1, 1]; `run_start` on a run's first block; `ends_run` on its end."""

    samples: np.ndarray
    run_start: datetime | None = None
    ends_run: bool = False


class AudioSource(Protocol):
    """What the listener reads from."""

    name: str
    sample_rate_hz: int
    is_live: bool
    # Paced by a device's own clock (a microphone): its sample count drifts from the wall
    # clock, and the listener keeps its times near it. A file or a pipe is paced by its reader
    # or its writer.
    is_device_paced: bool

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]: ...

    @property
    def backlog_s(self) -> float:
        """Seconds of audio captured but not yet read (live sources only)."""
        ...


class FileSource:
    """A recording, read as fast as the CPU allows; dated by its name or tag when it can be."""

    is_live = False
    is_device_paced = False
    backlog_s = 0.0

    def __init__(
        self, path: Path, *, clock: Callable[[], datetime], start: datetime | None = None
    ) -> None:
        """Its first sample is at `start`, else at the time the file carries (an archive
        segment's name, a `date` tag: `recorded_start`), else so that it ended now (`clock`):
        a recording lies in the past, and its episodes must not lie in the future."""
        info = inspect_source(path)
        self.name = str(path)
        self.path = path
        self.sample_rate_hz = info.sample_rate_hz
        self.duration_s = info.duration_s
        dated = start or recorded_start(path)
        self.is_dated = dated is not None  # its time is when it was heard, not made up
        self.start = dated or clock() - timedelta(seconds=info.duration_s)

    @property
    def end(self) -> datetime:
        """When its last sample was heard."""
        return self.start + timedelta(seconds=self.duration_s)

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]:
        """The file's blocks; an AudioError where it cannot be read, which says how far it was
        heard when that is past its start (a file cut short, a damaged frame)."""
        run_start: datetime | None = self.start
        n_frames = 0
        try:
            for block in mono_blocks(self.path):
                if stop.is_set():
                    break
                yield SourceBlock(block, run_start)
                run_start = None
                n_frames += len(block)
        except AudioError as e:
            if n_frames == 0:
                raise
            what = str(e).removeprefix(f"{self.path}: ").split(";")[0]  # without its fix
            raise AudioError(
                f"{self.path}: {what} after {n_frames / self.sample_rate_hz:.0f} s of "
                f"{self.duration_s:.0f} s: what came before was listened to and stored; "
                "re-export the file to hear the rest"
            ) from e
        yield SourceBlock(_NO_SAMPLES, ends_run=True)


class StdinSource:
    """Raw signed 16-bit little-endian PCM, e.g. from `arecord -t raw -f S16_LE -r 16000`."""

    is_live = True
    is_device_paced = False
    backlog_s = 0.0

    def __init__(
        self,
        *,
        sample_rate_hz: int,
        n_channels: int,
        clock: Callable[[], datetime],
        stream: io.BufferedIOBase | None = None,
    ) -> None:
        self.name = "standard input"
        self.sample_rate_hz = sample_rate_hz
        self.n_channels = n_channels
        self._clock = clock
        self._stream = stream if stream is not None else cast(io.BufferedReader, sys.stdin.buffer)

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]:
        frame_bytes = 2 * self.n_channels
        block_bytes = frame_bytes * min(BLOCK_FRAMES, self.sample_rate_hz // 10)
        leftover = b""
        first = True
        while not stop.is_set():
            if not _readable(self._stream, timeout_s=READ_TIMEOUT_S):
                yield SourceBlock(_NO_SAMPLES)  # nothing yet: the listener may tend its sinks
                continue
            # The first read takes all that waits in the pipe (a full one holds 2 s at 16 kHz),
            # so that the run's start is dated by all of it, not by one block.
            data = self._stream.read1(FIRST_READ_BYTES if first else block_bytes)
            if not data:
                break
            data = leftover + data
            if first and data.startswith(b"RIFF"):
                raise AudioError(
                    "standard input: holds a WAV header, not raw PCM; run arecord with "
                    "`-t raw -f S16_LE`, or pass the file with --input"
                )
            n_usable = len(data) - len(data) % frame_bytes
            leftover = data[n_usable:]
            if n_usable == 0:
                continue
            frames = np.frombuffer(data[:n_usable], dtype="<i2").reshape(-1, self.n_channels)
            samples = as_float(frames).mean(axis=1, dtype=np.float32)
            run_start = None
            if first:
                run_start = self._clock() - timedelta(seconds=len(samples) / self.sample_rate_hz)
                first = False
            yield SourceBlock(samples, run_start)
        yield SourceBlock(_NO_SAMPLES, ends_run=True)


class MicrophoneSource:
    """A live microphone, reopened when it fails; its troubles go to `on_event`."""

    is_live = True
    is_device_paced = True

    def __init__(
        self,
        config: LiveInputConfig,
        *,
        on_event: Callable[[str, str], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.name = "the default microphone" if config.device is None else f"{config.device!r}"
        self.sample_rate_hz = config.sample_rate_hz
        self.live_input = LiveInput(config, on_event=on_event, clock=clock)

    @property
    def backlog_s(self) -> float:
        return self.live_input.backlog_s

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]:
        for item in self.live_input.blocks(stop):
            if isinstance(item, RunEnded):
                yield SourceBlock(_NO_SAMPLES, ends_run=True)
            else:
                samples = as_float(item.samples).mean(axis=1, dtype=np.float32)
                yield SourceBlock(samples, item.run_start)


def _readable(stream: io.BufferedIOBase, *, timeout_s: float) -> bool:
    """Whether a read would not block (so a stop request is seen while stdin is idle)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # an in-memory stream never blocks
        return True
    ready, _, _ = select.select([fd], [], [], timeout_s)
    return bool(ready)
