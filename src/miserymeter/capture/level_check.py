"""`miserymeter devices --test`: record a few seconds and say whether the microphone works;
the dashboard's level page gives the same verdict on what the listener hears."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from miserymeter.capture.microphone import Microphone
from miserymeter.frontend.loudness import peak_dbfs, rms_dbfs

TOO_QUIET_DBFS = -70.0
CLIPPING_PEAK_DBFS = -0.1
CLIPPING_RMS_DBFS = -3.0


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
    else:
        ok, verdict = level_verdict(rms, peak, is_flat=bool(np.all(samples == samples.flat[0])))
    return LevelCheck(duration_s, rms, peak, ok, verdict)


def level_verdict(
    level_dbfs: float, peak_level_dbfs: float | None, *, is_flat: bool
) -> tuple[bool, str]:
    """Whether audio of this loudness (RMS) and peak is good to listen to, and a plain-words
    verdict. Without the peak (the store keeps loudness only), a loudness within
    `CLIPPING_RMS_DBFS` of full scale counts as clipping: only audio at full scale most of
    the time is that loud.
    """
    if is_flat:
        return False, "flat digital silence: the microphone is muted or not connected"
    if level_dbfs < TOO_QUIET_DBFS:
        return False, (
            "too quiet: move the microphone closer or raise the capture gain (alsamixer, F4)"
        )
    if peak_level_dbfs is None:
        clipping = level_dbfs >= CLIPPING_RMS_DBFS
    else:
        clipping = peak_level_dbfs >= CLIPPING_PEAK_DBFS
    if clipping:
        return False, "clipping: lower the capture gain (alsamixer, F4)"
    return True, "good: the microphone works"
