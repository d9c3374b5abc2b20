"""`miserymeter devices --test`: record a few seconds and say whether the microphone works."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from miserymeter.capture.microphone import Microphone
from miserymeter.frontend.loudness import peak_dbfs, rms_dbfs

TOO_QUIET_DBFS = -70.0
CLIPPING_PEAK_DBFS = -0.1


@dataclass(frozen=True)
class LevelCheck:
    """The level of a short test recording, and what it means."""

    duration_s: float
    rms_dbfs: float
    peak_dbfs: float
    ok: bool
    verdict: str


def check_level(
    device: str | int | None, *, duration_s: float, sample_rate_hz: int, timeout_s: float = 10.0
) -> LevelCheck:
    """Record `duration_s` from `device` and judge its level."""
    n_frames = round(duration_s * sample_rate_hz)
    blocks: list[np.ndarray] = []
    deadline_s = time.monotonic() + duration_s + timeout_s
    with Microphone(
        device,
        sample_rate_hz=sample_rate_hz,
        n_channels=1,
        block_frames=sample_rate_hz // 10,
        max_frames=n_frames,
    ) as microphone:
        while sum(len(b) for b in blocks) < n_frames and time.monotonic() < deadline_s:
            if (block := microphone.next_block()) is not None:
                blocks.append(block)
    samples = np.concatenate(blocks) if blocks else np.zeros((0, 1), np.int16)
    return judge_level(samples, sample_rate_hz=sample_rate_hz)


def judge_level(samples: np.ndarray, *, sample_rate_hz: int) -> LevelCheck:
    """The verdict on a test recording (int16 [frames, channels])."""
    duration_s = len(samples) / sample_rate_hz
    rms, peak = rms_dbfs(samples), peak_dbfs(samples)
    if len(samples) == 0:
        ok, verdict = False, "no audio arrived: the device is not delivering samples"
    elif np.all(samples == samples.flat[0]):
        ok, verdict = False, "flat digital silence: the microphone is muted or not connected"
    elif rms < TOO_QUIET_DBFS:
        ok, verdict = False, "very quiet: raise the capture gain (alsamixer, F4)"
    elif peak >= CLIPPING_PEAK_DBFS:
        ok, verdict = False, "clipping: lower the capture gain (alsamixer, F4)"
    else:
        ok, verdict = True, "the microphone works"
    return LevelCheck(duration_s, rms, peak, ok, verdict)
