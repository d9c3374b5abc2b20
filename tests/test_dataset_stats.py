"""`miserymeter dataset stats`: what a dataset holds, and warnings for what would hurt training."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from conftest import assert_one_error_line
from miserymeter.prepare.split import which_set
from prepare_helpers import (
    CRYING,
    DOG,
    PHONE_CRYING,
    QUIET_ROOM,
    SPEECH,
    read_float,
)

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def stats_json(run_cli: RunCli, data: Path) -> dict[str, Any]:
    process = run_cli("dataset", "stats", data, "--json")
    assert process.returncode == 0, process.stderr
    result: dict[str, Any] = json.loads(process.stdout)
    return result


def by_label(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["label"]: s for s in result["labels"]}


@pytest.fixture
def sliced(run_cli: RunCli, tmp_path: Path) -> Path:
    """crying/ from the full-band cry, noise/ from the dog and the speech: 1 s clips, 16 kHz."""
    data = tmp_path / "data"
    for label, sources in (("crying", [CRYING]), ("noise", [DOG, SPEECH])):
        process = run_cli("slice", *sources, "--out", data / label, "--clip_duration_ms", "1000")
        assert process.returncode == 0, process.stderr
    (data / "_background_noise_").mkdir()
    shutil.copy(QUIET_ROOM, data / "_background_noise_" / QUIET_ROOM.name)
    return data


def test_counts_rates_durations_and_split_of_each_label(run_cli: RunCli, sliced: Path) -> None:
    labels = by_label(stats_json(run_cli, sliced))

    assert sorted(labels) == ["_background_noise_", "crying", "noise"]
    crying, noise = labels["crying"], labels["noise"]
    assert (crying["n_clips"], crying["total_s"], crying["n_groups"]) == (4, 4.0, 1)
    assert (noise["n_clips"], noise["total_s"], noise["n_groups"]) == (8, 8.0, 2)
    assert crying["sample_rates_hz"] == {"16000": 4} and crying["channels"] == {"1": 4}
    assert crying["duration_s"] == {"min": 1.0, "p10": 1.0, "median": 1.0, "p90": 1.0, "max": 1.0}
    for label in ("crying", "noise"):
        paths = sorted((sliced / label).iterdir())
        splits = Counter(
            which_set(p, validation_percentage=10, testing_percentage=10) for p in paths
        )
        assert labels[label]["splits"] == {
            s: splits[s] for s in ("training", "validation", "testing")
        }


def test_loudness_is_the_rms_level_of_each_clip(run_cli: RunCli, sliced: Path) -> None:
    levels = []
    for path in sorted((sliced / "noise").iterdir()):
        samples, _ = read_float(path)
        levels.append(10 * np.log10(np.mean(samples.astype(np.float64) ** 2)))

    noise = by_label(stats_json(run_cli, sliced))["noise"]

    expected = np.percentile(levels, [0, 10, 50, 90, 100])
    assert list(noise["level_dbfs"].values()) == pytest.approx(expected, abs=0.01)
    assert noise["n_quiet"] == 0 and noise["n_clipped"] == 0
    background = by_label(stats_json(run_cli, sliced))["_background_noise_"]
    assert background["level_dbfs"]["median"] == pytest.approx(-55, abs=0.5)


def test_a_label_from_one_recording_is_missing_from_two_splits(
    run_cli: RunCli, sliced: Path
) -> None:
    """All four crying clips share one `_nohash_` group, so two splits get none of them."""
    result = stats_json(run_cli, sliced)
    crying = by_label(result)["crying"]
    (split_with_crying,) = [s for s, n in crying["splits"].items() if n > 0]

    missing = [w for w in result["warnings"] if w.startswith("crying: no clips in the")]

    assert len(missing) == 2
    assert all("4 clips come from 1 _nohash_ group)" in w for w in missing)
    assert not any(split_with_crying in w for w in missing)
    assert not any("_background_noise_" in w for w in result["warnings"])


def test_human_output_has_a_row_per_label(run_cli: RunCli, sliced: Path) -> None:
    process = run_cli("dataset", "stats", sliced)

    assert process.returncode == 0, process.stderr
    rows: dict[str, list[str]] = {}
    for line in process.stdout.splitlines():  # the first table: label, clips, minutes, groups
        if line.strip():
            rows.setdefault(line.split()[0], line.split())
    assert rows["crying"][:4] == ["crying", "4", "0.1", "1"]  # clips, minutes, groups
    assert rows["noise"][:4] == ["noise", "8", "0.1", "2"]
    assert "warning: crying: no clips in the" in process.stdout


def test_warnings_for_what_would_hurt_training(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "crying").mkdir(parents=True)
    (data / "silence").mkdir()
    phone = Path(shutil.copy(PHONE_CRYING, data / "crying" / "phone_nohash_0.flac"))  # 8 kHz
    dog, _ = read_float(DOG)
    sf.write(data / "crying" / "loud_nohash_0.wav", np.clip(dog * 10, -1, 1), 16_000)
    room, _ = read_float(QUIET_ROOM)
    for k in range(12):  # 48 s of silence against 10.9 s of crying
        sf.write(data / "silence" / f"room{k}_nohash_0.wav", np.roll(room, 1000 * k), 16_000)
    sf.write(data / "silence" / "muted_nohash_0.wav", room * 0.001, 16_000)  # -115 dBFS
    shutil.copy(phone, data / "silence" / "copy_nohash_0.flac")
    shutil.copy(phone, data / "crying" / "again_nohash_0.flac")

    result = stats_json(run_cli, data)
    warnings = "\n".join(result["warnings"])

    assert (
        "mixed sample rates (crying: 2 at 8000 Hz, 1 at 16000 Hz; silence: 13 at 16000 Hz, 1 at"
        in warnings
    )
    loud, muted = data / "crying" / "loud_nohash_0.wav", data / "silence" / "muted_nohash_0.wav"
    assert (
        f"crying: 1 of 3 clips are clipped (3+ samples in a row at full scale), e.g. {loud};"
        in warnings
    )
    assert f"silence: 1 of 14 clips are very quiet (below -60 dBFS), e.g. {muted};" in warnings
    assert (
        "1 recording is in more than one label; keep each in the right one:\n"
        "  crying/again_nohash_0.flac\n    = crying/phone_nohash_0.flac\n"
        "    = silence/copy_nohash_0.flac"
    ) in warnings
    assert "copies of others in their label" not in warnings  # the copies are of that recording
    assert "unbalanced" not in warnings  # 58.9 s against 17.7 s is not yet 5 times as much
    labels = by_label(result)
    assert labels["crying"]["n_clipped"] == 1 and labels["silence"]["n_quiet"] == 1
    assert labels["crying"]["sample_rates_hz"] == {"8000": 2, "16000": 1}


def test_unbalanced_labels(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_cli("slice", SPEECH, "--out", data / "crying", "--clip_duration_ms", "1000")
    run_cli("slice", DOG, QUIET_ROOM, "--out", data / "silence", "--clip_duration_ms", "1000")
    shutil.copy(CRYING, data / "silence" / "baby_nohash_0.flac")
    for k in range(6):
        samples, _ = read_float(QUIET_ROOM)
        sf.write(data / "silence" / f"room{k}_nohash_0.wav", np.roll(samples, 999 * k), 16_000)

    result = stats_json(run_cli, data)

    # crying 4 s; silence 4 + 4 + 4 + 6 * 4 = 36 s
    assert "unbalanced labels: silence has 0.6 min, crying 0.1 min (9x)" in result["warnings"][-1]


def test_every_group_of_identical_clips_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    """Seven pairs in crying/, two recordings also in noise/, and one long-named pair: the first
    five of a warning's groups a line each (one a file where a line would pass 80 columns), how
    many more, and every one in --json."""
    data = tmp_path / "data"
    for label in ("crying", "noise"):
        (data / label).mkdir(parents=True)
    rng = np.random.default_rng(0)
    pairs: list[list[str]] = []
    across: list[list[str]] = []
    for k in range(7):
        sound = (0.1 * rng.standard_normal(16_000)).astype(np.float32)
        pair = [f"crying/again{k}_nohash_0.wav", f"crying/night{k}_nohash_0.wav"]
        if k < 2:
            pair.append(f"noise/night{k}_nohash_0.wav")
        for name in pair:
            sf.write(data / name, sound, 16_000)
        (across if k < 2 else pairs).append(pair)
    long_names = [
        f"crying/2026-11-2{d}T21-00-00-nursery-phone_nohash_00012000ms.wav" for d in (5, 6)
    ]
    for name in long_names:
        sf.write(data / name, np.full(16_000, 0.2, dtype=np.float32), 16_000)
    (data / "noise" / "fan_nohash_0.wav").write_bytes(
        (data / "noise" / "night1_nohash_0.wav").read_bytes()
    )
    across[1].append("noise/fan_nohash_0.wav")

    process = run_cli("dataset", "stats", data)
    result = stats_json(run_cli, data)

    assert process.returncode == 0, process.stderr
    out = process.stdout
    assert (
        "warning: 2 recordings are in more than one label; keep each in the right one:\n"
        "  crying/again0_nohash_0.wav\n"
        "    = crying/night0_nohash_0.wav\n"
        "    = noise/night0_nohash_0.wav\n"
        "  crying/again1_nohash_0.wav\n"
        "    = crying/night1_nohash_0.wav\n"
        "    = noise/fan_nohash_0.wav and 1 more\n"
    ) in out
    listed = "".join(f"\n  {a} = {b}" for a, b in pairs[:4])
    assert (
        "warning: 6 clips are copies of others in their label: a copy weighs twice in training "
        "and can sit on both sides of the split; keep one of each:\n"
        f"  {long_names[0]}\n    = {long_names[1]}{listed}\n"
        "  and 1 more group (`--json` lists all)\n"
    ) in out
    listing = out[out.index("warning: 2 recordings") :].splitlines()
    assert all(len(line) <= 80 for line in listing if not line.startswith("warning: "))
    assert result["identical"] == [
        [str(data / name) for name in sorted(group)]
        for group in sorted([*across, *pairs, long_names], key=lambda g: sorted(g)[0])
    ]


def test_stereo_clips_show_their_channels(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "crying").mkdir(parents=True)
    samples, _ = read_float(CRYING)
    sf.write(data / "crying" / "stereo.wav", np.stack([samples, samples], axis=1), 16_000)

    crying = by_label(stats_json(run_cli, data))["crying"]

    assert crying["channels"] == {"2": 1}


# Bad inputs: one line on stderr, exit code 1.


def test_unreadable_clips_are_listed_after_the_stats(run_cli: RunCli, sliced: Path) -> None:
    corrupt = sliced / "noise" / "broken_nohash_0.wav"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2_000))
    empty = sliced / "crying" / "empty_nohash_0.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 16_000)

    process = run_cli("dataset", "stats", sliced)

    line = assert_one_error_line(process, empty, "and 1 more unreadable files")
    assert "holds no audio samples" in line
    assert "crying" in process.stdout  # the readable clips were still described


def test_a_missing_dataset_folder(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    assert "no such dataset folder" in assert_one_error_line(
        run_cli("dataset", "stats", missing), missing
    )


def test_a_dataset_without_audio(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "data" / "crying").mkdir(parents=True)
    (tmp_path / "data" / "crying" / "notes.txt").write_text("nothing yet")

    line = assert_one_error_line(run_cli("dataset", "stats", tmp_path / "data"))

    assert "no audio files in label folders" in line


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--validation_percentage", "-5"), "--validation_percentage=-5.0: must be 0 or more"),
        (("--testing_percentage", "nan"), "--testing_percentage=nan: must be 0 or more"),
        (
            ("--validation_percentage", "60", "--testing_percentage", "60"),
            "--validation_percentage plus --testing_percentage must stay below 100",
        ),
    ],
)
def test_split_percentages_train_refuses_are_refused_here_too(
    run_cli: RunCli, sliced: Path, flags: tuple[str, ...], message: str
) -> None:
    """stats showed a split for percentages training refuses."""
    line = assert_one_error_line(run_cli("dataset", "stats", sliced, *flags))
    assert line == f"error: {message}"
