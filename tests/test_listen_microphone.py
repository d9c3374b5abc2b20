"""`miserymeter listen` on a real ALSA capture device (backed by a file or FIFO)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soxr

from conftest import CliRunner, assert_one_error_line, cli_command, cli_env
from file_microphone import (
    DEVICE_NAME,
    RATE_HZ,
    WAIT_S,
    FileMicrophone,
    MicrophoneProcess,
)
from test_listen import small_night


def night_at_device_rate() -> np.ndarray:
    """The 88 s test night (crying at 20-40 s) as int16 at the device's rate."""
    resampled = soxr.resample(small_night(), 16_000, RATE_HZ, quality="HQ")
    return np.round(np.clip(resampled, -1, 1) * 32767).astype(np.int16)


def listen_command(*args: str, max_lag_s: str = "600") -> list[str]:
    """`listen` on the test device, which sets no pace: by default no window counts as stale."""
    return [
        *cli_command(),
        "listen",
        "--device",
        DEVICE_NAME,
        "--sample_rate",
        str(RATE_HZ),
        "--no-clips",
        "--max_lag_s",
        max_lag_s,
        *args,
    ]


def run_listen(
    microphone: FileMicrophone, *args: str, max_lag_s: str = "600"
) -> subprocess.CompletedProcess[str]:
    """`listen` on the test device, run to its end."""
    return subprocess.run(
        listen_command(*args, max_lag_s=max_lag_s),
        env={**cli_env(), **microphone.env},
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )


def test_listen_hears_the_crying_through_the_microphone(file_microphone: FileMicrophone) -> None:
    file_microphone.load(night_at_device_rate())
    process = run_listen(file_microphone, "--json", "--duration_s", "88")
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    episode = json.loads(line)
    assert 18.0 <= episode["start_s"] <= 22.0 and 38.0 <= episode["end_s"] <= 42.0
    assert "listened to 88 s" in process.stderr


def test_a_microphone_unplugged_mid_night_is_reopened(file_microphone: FileMicrophone) -> None:
    night = night_at_device_rate()
    file_microphone.open_fifo()
    listening = MicrophoneProcess(listen_command("--no_frames_s", "1"), file_microphone)
    listening.wait_for("started")
    file_microphone.feed(night[: 3 * RATE_HZ], speed=1.0)
    listening.wait_for("watchdog_no_frames")
    file_microphone.unplug()
    file_microphone.feed(night[: RATE_HZ // 2])  # into the old FIFO: the stuck stream stops
    listening.wait_for("microphone_unavailable")
    file_microphone.plug()
    file_microphone.feed(night, speed=8.0)
    listening.wait_for("microphone_reopened")
    code, _ = listening.stop()
    assert code == 0, listening.log


def test_a_missing_microphone_is_retried_not_fatal(file_microphone: FileMicrophone) -> None:
    listening = MicrophoneProcess(
        [*cli_command(), "listen", "--device", "no-such-mic", "--no-clips"], file_microphone
    )
    first = listening.wait_for("microphone_unavailable")
    code, _ = listening.stop()
    assert code == 0, listening.log
    assert "no-such-mic" in first and "miserymeter devices" in first


@pytest.mark.usefixtures("no_microphone")
def test_no_microphone_at_all_is_one_clear_error_pointing_to_input(run_cli: CliRunner) -> None:
    process = run_cli("listen", "--no-clips")
    line = assert_one_error_line(process, "--input")
    assert "no microphone found" in line


def test_listen_drops_stale_windows_rather_than_fall_behind(
    file_microphone: FileMicrophone,
) -> None:
    """The file device delivers far faster than real time: a live backlog builds up at once."""
    file_microphone.load(night_at_device_rate())
    process = run_listen(file_microphone, "--no-db", "--duration_s", "88", max_lag_s="1")
    assert process.returncode == 0, process.stderr
    assert " falling_behind: " in process.stderr
    summary = process.stderr.splitlines()[-1]
    n_dropped = int(summary.split(" skipped as quiet, ")[1].split(" dropped")[0])
    assert n_dropped > 0
