"""A folder-per-label dataset's layout: the one rule of which of its files are clips.

    data/
      crying/episode12_nohash_3.wav   a label folder: its name is the clips' label
      noise/street/fan_nohash_0.flac  clips at any depth belong to their label folder
      _background_noise_/hum.wav      long recordings training mixes in: not clips
      .cache/...                      hidden folders are skipped,
      crying/._episode12_nohash_3.wav and hidden files (macOS copies leave these beside clips)

A clip is an audio file (`AUDIO_SUFFIXES`, any case). This is the rule training scans by
(`train.dataset.scan_dataset`); `evaluate` on labelled clips, `dataset stats` and the
dashboard's calibration use it too, so all of them see the clips training sees. Runtime-only.
"""

from __future__ import annotations

from pathlib import Path

from miserymeter.constants import AUDIO_SUFFIXES, BACKGROUND_NOISE_DIR


def label_folders(data_dir: Path) -> list[Path]:
    """The folders of `data_dir` but hidden ones, by name (`_background_noise_` included)."""
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def audio_files(folder: Path) -> list[Path]:
    """The audio files in `folder` and its sub-folders, by path; hidden ones left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in AUDIO_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def labelled_clips(data_dir: Path) -> list[tuple[Path, str]]:
    """(clip, label) for every clip of `data_dir`: the audio files of its label folders,
    `_background_noise_` left out; by label, then path."""
    return [
        (path, folder.name)
        for folder in label_folders(data_dir)
        if folder.name != BACKGROUND_NOISE_DIR
        for path in audio_files(folder)
    ]
