"""`miserymeter record` and `devices` through a real ALSA capture device backed by a file."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import EXAMPLES_DIR, assert_one_error_line, cli_command, run_miserymeter
from file_microphone import (
    ASOUNDRC,
    DEVICE_NAME,
    RATE_HZ,
    WAIT_S,
    FileMicrophone,
    MicrophoneProcess,
)
from miserymeter.audio.archive import list_segments, segment_path
from miserymeter.audio.io import read_audio
from miserymeter.capture.recorder import EVENTS_FILE

SEGMENT_S = 3.0


def real_audio_int16(duration_s: float) -> np.ndarray:
    """`duration_s` of the example clips, one after another, as int16 at the device's rate."""
    clips = [
        read_audio(path, sample_rate_hz=RATE_HZ).samples
        for path in sorted(EXAMPLES_DIR.glob("*.flac"))
    ]
    samples = np.concatenate(clips * 10)[: round(duration_s * RATE_HZ)]
    assert len(samples) == round(duration_s * RATE_HZ)
    return np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)


def archived_samples(archive: Path) -> np.ndarray:
    return np.concatenate([sf.read(s.path, dtype="int16")[0] for s in list_segments(archive)])


def events(archive: Path) -> list[dict[str, str]]:
    lines = (archive / EVENTS_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines]


def start_recording(
    microphone: FileMicrophone, archive: Path, *args: str, device: str = DEVICE_NAME
) -> MicrophoneProcess:
    """A `miserymeter record` process whose log lines the test can wait for."""
    command = [*cli_command(), "record", "--device", device, "--out", str(archive), *args]
    return MicrophoneProcess(command, microphone)


