"""`miserymeter label`: the archive cut into labelled clips by the noted episodes."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from conftest import assert_one_error_line
from miserymeter.audio.archive import segment_path
from miserymeter.prepare.split import which_set
from prepare_helpers import (
    CRYING,
    QUIET_ROOM,
    read_float,
    read_int16,
    tile_to,
    write_segments,
)

RunCli = Callable[..., subprocess.CompletedProcess[str]]
RATE_HZ = 16_000
T0 = datetime(2026, 11, 25, 0, 0, 0, tzinfo=UTC)
CLIP_FLAGS = ("--clip_duration_ms", "2000", "--margin_s", "3")
ONE_LSB = 1 / 32768


@dataclass(frozen=True)
class Night:
    """An archive: 60 s (quiet 0-20 s, crying 20-40 s, quiet 40-60 s) in six 10 s segments,
    nothing for 30 s, then 30 s of quiet in three segments. Times are seconds after T0."""

    archive: Path
    first_run: np.ndarray
    second_run: np.ndarray


@pytest.fixture
def night(tmp_path: Path) -> Night:
    quiet = tile_to(QUIET_ROOM, 20 * RATE_HZ)
    crying = tile_to(CRYING, 20 * RATE_HZ)
    first = np.concatenate([quiet, crying, quiet[::-1]])
    second = tile_to(QUIET_ROOM, 30 * RATE_HZ)[::-1].copy()
    archive = tmp_path / "archive"
    ten_s = 10 * RATE_HZ
    write_segments(
        archive, T0, [first[k * ten_s : (k + 1) * ten_s] for k in range(6)], sample_rate_hz=RATE_HZ
    )
    write_segments(
        archive,
        T0 + timedelta(seconds=90),
        [second[k * ten_s : (k + 1) * ten_s] for k in range(3)],
        sample_rate_hz=RATE_HZ,
    )
    return Night(archive, _as_written(first), _as_written(second))


def _as_written(samples: np.ndarray) -> np.ndarray:
    """What a 16-bit segment file holds of `samples`."""
    return np.round(samples * 32768).clip(-32768, 32767).astype(np.int16)


def write_episodes(path: Path, *rows: str) -> Path:
    path.write_text("start,end,label\n" + "".join(f"{row}\n" for row in rows))
    return path


CRYING_ROW = "2026-11-25T00:00:20Z,2026-11-25T00:00:40Z,crying"


def label(
    run_cli: RunCli, night: Night, episodes: Path, out: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "label", "--episodes", episodes, "--archive", night.archive, "--out", out,
        *CLIP_FLAGS, *flags,
    )  # fmt: skip


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_clips_inside_episodes_get_their_label_and_the_rest_the_default(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    data = tmp_path / "data"

    process = label(run_cli, night, episodes, data)

    assert process.returncode == 0, process.stderr
    assert sorted(p.name for p in data.iterdir()) == ["crying", "silence"]
    # 3 s margins: crying 23-37 s (7 clips); quiet 0-17 s (8), 43-60 s (8), 90-120 s (15)
    assert names(data / "crying") == [f"ep-20261125T000020Z_nohash_{k:04d}.wav" for k in range(7)]
    assert names(data / "silence") == sorted(
        [f"stretch-20261125T000000Z_nohash_{k:04d}.wav" for k in range(8)]
        + [f"stretch-20261125T000043Z_nohash_{k:04d}.wav" for k in range(8)]
        + [f"stretch-20261125T000130Z_nohash_{k:04d}.wav" for k in range(15)]
    )
    assert "wrote 38 clips of 2000 ms at 16000 Hz" in process.stdout
    clip_n = 2 * RATE_HZ
    for k in range(7):  # the clip at 29-31 s spans two segments
        samples, rate_hz = read_int16(data / "crying" / f"ep-20261125T000020Z_nohash_{k:04d}.wav")
        start = (23 + 2 * k) * RATE_HZ
        assert rate_hz == RATE_HZ
        np.testing.assert_array_equal(samples, night.first_run[start : start + clip_n])
    samples, _ = read_int16(data / "silence" / "stretch-20261125T000043Z_nohash_0007.wav")
    np.testing.assert_array_equal(samples, night.first_run[57 * RATE_HZ : 59 * RATE_HZ])
    samples, _ = read_int16(data / "silence" / "stretch-20261125T000130Z_nohash_0000.wav")
    np.testing.assert_array_equal(samples, night.second_run[:clip_n])


def test_resampled_clips_match_the_whole_stretch_resampled(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    data = tmp_path / "data"

    process = label(run_cli, night, episodes, data, "--sample_rate", "22050")

    assert process.returncode == 0, process.stderr
    stretch = night.first_run[23 * RATE_HZ : 37 * RATE_HZ].astype(np.float32) / 32768
    reference = soxr.resample(stretch, RATE_HZ, 22050, quality="HQ")
    for k in range(7):
        samples, rate_hz = read_float(data / "crying" / f"ep-20261125T000020Z_nohash_{k:04d}.wav")
        assert rate_hz == 22050 and len(samples) == 44_100
        np.testing.assert_allclose(samples, reference[k * 44_100 : (k + 1) * 44_100], atol=ONE_LSB)


def test_every_group_lands_in_one_split(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = write_episodes(
        tmp_path / "episodes.csv", CRYING_ROW, "2026-11-25T00:01:40Z,2026-11-25T00:01:55Z,crying"
    )
    data = tmp_path / "data"
    label(run_cli, night, episodes, data, "--margin_s", "1")
    splits: dict[str, set[str]] = defaultdict(set)

    for path in data.rglob("*.wav"):
        group = path.name.split("_nohash_")[0]
        splits[group].add(which_set(path, validation_percentage=10, testing_percentage=10))

    assert len(splits) == 6  # 2 episodes; quiet before, between, after the first, and 2 more
    assert all(len(s) == 1 for s in splits.values()), splits


def test_dry_run_prints_counts_and_durations_and_writes_nothing(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    data = tmp_path / "data"

    process = label(run_cli, night, episodes, data, "--dry-run")

    assert process.returncode == 0, process.stderr
    assert not data.exists()
    rows = [line.split() for line in process.stdout.splitlines()]
    assert ["crying", "7", "0.2", "1"] in rows  # label, clips, minutes, groups
    assert ["silence", "31", "1.0", "3"] in rows
    assert "1.5 min recorded in 2 runs (1 gap); 1 episode in" in process.stdout
    assert "dry run: nothing written" in process.stdout


def test_a_label_spelt_nearly_as_a_known_one_is_a_warning(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    """Its clips would train as another sound than crying: a typo must not pass unseen."""
    data = tmp_path / "data"
    (data / "cat").mkdir(parents=True)  # a label folder of an earlier night
    episodes = write_episodes(
        tmp_path / "episodes.csv",
        "2026-11-25T00:00:20Z,2026-11-25T00:00:30Z,cryng",
        "2026-11-25T00:00:30Z,2026-11-25T00:00:40Z,Crying",
        "2026-11-25T00:01:35Z,2026-11-25T00:01:45Z,cats",
    )

    process = label(run_cli, night, episodes, data, "--dry-run")

    assert process.returncode == 0, process.stderr
    warnings = [line for line in process.stdout.splitlines() if line.startswith("warning:")]
    assert warnings[:3] == [
        f"warning: {episodes} line 2: label 'cryng' is not 'crying': its clips go to cryng/, "
        "a label of their own; write crying if that is meant",
        f"warning: {episodes} line 3: label 'Crying' is not 'crying': its clips go to Crying/, "
        "a label of their own; write crying if that is meant",
        f"warning: {episodes} line 4: label 'cats' is not 'cat': its clips go to cats/, a label "
        "of their own; write cat if that is meant",
    ]
    assert (
        "warning"
        not in label(
            run_cli, night, write_episodes(tmp_path / "ok.csv", CRYING_ROW), data, "--dry-run"
        ).stdout
    )


def test_a_recording_made_elsewhere_is_labelled_from_its_start(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    """A phone's stereo WAV at 48 kHz: --recording with --start instead of record's archive."""
    recording = tmp_path / "phone.wav"
    stereo = np.repeat(night.first_run[:, None].astype(np.float32) / 32768, 2, axis=1)
    sf.write(recording, soxr.resample(stereo, RATE_HZ, 48_000), 48_000)
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    data = tmp_path / "data"

    process = run_cli(
        "label", "--episodes", episodes, "--recording", recording,
        "--start", "2026-11-25 01:00", "--timezone", "Europe/Berlin", "--out", data, *CLIP_FLAGS,
    )  # fmt: skip

    assert process.returncode == 0, process.stderr
    assert f"{recording}: 1.0 min recorded in 1 run (0 gaps)" in process.stdout
    assert len(names(data / "crying")) == 7  # as from the archive: the episode is in its first run
    assert len(names(data / "silence")) == 16

    no_start = run_cli(
        "label", "--episodes", episodes, "--recording", recording, "--out", data, *CLIP_FLAGS
    )
    assert "carries no time it began; pass --start" in assert_one_error_line(no_start, recording)
    both = label(run_cli, night, episodes, data, "--recording", str(recording))
    assert "label needs either --archive" in assert_one_error_line(both)


def test_naive_local_times_use_the_time_zone(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    """In November, Berlin is an hour ahead of UTC: 01:00:20 there is 00:00:20 UTC."""
    episodes = write_episodes(
        tmp_path / "episodes.csv", "2026-11-25 01:00:20,2026-11-25 01:00:40,crying"
    )
    data = tmp_path / "data"

    process = label(run_cli, night, episodes, data, "--timezone", "Europe/Berlin")

    assert process.returncode == 0, process.stderr
    assert len(names(data / "crying")) == 7
    wrong_zone = label(run_cli, night, episodes, tmp_path / "other", "--timezone", "UTC")
    line = assert_one_error_line(wrong_zone, episodes, "line 2")
    assert "nothing was recorded from 2026-11-25 01:00:20 to 2026-11-25 01:00:40" in line
    assert "check the date and --timezone" in line


def test_an_episode_partly_in_a_gap_is_used_and_reported(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    episodes = write_episodes(
        tmp_path / "episodes.csv", "2026-11-25T00:01:20Z,2026-11-25T00:01:45Z,crying"
    )
    data = tmp_path / "data"

    process = label(run_cli, night, episodes, data)

    assert process.returncode == 0, process.stderr
    assert f"{episodes} line 2: 10 s of the crying episode" in process.stdout
    assert "were not recorded; the rest is used" in process.stdout
    # recorded 90-105 s; the margin is left out at the noted end only: 90-102 s, 6 clips
    assert names(data / "crying") == [f"ep-20261125T000120Z_nohash_{k:04d}.wav" for k in range(6)]


def test_gain_reports_clipped_samples(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)

    process = label(run_cli, night, episodes, tmp_path / "data", "--gain_db", "30")

    assert process.returncode == 0, process.stderr
    crying = night.first_run[23 * RATE_HZ : 37 * RATE_HZ].astype(np.float32) / 32768
    n_clipped = int(np.count_nonzero(np.abs(crying * np.float32(10**1.5)) > 1))
    assert n_clipped > 0
    assert f"warning: {n_clipped} samples in 7 clips were clipped" in process.stdout


# Bad inputs: one line on stderr, exit code 1.


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["2026-11-25 25:00,2026-11-25 01:10,crying"],
            "line 2, start '2026-11-25 25:00': no such date or time (hour must be in 0..23)",
        ),
        (
            ["2026-11-25,2026-11-25 01:10,crying"],
            "line 2, start '2026-11-25': a date without a time of day",
        ),
        (["2026-11-25 01:00,yesterday,crying"], "line 2, end 'yesterday': not a date and a time"),
        (
            ["2026-11-25T00:00:40Z,2026-11-25T00:00:20Z,crying"],
            "line 2: end 2026-11-25 00:00:20 is not after start",
        ),
        (
            ["2026-11-25 23:50,2026-11-25 00:10,crying"],
            "is not after start 2026-11-25 23:50:00; an episode past midnight ends on the next day",
        ),
        (["2026-11-25T00:00:20Z,2026-11-25T00:00:40Z,"], "line 2: no label"),
        (
            ["2026-11-25T00:00:20Z,2026-11-25T00:00:40Z,../crying"],
            "label '../crying' cannot be a folder name",
        ),
        (
            [CRYING_ROW, "2026-11-25T00:00:10Z,2026-11-25T00:00:25Z,crying"],
            "lines 3 and 2: episodes overlap",
        ),
    ],
)
def test_bad_episode_rows(
    run_cli: RunCli, night: Night, tmp_path: Path, rows: list[str], message: str
) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", *rows)

    process = label(run_cli, night, episodes, tmp_path / "data", "--timezone", "UTC")

    assert message in assert_one_error_line(process, episodes)
    assert not (tmp_path / "data").exists()


def test_episodes_without_the_header(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = tmp_path / "episodes.csv"
    episodes.write_text(CRYING_ROW + "\n")

    line = assert_one_error_line(label(run_cli, night, episodes, tmp_path / "d"), episodes)

    assert "first line must be the header start,end,label" in line


def test_missing_episodes_file(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = tmp_path / "episodes.csv"

    line = assert_one_error_line(label(run_cli, night, episodes, tmp_path / "d"), episodes)

    assert "no such episodes file" in line


def test_unknown_time_zone(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)

    process = label(run_cli, night, episodes, tmp_path / "d", "--timezone", "Mars/Olympus")

    assert "--timezone Mars/Olympus: unknown time zone" in assert_one_error_line(process)


def test_missing_and_empty_archives(run_cli: RunCli, tmp_path: Path) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    missing = Night(tmp_path / "nowhere", np.zeros(0), np.zeros(0))
    empty = Night(tmp_path / "empty", np.zeros(0), np.zeros(0))
    empty.archive.mkdir()

    no_folder = assert_one_error_line(label(run_cli, missing, episodes, tmp_path / "d"))
    no_segments = assert_one_error_line(label(run_cli, empty, episodes, tmp_path / "d"))

    assert f"{missing.archive}: no such archive folder" in no_folder
    assert f"{empty.archive}: holds no archive segments" in no_segments


def test_an_unreadable_segment(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    corrupt = segment_path(night.archive, T0 + timedelta(hours=1))
    corrupt.write_bytes(np.random.default_rng(0).bytes(3_000))
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)

    line = assert_one_error_line(label(run_cli, night, episodes, tmp_path / "d"), corrupt)

    assert "move it out of the archive" in line


def test_overlapping_segments(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    """Two segments claiming the same time (the clock jumped back) cannot both be right."""
    overlapping = write_segments(
        night.archive, T0 + timedelta(seconds=115), [night.first_run[:RATE_HZ * 10] / 32768],
        sample_rate_hz=RATE_HZ,
    )  # fmt: skip
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)

    process = label(run_cli, night, episodes, tmp_path / "d")

    line = assert_one_error_line(process, "20261125T000155.000000Z.flac")
    assert "starts 5.00 s before" in line
    assert overlapping == T0 + timedelta(seconds=125)


def test_existing_clips_are_never_overwritten(
    run_cli: RunCli, night: Night, tmp_path: Path
) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)
    data = tmp_path / "data"
    label(run_cli, night, episodes, data)
    first = data / "crying" / "ep-20261125T000020Z_nohash_0000.wav"
    before = {p: p.read_bytes() for p in data.rglob("*.wav")}

    process = label(run_cli, night, episodes, data, "--gain_db", "6")

    line = assert_one_error_line(process, "already exists (and 37 more)")
    assert "remove those clips or choose another --out" in line
    assert {p: p.read_bytes() for p in data.rglob("*.wav")} == before
    assert first in before


def test_bad_default_label(run_cli: RunCli, night: Night, tmp_path: Path) -> None:
    episodes = write_episodes(tmp_path / "episodes.csv", CRYING_ROW)

    process = label(run_cli, night, episodes, tmp_path / "d", "--default_label", ".hidden")

    assert "--default_label: label '.hidden' cannot be a folder name" in assert_one_error_line(
        process
    )
