"""Microphones through PortAudio (sounddevice): list them, and stream blocks of samples.

sounddevice is imported lazily: importing it starts PortAudio, which probes every device.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from miserymeter.audio.io import c_stderr_silenced
from miserymeter.errors import MicrophoneError

BLOCK_TIMEOUT_S = 0.25
# How often PortAudio is started before its failure is an error, and the first pause in
# between, doubled after each try (0.5 + 1 + 2 + 4 s: a busy machine's probe, a boot's ALSA).
START_ATTEMPTS = 5
START_RETRY_S = 0.5
CLOSE_TIMEOUT_S = 5.0


def sounddevice() -> ModuleType:
    """The sounddevice module, or a clear error if the PortAudio library is missing or will not
    start. A failed start is tried again: ALSA's probe of the devices can fail once and then
    work (seen on a busy machine), and a recorder started at boot should not die of it."""
    attempt = 1
    while True:
        try:
            import sounddevice as sd

            return sd
        except OSError as e:  # sounddevice raises OSError when libportaudio is not found
            raise MicrophoneError(
                "the PortAudio library is missing; install it with `sudo apt install libportaudio2`"
            ) from e
        except Exception as e:  # PortAudioError from Pa_Initialize, raised while importing
            if attempt == START_ATTEMPTS:
                raise MicrophoneError(_not_started(e)) from e
        time.sleep(START_RETRY_S * 2 ** (attempt - 1))
        attempt += 1


def rescan_devices() -> None:
    """Restart PortAudio so that it sees microphones plugged in or removed since it started.

    PortAudio enumerates devices once, at initialisation; sounddevice documents restarting it
    with these two calls. No stream may be open. A restart that fails (ALSA's configuration
    broken meanwhile) is a MicrophoneError, and leaves PortAudio stopped for the next one.
    """
    sd = sounddevice()
    with contextlib.suppress(sd.PortAudioError):  # stopped already: the last restart failed
        sd._terminate()
    try:
        sd._initialize()
    except sd.PortAudioError as e:
        raise MicrophoneError(_not_started(e)) from e


def _not_started(e: Exception) -> str:
    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    return f"PortAudio could not start ({reason}); check the sound setup with `arecord -l`"


@dataclass(frozen=True)
class InputDevice:
    """A device that can record: its PortAudio index, name and capabilities."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    default_sample_rate_hz: float
    is_default: bool


def input_devices() -> list[InputDevice]:
    """Every device with at least one input channel."""
    sd = sounddevice()
    default_input = sd.default.device[0]
    host_apis = sd.query_hostapis()
    return [
        InputDevice(
            index=int(d["index"]),
            name=str(d["name"]),
            host_api=str(host_apis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            default_sample_rate_hz=float(d["default_samplerate"]),
            is_default=int(d["index"]) == default_input,
        )
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]


def require_a_microphone(device: str | None, *, or_else: str) -> None:
    """A MicrophoneError when no `--device` is named and the machine has no input at all (a
    named device may be plugged in later: it is waited for); `or_else` says what else to do."""
    if device is None and not input_devices():
        raise MicrophoneError(
            f"no microphone found: plug one in (`miserymeter devices` lists them), or {or_else}"
        )


def parse_device(text: str | None) -> str | int | None:
    """A `--device` value: None (the default input), an index, or (part of) a name."""
    if text is None or text == "":
        return None
    return int(text) if text.isdigit() else text


class Microphone:
    """An open input stream; PortAudio's thread queues blocks of int16 samples [frames, channels].

    Use as a context manager. `failed` is set when the stream stops by itself (a device
    unplugged); `overflows` counts blocks in which PortAudio reported lost input.
    """

    def __init__(
        self,
        device: str | int | None,
        *,
        sample_rate_hz: int,
        n_channels: int,
        block_frames: int,
        max_frames: int | None = None,
    ) -> None:
        sd = sounddevice()
        self._sd = sd
        self._block_frames = block_frames
        self._blocks: queue.Queue[np.ndarray] = queue.Queue()
        self._frames_left = max_frames
        self._stopping = False
        self.failed = threading.Event()
        self.overflows = 0
        try:
            with c_stderr_silenced():  # ALSA and PortAudio print their own failure details
                self._stream = sd.InputStream(
                    device=device,
                    samplerate=sample_rate_hz,
                    channels=n_channels,
                    dtype="int16",
                    blocksize=block_frames,
                    callback=self._on_block,
                    finished_callback=self._on_finished,
                )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            name = "the default microphone" if device is None else f"microphone {device!r}"
            raise MicrophoneError(f"{name}: {e}") from e

    def _on_block(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.input_overflow:
            self.overflows += 1
        block = indata
        if self._frames_left is not None:
            block = indata[: self._frames_left]
            self._frames_left -= len(block)
        self._blocks.put(block.copy())
        if self._frames_left == 0:
            raise self._sd.CallbackStop

    def _on_finished(self) -> None:
        if not self._stopping and not self.finished:
            self.failed.set()

    @property
    def finished(self) -> bool:
        """True once every frame asked for (`max_frames`) has been queued."""
        return self._frames_left == 0

    @property
    def n_queued_frames(self) -> int:
        """About how many captured frames wait in the queue."""
        return self._blocks.qsize() * self._block_frames

    def next_block(self) -> np.ndarray | None:
        """The oldest queued block, or None if none arrives within a short wait."""
        try:
            return self._blocks.get(timeout=BLOCK_TIMEOUT_S)
        except queue.Empty:
            return None

    def drain(self) -> list[np.ndarray]:
        """Every block still queued (after `close`, nothing more arrives)."""
        blocks = []
        while True:
            try:
                blocks.append(self._blocks.get_nowait())
            except queue.Empty:
                return blocks

    def close(self, *, timeout_s: float) -> bool:
        """Stop the stream; False if it did not stop within `timeout_s` and was left behind.

        PortAudio's abort waits for its thread, which a driver stuck in a read can hold forever;
        the stop runs in a thread of its own so that the recorder can go on without it.
        """
        self._stopping = True

        def stop() -> None:
            with contextlib.suppress(self._sd.PortAudioError):  # the device is gone already
                self._stream.abort()
                self._stream.close()

        stopper = threading.Thread(target=stop, daemon=True)
        stopper.start()
        stopper.join(timeout_s)
        return not stopper.is_alive()

    def __enter__(self) -> Microphone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(timeout_s=CLOSE_TIMEOUT_S)
