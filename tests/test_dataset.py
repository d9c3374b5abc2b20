"""Scanning folder-per-label datasets: labels, the stable hash split, hashing, conversions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from miserymeter.errors import DatasetError
from miserymeter.prepare.split import which_set
from miserymeter.train.dataset import (
    ConversionReport,
    DatasetIndex,
    data_sha256,
    load_clips,
    scan_dataset,
)

PERCENTAGES = {"validation_percentage": 10.0, "testing_percentage": 10.0}


def touch_clips(folder: Path, names: list[str]) -> list[Path]:
    """Tiny distinct WAV files (scanning reads names only; hashing reads bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name in names:
        path = folder / name
        sf.write(path, np.full(16, len(paths) / 100, dtype=np.float32), 16_000)
        paths.append(path)
    return paths


def scan(data_dir: Path, wanted_words: list[str]) -> DatasetIndex:
    return scan_dataset(data_dir, wanted_words=wanted_words, **PERCENTAGES)


def splits_by_path(index: DatasetIndex) -> dict[Path, str]:
    return {e.path: e.split for e in index.examples}


def test_which_set_gives_roughly_the_asked_percentages() -> None:
    splits = Counter(which_set(Path(f"clip{k}.wav"), **PERCENTAGES) for k in range(5_000))

    assert splits["validation"] / 5_000 == pytest.approx(0.10, abs=0.02)
    assert splits["testing"] / 5_000 == pytest.approx(0.10, abs=0.02)
    assert splits["training"] / 5_000 == pytest.approx(0.80, abs=0.03)


def test_adding_files_moves_no_existing_file_between_splits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    touch_clips(data_dir / "crying", [f"cry{k}.wav" for k in range(40)])
    touch_clips(data_dir / "noise", [f"noise{k}.wav" for k in range(40)])
    before = splits_by_path(scan(data_dir, ["crying"]))
    assert set(before.values()) == {"training", "validation", "testing"}

    touch_clips(data_dir / "crying", [f"new-cry{k}.wav" for k in range(60)])
    touch_clips(data_dir / "noise", [f"new-noise{k}.wav" for k in range(60)])
    touch_clips(data_dir / "speech", [f"speech{k}.wav" for k in range(30)])
    after = splits_by_path(scan(data_dir, ["crying"]))

    assert len(after) == len(before) + 150
    assert {path: after[path] for path in before} == before


def test_split_depends_on_the_file_name_and_grows_with_its_percentage() -> None:
    names = [Path(f"clip{k}.wav") for k in range(2_000)]
    at_10 = [which_set(p, **PERCENTAGES) for p in names]
    at_20 = [which_set(p, validation_percentage=20.0, testing_percentage=10.0) for p in names]

    assert at_10 == [which_set(Path("elsewhere") / p.name, **PERCENTAGES) for p in names]
    # Growing validation only takes files from the other splits; it never gives any away.
    assert all(b == "validation" for a, b in zip(at_10, at_20, strict=True) if a == "validation")


def test_nohash_groups_stay_in_one_split(tmp_path: Path) -> None:
    names = [f"family{g}_nohash_{k}.wav" for g in range(60) for k in range(4)]
    touch_clips(tmp_path / "data" / "crying", names)

    index = scan(tmp_path / "data", ["crying"])

    by_group: dict[str, set[str]] = {}
    for example in index.examples:
        by_group.setdefault(example.path.name.split("_nohash_")[0], set()).add(example.split)
    assert len(by_group) == 60
    assert all(len(splits) == 1 for splits in by_group.values())
    assert len(set.union(*by_group.values())) == 3  # the groups themselves do spread out
    assert which_set(Path("x_nohash_1.wav"), **PERCENTAGES) == which_set(
        Path("x_nohash_2.wav"), **PERCENTAGES
    )
    assert which_set(Path("x_nohash_1.wav"), **PERCENTAGES) == which_set(Path("x"), **PERCENTAGES)


def test_labels_order_and_unknown_mapping(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    touch_clips(data_dir / "laughing", ["a.wav"])
    touch_clips(data_dir / "crying", ["b.wav", "c.flac"])
    touch_clips(data_dir / "dog", ["d.wav"])
    touch_clips(data_dir / "music" / "nested", ["e.wav"])
    (data_dir / "crying" / "notes.txt").write_text("not audio")
    touch_clips(data_dir / "_background_noise_", ["fan.wav", "hum.wav"])

    index = scan(data_dir, ["laughing", "crying"])

    assert index.labels == ("_silence_", "_unknown_", "laughing", "crying")
    label_of = {e.path.name: index.labels[e.label_index] for e in index.examples}
    assert label_of == {
        "a.wav": "laughing",
        "b.wav": "crying",
        "c.flac": "crying",
        "d.wav": "_unknown_",
        "e.wav": "_unknown_",
    }
    assert [p.name for p in index.background_paths] == ["fan.wav", "hum.wav"]
    assert "_background_noise_" not in index.labels
    counts = index.counts()
    assert sum(sum(c.values()) for c in counts.values()) == 5


def test_missing_data_dir_is_a_dataset_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-data"

    with pytest.raises(DatasetError, match="no such data folder") as error:
        scan(missing, ["crying"])
    assert str(missing) in str(error.value)


def test_wanted_word_without_folder_is_a_dataset_error(tmp_path: Path) -> None:
    touch_clips(tmp_path / "noise", ["a.wav"])

    with pytest.raises(DatasetError, match="'crying' has no folder") as error:
        scan(tmp_path, ["crying"])
    assert str(tmp_path / "crying") in str(error.value)


def test_empty_wanted_folder_is_a_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "crying").mkdir()
    (tmp_path / "crying" / "readme.txt").write_text("clips go here")

    with pytest.raises(DatasetError, match="no audio files") as error:
        scan(tmp_path, ["crying"])
    assert str(tmp_path / "crying") in str(error.value)


def test_no_wanted_words_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--wanted_words"):
        scan(tmp_path, [])


def test_data_sha256_follows_file_bytes_and_names(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    paths = touch_clips(data_dir / "crying", ["a.wav", "b.wav"])
    touch_clips(data_dir / "_background_noise_", ["fan.wav"])
    original = data_sha256(scan(data_dir, ["crying"]))

    assert data_sha256(scan(data_dir, ["crying"])) == original
    assert len(original) == 64

    content = bytearray(paths[1].read_bytes())
    content[-1] ^= 1  # one bit of one sample
    paths[1].write_bytes(bytes(content))
    changed = data_sha256(scan(data_dir, ["crying"]))
    assert changed != original

    paths[1].rename(data_dir / "crying" / "c.wav")
    assert data_sha256(scan(data_dir, ["crying"])) not in (original, changed)

    background = data_dir / "_background_noise_" / "fan.wav"
    renamed = data_sha256(scan(data_dir, ["crying"]))
    background.write_bytes(background.read_bytes() + b"\0\0")
    assert data_sha256(scan(data_dir, ["crying"])) != renamed


def test_load_clips_reports_every_conversion(
    tmp_path: Path, make_tone: Callable[..., Path]
) -> None:
    paths = [
        make_tone(tmp_path / "stereo44k.wav", duration_s=1.5, sample_rate_hz=44_100, n_channels=2),
        make_tone(tmp_path / "phone8k.wav", duration_s=0.5, sample_rate_hz=8_000),
        make_tone(tmp_path / "long.wav", duration_s=2.0),
        make_tone(tmp_path / "exact.wav", duration_s=1.0),
        make_tone(tmp_path / "short-stereo.wav", duration_s=0.25, n_channels=2),
    ]
    report = ConversionReport()

    clips = load_clips(paths, sample_rate_hz=16_000, n_window=16_000, report=report)

    assert [len(c) for c in clips][1:] == [8_000, 32_000, 16_000, 4_000]
    assert abs(len(clips[0]) - 24_000) <= 1
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in clips)
    assert report.n_files == 5
    assert report.resampled_from_hz == Counter({44_100: 1, 8_000: 1})
    assert report.n_mixed_down == 2
    assert report.n_padded == 2
    assert report.n_cropped == 2
    text = "\n".join(report.lines(sample_rate_hz=16_000, clip_duration_ms=1_000))
    assert "resampled 1 files from 8000 Hz to 16000 Hz" in text
    assert "resampled 1 files from 44100 Hz to 16000 Hz" in text
    assert "mixed 2 multi-channel files down to mono" in text
    assert "zero-padded 2 files shorter than 1000 ms" in text
    assert "cropped 2 files longer than 1000 ms" in text


def test_conversion_report_is_silent_when_nothing_changed(
    tmp_path: Path, make_tone: Callable[..., Path]
) -> None:
    report = ConversionReport()

    load_clips(
        [make_tone(tmp_path / "exact.wav", duration_s=1.0)],
        sample_rate_hz=16_000,
        n_window=16_000,
        report=report,
    )

    assert report.n_files == 1
    assert report.lines(sample_rate_hz=16_000, clip_duration_ms=1_000) == []
