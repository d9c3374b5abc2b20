"""A microphone that keeps coming back: blocks of live audio through unplugs and dead captures.

A microphone that cannot be opened is retried with backoff (1 s, 2 s, 4 s ... up to a minute,
with PortAudio rescanned so a re-plugged USB microphone is found); a capture the watchdog
finds dead is restarted. Each stream is a *run*: its first block carries the wall-clock time
of its first sample, and a `RunEnded` marker follows its last block, handed out before the
stream is closed (a driver stuck in a read can make closing hang).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from miserymeter.capture.microphone import CLOSE_TIMEOUT_S, Microphone, rescan_devices
from miserymeter.capture.watchdog import Watchdog
from miserymeter.constants import FIRST_RETRY_S, LONGEST_RETRY_S
from miserymeter.errors import MicrophoneError

BLOCK_S = 0.1

RunEnd = Literal["stopped", "finished", "lost", "dead"]


@dataclass(frozen=True)
class LiveInputConfig:
    """Which microphone, in what format, and when to call its capture dead."""

    device: str | int | None
    sample_rate_hz: int
    n_channels: int
    no_frames_s: float
    flat_s: float
    max_frames: int | None = None


@dataclass(frozen=True)
class LiveBlock:
    """int16 samples [frames, channels]; `run_start` is set on the first block of a run."""

    samples: np.ndarray
    run_start: datetime | None


@dataclass(frozen=True)
class RunEnded:
    """The stream that delivered the previous blocks has ended (`how`)."""

    how: RunEnd


class LiveInput:
    """Yields `LiveBlock`s and `RunEnded`s until stopped; reports what happens to `on_event`."""

    def __init__(
        self,
        config: LiveInputConfig,
        *,
        on_event: Callable[[str, str], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._clock = clock
        self._watchdog = Watchdog(
            sample_rate_hz=config.sample_rate_hz,
            no_frames_s=config.no_frames_s,
            flat_s=config.flat_s,
        )
        self._microphone: Microphone | None = None
        self.n_frames = 0
        self.n_restarts = 0
        self.n_stuck_streams = 0

    def blocks(self, stop: threading.Event) -> Iterator[LiveBlock | RunEnded]:
        """Capture until `stop` is set or `max_frames` have been delivered."""
        retry_s = FIRST_RETRY_S
        failed = rescan = False
        while not stop.is_set() and self._frames_left() != 0:
            try:
                if rescan:  # after a failed opening: the device may have come back anew
                    rescan_devices()
                microphone = self._open()
                if failed:
                    self._on_event("microphone_reopened", "the microphone is capturing again")
                failed = rescan = False
            except MicrophoneError as e:
                failed = rescan = True
                self._on_event(
                    "microphone_unavailable",
                    f"{e}; retrying in {retry_s:.0f} s (`miserymeter devices` lists them)",
                )
                stop.wait(retry_s)
                retry_s = min(2 * retry_s, LONGEST_RETRY_S)
                continue
            healthy = False
            end: RunEnd = "stopped"
            for item in self._capture(microphone, stop):
                if isinstance(item, RunEnded):
                    end = item.how
                else:
                    healthy = healthy or bool(np.any(item.samples != item.samples.flat[0]))
                yield item
            if healthy:
                retry_s = FIRST_RETRY_S
            if end in ("lost", "dead"):
                failed = True
                self.n_restarts += 1
                stop.wait(0 if healthy else retry_s)
                if not healthy:
                    retry_s = min(2 * retry_s, LONGEST_RETRY_S)

    @property
    def backlog_s(self) -> float:
        """Seconds of captured audio waiting to be handed out (0 when the reader keeps up)."""
        microphone = self._microphone
        if microphone is None:
            return 0.0
        return microphone.n_queued_frames / self.config.sample_rate_hz

    def _frames_left(self) -> int | None:
        if self.config.max_frames is None:
            return None
        return self.config.max_frames - self.n_frames

    def _open(self) -> Microphone:
        config = self.config
        return Microphone(
            config.device,
            sample_rate_hz=config.sample_rate_hz,
            n_channels=config.n_channels,
            block_frames=round(BLOCK_S * config.sample_rate_hz),
            max_frames=self._frames_left(),
        )

    def _capture(
        self, microphone: Microphone, stop: threading.Event
    ) -> Iterator[LiveBlock | RunEnded]:
        """One open stream, until it ends."""
        self._microphone = microphone
        self._watchdog.start(time.monotonic())
        run_started = False
        end: RunEnd = "stopped"
        while not stop.is_set():
            block = microphone.next_block()
            if block is not None:
                yield self._delivered(block, first=not run_started)
                run_started = True
            if microphone.finished and block is None:
                end = "finished"
                break
            if microphone.failed.is_set() and block is None:
                end = "lost"
                self._on_event("microphone_lost", "the microphone stopped delivering audio")
                break
            verdict = self._watchdog.check(time.monotonic())
            if verdict is not None:
                end = "dead"
                self._on_event(f"watchdog_{verdict.fault}", f"{verdict.message}; restarting")
                break
        for block in microphone.drain():
            yield self._delivered(block, first=not run_started)
            run_started = True
        yield RunEnded(end)
        self._microphone = None
        if not microphone.close(timeout_s=CLOSE_TIMEOUT_S):
            self.n_stuck_streams += 1
            self._on_event(
                "microphone_stuck", "the audio driver does not let go of the stream; moving on"
            )
        late = microphone.drain()
        if late:
            for block in late:
                yield self._delivered(block, first=not run_started)
                run_started = True
            yield RunEnded(end)
        if microphone.overflows:
            self._on_event(
                "overflow",
                f"PortAudio lost input {microphone.overflows} time(s): the CPU or the card "
                "could not keep up",
            )

    def _delivered(self, block: np.ndarray, *, first: bool) -> LiveBlock:
        self._watchdog.feed(block, time.monotonic())
        self.n_frames += len(block)
        run_start = None
        if first:
            run_start = self._clock() - timedelta(seconds=len(block) / self.config.sample_rate_hz)
        return LiveBlock(block, run_start)
