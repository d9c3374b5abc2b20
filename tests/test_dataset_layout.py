"""One rule of which files of a folder-per-label dataset are clips: training, `evaluate`,
`dataset stats` and the dashboard's calibration all find the same ones, and the runtime's
users of the rule import nothing of training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import cli_env
from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import DatasetError
from miserymeter.evaluation.clips import dataset_clips as evaluation_clips
from miserymeter.prepare.layout import labelled_clips
from miserymeter.prepare.stats import dataset_stats
from miserymeter.train.dataset import scan_dataset
from miserymeter.web.calibration import dataset_clips as calibration_clips
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