def run_with(microphone: FileMicrophone, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`miserymeter ARGS...` run to completion with the file microphone's environment."""
    return subprocess.run(
        [*cli_command(), *map(str, args)],
        env=microphone.env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def record_ok(microphone: FileMicrophone, *args: str | Path) -> str:
    """`miserymeter record --device testmic ARGS...`, which must succeed; its stdout."""
    process = run_with(microphone, "record", "--device", DEVICE_NAME, *args)
    assert process.returncode == 0, process.stderr
    return process.stdout


def wait_for_archived(archive: Path, duration_s: float) -> None:
    """Wait until the archive's segments hold at least `duration_s` of audio."""
    deadline_s = time.monotonic() + WAIT_S
    while time.monotonic() < deadline_s:
        if archive.is_dir() and sum(s.duration_s for s in list_segments(archive)) >= duration_s:
            return
        time.sleep(0.1)
    pytest.fail(f"{archive} did not reach {duration_s} s of audio within {WAIT_S} s")


def reported_frames(stdout: str) -> int:
    return int(stdout.split("(")[1].split(" frames")[0])


def test_arecord_reads_the_file_device_sample_exactly(file_microphone: FileMicrophone) -> None:
    audio = real_audio_int16(3.0)
    file_microphone.load(audio)
    np.testing.assert_array_equal(file_microphone.arecord(len(audio)), audio)


def test_devices_lists_the_file_microphone(file_microphone: FileMicrophone) -> None:
    file_microphone.load(real_audio_int16(1.0))
    process = run_with(file_microphone, "devices")
    assert process.returncode == 0, process.stderr
    assert DEVICE_NAME in process.stdout


def test_devices_test_reports_a_working_microphone(file_microphone: FileMicrophone) -> None:
    file_microphone.load(real_audio_int16(5.0))
    process = run_with(file_microphone, "devices", "--test", "--device", DEVICE_NAME)
    assert process.returncode == 0, process.stderr
    assert "recorded 3.0 s" in process.stdout
    assert "the microphone works" in process.stdout


def test_devices_test_flags_flat_digital_silence(file_microphone: FileMicrophone) -> None:
    file_microphone.load(np.zeros(5 * RATE_HZ, np.int16))
    process = run_with(file_microphone, "devices", "--test", "--device", DEVICE_NAME)
    assert process.returncode == 1
    assert "flat digital silence" in process.stdout
    assert "-120.0 dBFS" in process.stdout


def test_segments_follow_each_other_sample_exactly(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    audio = real_audio_int16(21.0)
    file_microphone.load(audio)
    archive = tmp_path / "archive"
    process = run_with(
        file_microphone,
        "record",
        "--device",
        DEVICE_NAME,
        "--out",
        archive,
        "--duration_s",
        "20",
        "--segment_s",
        str(SEGMENT_S),
    )
    assert process.returncode == 0, process.stderr
    assert f"({20 * RATE_HZ} frames)" in process.stdout

    np.testing.assert_array_equal(archived_samples(archive), audio[: 20 * RATE_HZ])
    segments = list_segments(archive)
    assert len(segments) in (7, 8)  # 20 s from an arbitrary start, cut on multiples of 3 s
    one_sample = timedelta(seconds=1 / RATE_HZ)
    for before, after in itertools.pairwise(segments):
        assert abs(after.start - before.end) < one_sample
        boundary_s = after.start.timestamp() / SEGMENT_S
        assert abs(boundary_s - round(boundary_s)) * SEGMENT_S < 1 / RATE_HZ
    assert all(s.duration_s <= SEGMENT_S + 1e-9 for s in segments)
    assert not list(archive.rglob("*.partial"))
    assert [e["kind"] for e in events(archive)] == ["started", "stopped"]


def test_sigterm_closes_the_current_segment_and_keeps_every_frame(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    file_microphone.open_fifo()
    file_microphone.feed(real_audio_int16(60.0), speed=8.0)
    archive = tmp_path / "archive"
    recording = start_recording(file_microphone, archive, "--segment_s", str(SEGMENT_S))
    wait_for_archived(archive, 2 * SEGMENT_S)
    code, stdout = recording.stop()

    assert code == 0, recording.log
    n_frames = reported_frames(stdout)
    assert n_frames > SEGMENT_S * RATE_HZ
    assert len(archived_samples(archive)) == n_frames
    assert list_segments(archive)[-1].duration_s < SEGMENT_S  # the cut-short last one
    assert not list(archive.rglob("*.partial"))


def test_watchdog_restarts_a_capture_that_delivers_nothing(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    file_microphone.open_fifo()
    file_microphone.feed(real_audio_int16(1.0))
    archive = tmp_path / "archive"
    recording = start_recording(file_microphone, archive, "--no_frames_s", "1")
    recording.wait_for("watchdog_no_frames")
    file_microphone.feed(real_audio_int16(60.0), speed=8.0)
    wait_for_archived(archive, 5.0)
    code, stdout = recording.stop()

    assert code == 0, recording.log
    assert reported_frames(stdout) > 4 * RATE_HZ  # audio kept coming after the restart
    assert "watchdog_no_frames" in [e["kind"] for e in events(archive)]


def test_watchdog_restarts_a_capture_of_flat_digital_silence(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    file_microphone.load(np.zeros(4 * RATE_HZ, np.int16))
    archive = tmp_path / "archive"
    stdout = record_ok(file_microphone, "--out", archive, "--duration_s", "2.5", "--flat_s", "1")
    assert f"({round(2.5 * RATE_HZ)} frames)" in stdout  # flat audio is still kept
    assert " 0 restart(s)" not in stdout
    flat = [e for e in events(archive) if e["kind"] == "watchdog_flat"]
    assert flat
    assert "every sample is 0" in flat[0]["message"]


def test_an_unplugged_microphone_is_retried_until_it_returns(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    file_microphone.open_fifo()
    file_microphone.feed(real_audio_int16(1.0))
    archive = tmp_path / "archive"
    recording = start_recording(file_microphone, archive, "--no_frames_s", "1")
    recording.wait_for("watchdog_no_frames")
    file_microphone.unplug()
    file_microphone.feed(real_audio_int16(0.5))  # into the old FIFO: the stuck stream stops
    recording.wait_for("microphone_unavailable")
    recording.wait_for("microphone_unavailable")  # retried, with backoff
    file_microphone.plug()
    file_microphone.feed(real_audio_int16(60.0), speed=8.0)
    gap = recording.wait_for("gap")  # told with the new run's first block, which is kept
    code, _ = recording.stop()

    assert code == 0, recording.log
    kinds = [e["kind"] for e in events(archive)]
    assert kinds.index("microphone_unavailable") < kinds.index("gap")
    assert "nothing recorded from" in gap
    segments = list_segments(archive)
    gaps = [b.start - a.end for a, b in itertools.pairwise(segments)]
    assert max(gaps) > timedelta(seconds=0.5)


def test_portaudio_that_cannot_restart_while_retrying_is_retried_not_fatal(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    """ALSA's configuration broken while the microphone is away: PortAudio's restart (to find
    the microphone anew) fails, which is one more retry, not a traceback."""
    file_microphone.open_fifo()
    file_microphone.feed(real_audio_int16(1.0))
    recording = start_recording(file_microphone, tmp_path / "archive", "--no_frames_s", "1")
    recording.wait_for("watchdog_no_frames")
    file_microphone.unplug()
    file_microphone.break_config()
    file_microphone.feed(real_audio_int16(0.5))  # into the old FIFO: the stuck stream stops
    failed = recording.wait_for("microphone_unavailable", saying="PortAudio could not start")
    file_microphone.plug()
    file_microphone.feed(real_audio_int16(60.0), speed=8.0)
    recording.wait_for("gap")
    code, _ = recording.stop()

    assert code == 0, recording.log
    assert "Error initializing PortAudio: Unanticipated host error" in failed
    assert "arecord -l" in failed
    assert not any("Traceback" in line for line in recording.log)


def test_portaudio_that_cannot_start_is_one_clear_error(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    file_microphone.break_config()
    for args in (["devices"], ["record", "--device", DEVICE_NAME, "--out", tmp_path]):
        process = run_with(file_microphone, *args)
        assert process.returncode == 1, process.stderr
        assert process.stderr.count("\n") == 1, process.stderr
        assert process.stderr.startswith("error: PortAudio could not start (Error initializing")
        assert "arecord -l" in process.stderr


def test_portaudio_that_fails_to_start_once_is_started_again(
    file_microphone: FileMicrophone,
) -> None:
    """A PortAudio that fails to start (ALSA's configuration broken) and works on the next try
    is a pause, not an error: the configuration is mended during the pause between tries."""
    file_microphone.break_config()
    program = f"""
import pathlib, sys
from miserymeter.capture import microphone
def mend(pause_s):
    print(f"paused {{pause_s}} s", file=sys.stderr)
    pathlib.Path({str(file_microphone.config)!r}).write_text({ASOUNDRC!r})
microphone.time.sleep = mend
sd = microphone.sounddevice()
print([d["name"] for d in sd.query_devices()])
"""
    process = subprocess.run(
        [sys.executable, "-c", program],
        env=file_microphone.env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )

    assert process.returncode == 0, process.stderr
    assert process.stderr.count("paused") >= 1
    assert DEVICE_NAME in process.stdout


def write_segment_file(archive: Path, start: datetime, duration_s: float) -> Path:
    path = segment_path(archive, start)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, real_audio_int16(duration_s), RATE_HZ, format="FLAC", subtype="PCM_16")
    return path


def test_keep_days_deletes_old_segments_and_their_folders(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    old = write_segment_file(archive, datetime.now(UTC) - timedelta(days=3), 2.0)
    recent = write_segment_file(archive, datetime.now(UTC) - timedelta(hours=2), 2.0)
    file_microphone.load(real_audio_int16(5.0))
    record_ok(file_microphone, "--out", archive, "--duration_s", "4", "--keep-days", "1")

    assert not old.exists() and not old.parent.exists()
    assert recent.exists()
    assert "retention" in [e["kind"] for e in events(archive)]


def test_max_gb_keeps_the_archive_under_its_size(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    file_microphone.load(real_audio_int16(21.0))
    limit_bytes = 150_000
    record_ok(
        file_microphone,
        "--out",
        archive,
        "--duration_s",
        "20",
        "--segment_s",
        "2",
        "--max-gb",
        str(limit_bytes / 1e9),
    )
    sizes = [s.path.stat().st_size for s in list_segments(archive)]
    assert sum(sizes) <= limit_bytes
    assert 0 < len(sizes) < 10  # the oldest went, the newest stayed


def test_a_full_disk_makes_room_by_deleting_the_oldest(
    file_microphone: FileMicrophone, tiny_disk: Path
) -> None:
    archive = tiny_disk / "archive"
    audio = real_audio_int16(31.0)
    file_microphone.load(audio)
    stdout = record_ok(file_microphone, "--out", archive, "--duration_s", "30", "--segment_s", "2")
    assert f"({30 * RATE_HZ} frames)" in stdout
    assert "disk_full" in [e["kind"] for e in events(archive)]
    kept = archived_samples(archive)  # the newest audio, up to the end of the recording
    assert 0 < len(kept) < 30 * RATE_HZ
    np.testing.assert_array_equal(kept, audio[30 * RATE_HZ - len(kept) : 30 * RATE_HZ])


def test_a_full_disk_with_nothing_to_delete_is_one_clear_error(
    file_microphone: FileMicrophone, tiny_disk: Path
) -> None:
    archive = tiny_disk / "archive"
    file_microphone.load(real_audio_int16(21.0))
    process = run_with(
        file_microphone,
        "record",
        "--device",
        DEVICE_NAME,
        "--out",
        archive,
        "--duration_s",
        "20",
        "--segment_s",
        "86400",
    )
    assert process.returncode == 1
    assert "write_failed" in process.stderr
    assert process.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "could not be written" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--sample_rate", "0", "--sample_rate 0: a microphone records at 8000 Hz or more"),
        ("--sample_rate", "1", "--sample_rate 1: a microphone records at 8000 Hz or more"),
        ("--segment_s", "-1", "--segment_s must be positive, not -1"),
        ("--keep-days", "0", "--keep-days must be positive, not 0"),
        ("--max-gb", "-2", "--max-gb must be positive, not -2"),
    ],
)
def test_bad_record_options_are_one_clear_error(
    file_microphone: FileMicrophone, tmp_path: Path, option: str, value: str, said: str
) -> None:
    process = run_with(
        file_microphone, "record", "--device", DEVICE_NAME, "--out", tmp_path, option, value
    )
    assert process.returncode == 1
    assert process.stderr.count("\n") == 1
    assert process.stderr.startswith(f"error: {said}")


@pytest.mark.usefixtures("no_microphone")
def test_no_microphone_at_all_is_one_clear_error_naming_device(tmp_path: Path) -> None:
    process = run_miserymeter("record", "--out", tmp_path / "archive", "--duration_s", "2")
    line = assert_one_error_line(process, "--device")
    assert "no microphone found" in line
    assert not (tmp_path / "archive").exists()
    line = assert_one_error_line(run_miserymeter("devices", "--test"), "--device")
    assert "no microphone found" in line  # not PortAudio's "Error querying device -1"


def test_a_missing_microphone_is_waited_for_not_fatal(
    file_microphone: FileMicrophone, tmp_path: Path
) -> None:
    recording = start_recording(file_microphone, tmp_path / "archive", device="no-such-mic")
    first = recording.wait_for("microphone_unavailable")
    recording.wait_for("microphone_unavailable")  # retried
    code, stdout = recording.stop()

    assert code == 0, recording.log
    assert "'no-such-mic'" in first
    assert "miserymeter devices" in first
    assert "recorded 0.0 s" in stdout
