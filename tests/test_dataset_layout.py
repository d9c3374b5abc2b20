"""One rule of which files of a folder-per-label dataset are clips: training, `evaluate`,
`dataset stats` and the dashboard's calibration all find the same ones, and the runtime's
users of the rule import nothing of training."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import CliRunner, cli_env
from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import DatasetError
from miserymeter.evaluation.clips import dataset_clips as evaluation_clips
from miserymeter.prepare.layout import labelled_clips, left_out_warning
from miserymeter.prepare.stats import dataset_stats
from miserymeter.train.dataset import scan_dataset
from miserymeter.web.calibration import dataset_clips as calibration_clips
from prepare_helpers import M4A_HEADER
from test_runtime_without_torch import without_training_modules

RATE_HZ = 16_000


def write_clip(path: Path, level: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(RATE_HZ // 10, level, dtype=np.float32), RATE_HZ)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A dataset with what trips a naive scan: hidden folders, a macOS `._` file, background
    noise, a nested folder, an upper-case suffix, a file that is not audio, a file outside any
    label folder."""
    data = tmp_path / "data"
    write_clip(data / "crying" / "cry_nohash_0.wav")
    write_clip(data / "crying" / "review-nursery-20261125T010710Z_nohash_00000000ms.flac")
    write_clip(data / "noise" / "street" / "fan_nohash_0.WAV")
    write_clip(data / "noise" / "dog_nohash_0.ogg")
    (data / "noise" / "notes.txt").write_text("not audio")
    write_clip(data / BACKGROUND_NOISE_DIR / "hum.wav")
    write_clip(data / ".cache" / "crying.wav")
    (data / "crying" / "._cry_nohash_0.wav").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    write_clip(data / "noise" / ".trash" / "door_nohash_0.wav")
    write_clip(data / "loose.wav")
    return data


EXPECTED = [
    ("crying/cry_nohash_0.wav", "crying"),
    ("crying/review-nursery-20261125T010710Z_nohash_00000000ms.flac", "crying"),
    ("noise/dog_nohash_0.ogg", "noise"),
    ("noise/street/fan_nohash_0.WAV", "noise"),
]


def relative(clips: list[tuple[Path, str]], data_dir: Path) -> list[tuple[str, str]]:
    return [(path.relative_to(data_dir).as_posix(), label) for path, label in clips]


def test_the_rule_skips_hidden_folders_background_noise_and_what_is_not_audio(
    data_dir: Path,
) -> None:
    assert relative(labelled_clips(data_dir), data_dir) == EXPECTED


def test_training_evaluation_stats_and_calibration_find_the_same_clips(data_dir: Path) -> None:
    clips = labelled_clips(data_dir)
    index = scan_dataset(
        data_dir, wanted_words=["crying"], validation_percentage=10.0, testing_percentage=10.0
    )
    assert sorted(e.path for e in index.examples) == sorted(path for path, _ in clips)
    assert index.background_paths == (data_dir / BACKGROUND_NOISE_DIR / "hum.wav",)
    assert evaluation_clips(data_dir) == clips
    assert calibration_clips(data_dir, reviewed_only=False) == (clips, len(clips))
    reviewed = [(path, label) for path, label in clips if path.name.startswith("review-")]
    assert calibration_clips(data_dir, reviewed_only=True) == (reviewed, 1)
    stats = dataset_stats(data_dir)
    n_clips = {label.label: label.n_clips for label in stats.labels}
    assert n_clips == {"crying": 2, "noise": 2, BACKGROUND_NOISE_DIR: 1}
    assert stats.unreadable == ()


def test_each_keeps_its_own_answer_to_a_missing_or_empty_dataset(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert calibration_clips(missing, reviewed_only=False) == ([], 0)
    with pytest.raises(DatasetError, match="no such data folder"):
        evaluation_clips(missing)
    write_clip(tmp_path / "hidden" / ".cache" / "crying.wav")
    with pytest.raises(DatasetError, match="no audio files"):
        evaluation_clips(tmp_path / "hidden")


def test_the_dashboard_and_evaluation_import_nothing_of_training() -> None:
    program = without_training_modules(
        "import miserymeter.web, miserymeter.web.calibration, miserymeter.evaluation.clips, "
        "miserymeter.evaluation.night, miserymeter.prepare.layout; "
        "print(sorted(m for m in sys.modules if m.startswith('miserymeter.train')))"
    )
    process = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "[]"


def test_aiff_opus_and_caf_recordings_are_clips_and_are_read(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tone = 0.1 * np.sin(np.arange(RATE_HZ) * 2 * np.pi * 440 / RATE_HZ).astype(np.float32)
    (data / "crying").mkdir(parents=True)
    sf.write(data / "crying" / "a.aiff", tone, RATE_HZ)
    sf.write(data / "crying" / "b.opus", tone, 48_000, format="OGG", subtype="OPUS")
    sf.write(data / "crying" / "c.caf", tone, RATE_HZ)
    clips = labelled_clips(data)
    assert relative(clips, data) == [
        (f"crying/{n}", "crying") for n in ("a.aiff", "b.opus", "c.caf")
    ]
    stats = dataset_stats(data)
    assert stats.unreadable == ()
    assert stats.labels[0].n_clips == 3


def test_audio_soundfile_cannot_read_is_left_out_and_named_with_the_fix(
    data_dir: Path, run_cli: CliRunner
) -> None:
    for name in ("memo 1.m4a", "memo 2.M4A", "memo 3.aac"):
        (data_dir / "crying" / name).write_bytes(M4A_HEADER)
    assert relative(labelled_clips(data_dir), data_dir) == EXPECTED
    warning = left_out_warning(data_dir)
    assert warning == (
        f"{data_dir}: 3 audio files left out, .aac, .m4a cannot be read (crying/memo 1.m4a, "
        "crying/memo 2.M4A and 1 more); convert them, e.g. `ffmpeg -i 'memo 1.m4a' 'memo 1.flac'`"
    )
    assert [u.path.name for u in dataset_stats(data_dir).unreadable] == [
        "memo 1.m4a",
        "memo 2.M4A",
        "memo 3.aac",
    ]

    process = run_cli("evaluate", "--data_dir", data_dir, "--json")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["n_clips"] == len(EXPECTED)
    assert process.stderr.strip() == f"warning: {warning}"


def test_a_label_of_only_unreadable_audio_is_one_error_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_clip(data / "noise" / "fan_nohash_0.wav")
    (data / "crying").mkdir()
    (data / "crying" / "memo.m4a").write_bytes(M4A_HEADER)
    expected = (
        f"{data}: 1 audio file left out, .m4a cannot be read (crying/memo.m4a); "
        "convert it, e.g. `ffmpeg -i memo.m4a memo.flac`"
    )
    with pytest.raises(DatasetError) as raised:
        scan_dataset(data, wanted_words=["crying"], validation_percentage=10, testing_percentage=10)
    assert str(raised.value) == expected
    (data / "noise" / "fan_nohash_0.wav").unlink()
    with pytest.raises(DatasetError) as raised:
        evaluation_clips(data)
    assert str(raised.value) == expected
