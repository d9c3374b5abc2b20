"""`miserymeter slice`: sox's trim/vol/rate step on real recordings, and its bad inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import assert_one_error_line, cli_env
from miserymeter.audio.io import read_audio
from miserymeter.prepare.split import which_set
from prepare_helpers import (
    DOG,
    M4A_HEADER,
    PHONE_CRYING,
    QUIET_ROOM,
    SPEECH,
    read_float,
    read_int16,
)

RunCli = Callable[..., subprocess.CompletedProcess[str]]
ONE_LSB = 1 / 32768


def clips_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cuts_resamples_and_names_clips_by_source_and_offset(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "clips"

    process = run_cli(
        "slice", PHONE_CRYING, "--out", out, "--clip_duration_ms", "2000", "--sample_rate", "22050"
    )

    assert process.returncode == 0, process.stderr
    stem = PHONE_CRYING.stem  # 6.84 s at 8 kHz: three whole 2 s clips, 0.84 s left over
    assert clips_in(out) == [f"{stem}_nohash_{ms:08d}ms.wav" for ms in (0, 2000, 4000)]
    assert "3 clips (6.8 s at 8000 Hz, last 0.84 s left out)" in process.stdout
    assert "wrote 3 clips of 2000 ms at 22050 Hz" in process.stdout
    reference = read_audio(PHONE_CRYING, sample_rate_hz=22050).samples  # one-shot soxr
    for k, name in enumerate(clips_in(out)):
        samples, rate_hz = read_float(out / name)
        assert rate_hz == 22050
        assert len(samples) == 44_100
        expected = reference[k * 44_100 : (k + 1) * 44_100]
        np.testing.assert_allclose(samples, expected, atol=ONE_LSB)


def test_clips_of_one_recording_share_one_split(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    run_cli("slice", SPEECH, "--out", out, "--clip_duration_ms", "1000", "--hop_ms", "250")

    paths = sorted(out.iterdir())

    assert len(paths) == 13  # starts 0, 250, ..., 3000 ms of a 4 s recording
    assert paths[-1].name == f"{SPEECH.stem}_nohash_00003000ms.wav"
    splits = {which_set(p, validation_percentage=10, testing_percentage=10) for p in paths}
    assert len(splits) == 1


def test_overlapping_clips_hold_the_source_at_their_offset(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "clips"

    process = run_cli("slice", DOG, "--out", out, "--clip_duration_ms", "1500", "--hop_ms", "700")

    assert process.returncode == 0, process.stderr
    source, _ = read_float(DOG)  # already 16 kHz: no resampling, exact up to 16-bit rounding
    offsets_ms = [0, 700, 1400, 2100]
    assert clips_in(out) == [f"{DOG.stem}_nohash_{ms:08d}ms.wav" for ms in offsets_ms]
    for ms in offsets_ms:
        samples, rate_hz = read_int16(out / f"{DOG.stem}_nohash_{ms:08d}ms.wav")
        start = ms * 16
        expected = np.round(source[start : start + 24_000] * 32768).astype(np.int16)
        assert rate_hz == 16_000
        np.testing.assert_array_equal(samples, expected)


def test_gain_clips_and_reports_every_clipped_sample(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "clips"

    process = run_cli("slice", DOG, "--out", out, "--clip_duration_ms", "2000", "--gain_db", "20")

    assert process.returncode == 0, process.stderr
    source, _ = read_float(DOG)
    amplified = source * np.float32(10.0)
    n_clipped = int(np.count_nonzero(np.abs(amplified) > 1.0))
    assert n_clipped > 1000
    assert f"gain +20.0 dB, {n_clipped} samples clipped" in process.stdout
    assert f"warning: {n_clipped} samples in 2 clips were clipped" in process.stdout
    first, _ = read_float(out / f"{DOG.stem}_nohash_00000000ms.wav")
    np.testing.assert_allclose(first, np.clip(amplified[:32_000], -1, 1), atol=ONE_LSB)


def test_gain_like_the_original_sox_command(run_cli: RunCli, tmp_path: Path) -> None:
    """`sox FILE OUT trim 0 5 vol 45 dB rate 22050` on a quiet room clips its peaks silently;
    slice says how many."""
    out = tmp_path / "clips"

    process = run_cli(
        "slice", QUIET_ROOM, "--out", out, "--clip_duration_ms", "4000",
        "--gain_db", "45", "--sample_rate", "22050",
    )  # fmt: skip

    assert process.returncode == 0, process.stderr
    reference = read_audio(QUIET_ROOM, sample_rate_hz=22050).samples
    amplified = reference * np.float32(10 ** (45 / 20))
    n_clipped = int(np.count_nonzero(np.abs(amplified) > 1.0))
    assert 0 < n_clipped < 1000
    assert f"warning: {n_clipped} samples in 1 clip were clipped" in process.stdout
    (name,) = clips_in(out)
    samples, rate_hz = read_float(out / name)
    level_dbfs = 10 * np.log10(np.mean(samples.astype(np.float64) ** 2))
    assert rate_hz == 22050 and len(samples) == 88_200
    assert -55 + 45 - 1 < level_dbfs < -55 + 45 + 1


def test_normalize_brings_each_recording_to_the_target_level(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "clips"

    process = run_cli(
        "slice", QUIET_ROOM, SPEECH, "--out", out, "--clip_duration_ms", "1000",
        "--normalize", "--target_dbfs", "-26",
    )  # fmt: skip

    assert process.returncode == 0, process.stderr
    for source in (QUIET_ROOM, SPEECH):
        clips = [read_float(p)[0] for p in sorted(out.glob(f"{source.stem}_nohash_*"))]
        whole = np.concatenate(clips).astype(np.float64)  # 4 clips = the whole 4 s file
        assert 10 * np.log10(np.mean(whole**2)) == pytest.approx(-26.0, abs=0.05)
    assert "level -55." in process.stdout  # the quiet room is pink noise at -55 dBFS
    assert "gain +2" in process.stdout  # ... lifted by about 29 dB


def test_stereo_is_mixed_down_to_mono(run_cli: RunCli, tmp_path: Path) -> None:
    left, _ = read_float(DOG)
    right, _ = read_float(SPEECH)
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([left, right], axis=1), 16_000, subtype="FLOAT")
    out = tmp_path / "clips"

    process = run_cli("slice", stereo, "--out", out, "--clip_duration_ms", "4000")

    assert process.returncode == 0, process.stderr
    assert "2 channels mixed down" in process.stdout
    samples, _ = read_float(out / "stereo_nohash_00000000ms.wav")
    np.testing.assert_allclose(samples, (left + right) / 2, atol=ONE_LSB)


def test_a_folder_is_sliced_file_by_file(run_cli: RunCli, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for source in (DOG, SPEECH):
        shutil.copy(source, recordings / source.name)
    (recordings / "notes.txt").write_text("not audio")
    out = tmp_path / "clips"

    process = run_cli("slice", recordings, "--out", out, "--clip_duration_ms", "2000")

    assert process.returncode == 0, process.stderr
    assert len(clips_in(out)) == 4
    assert "wrote 4 clips" in process.stdout


def test_voice_memos_in_a_folder_are_named_with_the_fix_not_skipped_silently(
    run_cli: RunCli, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "night 2.m4a").write_bytes(M4A_HEADER)
    fix = "convert it, e.g. `ffmpeg -i 'night 2.m4a' 'night 2.flac'`"

    line = assert_one_error_line(
        run_cli("slice", recordings, "--out", tmp_path / "none"), recordings
    )
    assert line.endswith(f"1 audio file left out, .m4a cannot be read (night 2.m4a); {fix}")

    shutil.copy(DOG, recordings / DOG.name)
    process = run_cli(
        "slice", recordings, "--out", tmp_path / "clips", "--clip_duration_ms", "2000"
    )
    assert process.returncode == 0, process.stderr
    assert f"warning: {recordings}: 1 audio file left out" in process.stdout
    assert fix in process.stdout
    assert len(clips_in(tmp_path / "clips")) == 2


def test_a_folder_is_sliced_without_its_hidden_files_and_folders(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A folder copied from a Mac holds `._` AppleDouble files beside the recordings, and a
    hidden `.trash/`: slice reads the recordings only, as training does."""
    recordings = tmp_path / "recordings"
    (recordings / ".trash").mkdir(parents=True)
    shutil.copy(DOG, recordings / DOG.name)
    (recordings / f"._{DOG.name}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    shutil.copy(DOG, recordings / ".trash" / "deleted.flac")

    process = run_cli(
        "slice", recordings, "--out", tmp_path / "clips", "--clip_duration_ms", "2000"
    )

    assert process.returncode == 0, process.stderr
    assert clips_in(tmp_path / "clips") == [
        f"{DOG.stem}_nohash_00000000ms.wav",
        f"{DOG.stem}_nohash_00002000ms.wav",
    ]


def test_a_recording_shorter_than_a_clip_gives_no_clip_and_says_what_to_pass(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "clips"

    process = run_cli("slice", DOG, "--out", out, "--clip_duration_ms", "5000")

    assert "0 clips (4.0 s at 16000 Hz, last 4.00 s left out)" in process.stdout
    line = assert_one_error_line(process, "no clip written", "--clip_duration_ms 5000")
    assert line.endswith("(from 4.0 s); pass a shorter --clip_duration_ms"), line


# Bad inputs: one line on stderr, exit code 1, nothing lost.


def test_an_unreadable_recording_stops_before_anything_is_written(
    run_cli: RunCli, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_bytes(np.random.default_rng(0).bytes(3_000))
    out = tmp_path / "clips"

    line = assert_one_error_line(run_cli("slice", DOG, corrupt, "--out", out), corrupt)

    assert "not a readable audio file" in line
    assert not out.exists() or clips_in(out) == []


def test_a_missing_recording(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "night.wav"

    line = assert_one_error_line(run_cli("slice", missing, "--out", tmp_path / "c"), missing)

    assert "no such file" in line


def test_an_empty_recording(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 16_000)

    line = assert_one_error_line(run_cli("slice", empty, "--out", tmp_path / "c"), empty)

    assert "no audio samples" in line


def test_existing_clips_are_never_overwritten(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    run_cli("slice", DOG, "--out", out, "--clip_duration_ms", "2000")
    first = out / f"{DOG.stem}_nohash_00000000ms.wav"
    before = first.read_bytes()

    process = run_cli("slice", DOG, "--out", out, "--clip_duration_ms", "2000", "--gain_db", "6")

    line = assert_one_error_line(process, first, DOG)
    assert "remove them or choose another --out" in line
    assert first.read_bytes() == before


def test_two_recordings_with_one_name(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = Path(shutil.copy(DOG, tmp_path / "a" / "night.flac"))
    other = Path(shutil.copy(SPEECH, tmp_path / "b" / "night.flac"))

    process = run_cli("slice", one, other, "--out", tmp_path / "clips")

    assert "rename one of them" in assert_one_error_line(process, one, other)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--clip_duration_ms", "0"), "--clip_duration_ms 0: must be positive"),
        (("--sample_rate", "100"), "--sample_rate 100: must be between"),
        (("--hop_ms", "-5"), "--hop_ms -5: must be a positive"),
        (("--gain_db", "6", "--normalize"), "--gain_db and --normalize exclude each other"),
        (("--normalize", "--target_dbfs", "3"), "--target_dbfs 3: must be below 0 dBFS"),
        (("--normalize", "--target_dbfs", "nan"), "--target_dbfs nan: must be below 0 dBFS"),
        (("--gain_db", "nan"), "--gain_db nan: must be between -60 and 60 dB"),
        (("--gain_db", "1e308"), "--gain_db 1e+308: must be between -60 and 60 dB"),
        (("--gain_db", "-inf"), "--gain_db -inf: must be between -60 and 60 dB"),
    ],
)
def test_bad_options(run_cli: RunCli, tmp_path: Path, flags: tuple[str, ...], message: str) -> None:
    process = run_cli("slice", DOG, "--out", tmp_path / "clips", *flags)

    assert message in assert_one_error_line(process)


def _can_mount_tmpfs(mount_point: Path) -> bool:
    probe = subprocess.run(
        [*UNSHARE, "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {mount_point}"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


UNSHARE = ["unshare", "--user", "--map-root-user", "--mount"]


def test_a_full_disk_is_one_clear_error_and_leaves_no_partial_clips(
    miserymeter_command: list[str], miserymeter_env: dict[str, str], tmp_path: Path
) -> None:
    """A 128 KB disk (a tmpfs in a private mount namespace) holds one 88 KB clip, not two."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("unshare") is None or not _can_mount_tmpfs(disk):
        pytest.skip("needs `unshare` and user namespaces to mount a tiny tmpfs")
    script = 'mount -t tmpfs -o size=128k tmpfs "$0" && "$@"; code=$?; ls -A "$0"; exit $code'
    slice_args = [
        *miserymeter_command, "slice", str(PHONE_CRYING), "--out", str(disk),
        "--clip_duration_ms", "2000", "--sample_rate", "22050",
    ]  # fmt: skip

    process = subprocess.run(
        [*UNSHARE, "sh", "-c", script, str(disk), *slice_args],
        capture_output=True, text=True, env=miserymeter_env, check=False, timeout=60,
    )  # fmt: skip

    line = assert_one_error_line(process, disk)
    assert "disk full; free some space and run again" in line
    assert process.stdout.strip() == ""  # `ls` found no clip, not even the complete first one


def test_out_is_a_file(run_cli: RunCli, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "clips"
    not_a_folder.write_text("keep me")

    process = run_cli("slice", DOG, "--out", not_a_folder, "--clip_duration_ms", "1000")

    line = assert_one_error_line(process, not_a_folder)

    assert "is a file, not a folder" in line
    assert not_a_folder.read_text() == "keep me"


# A real SIGTERM, sent by the process to itself as `function` (in `module`) returns for the
# Nth time: the moment a clip's file exists but the run does not know of it yet.
STOPPED_SLICE = """
import os, signal, sys
from miserymeter.cli import app

module, function, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
n_returned = 0

def at_return(frame, event, arg):
    global n_returned
    if event == "return":
        n_returned += 1
        if n_returned == nth:
            sys.settrace(None)
            os.kill(os.getpid(), signal.SIGTERM)
    return at_return

def on_call(frame, event, arg):
    code, caller = frame.f_code, frame.f_back.f_code if frame.f_back else None
    wanted = code.co_name == function and code.co_filename.endswith(module)
    return at_return if wanted and caller and caller.co_name != "at_return" else None

sys.settrace(on_call)
app(sys.argv[4:], prog_name="miserymeter")
"""


@pytest.mark.parametrize(
    ("module", "function"),
    [("pathlib.py", "open"), ("output.py", "write_clip")],
    ids=["as-the-file-is-created", "as-the-clip-is-written"],
)
def test_a_slice_stopped_by_sigterm_leaves_no_clip_and_runs_again(
    run_cli: RunCli, tmp_path: Path, module: str, function: str
) -> None:
    """SIGTERM (a shutdown, `kill`) just as the third clip's file was created, or written: the
    run stops with "stopped", removes every clip it made, and the same command then works (a
    clip left behind was "already exists" on every run after)."""
    recording = tmp_path / "night.wav"
    sf.write(recording, np.zeros(16_000 * 5, dtype=np.float32), 16_000)
    out = tmp_path / "clips"
    args = ["slice", str(recording), "--out", str(out), "--clip_duration_ms", "1000"]

    stopped = subprocess.run(
        [sys.executable, "-c", STOPPED_SLICE, module, function, "3", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
    )

    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.splitlines() == [
        "stopped (Ctrl-C or SIGTERM); nothing half-written is kept"
    ]
    assert clips_in(out) == []
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert len(clips_in(out)) == 5
