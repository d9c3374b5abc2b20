"""A folder-per-label dataset's layout: the one rule of which of its files are clips.

    data/
      crying/episode12_nohash_3.wav   a label folder: its name is the clips' label
      noise/street/fan_nohash_0.flac  clips at any depth belong to their label folder
      _background_noise_/hum.wav      long recordings training mixes in: not clips
      .cache/...                      hidden folders are skipped,
      crying/._episode12_nohash_3.wav and hidden files (macOS copies leave these beside clips)

A clip is an audio file (`AUDIO_SUFFIXES`, any case); audio soundfile cannot read (`.m4a`,
`.aac` ...: `UNREADABLE_AUDIO_SUFFIXES`) is left out, and `left_out_warning` says so. This is
the rule training scans by (`train.dataset.scan_dataset`); `evaluate` on labelled clips,
`dataset stats` and the dashboard's calibration use it too, so all of them see the clips
training sees. Runtime-only.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Collection, Sequence
from pathlib import Path

from miserymeter.constants import AUDIO_SUFFIXES, BACKGROUND_NOISE_DIR, UNREADABLE_AUDIO_SUFFIXES
from miserymeter.errors import AudioError

N_NAMED = 2  # left-out files a warning names


def nearly_one_of(label: str, known: Collection[str]) -> str | None:
    """The one of `known` that `label` is not but nearly is ("cryng", "Crying" for crying), if
    any: a typo that would make its clips another sound."""
    if label in known:
        return None
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(label.lower(), lowered, n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def files_and_folders(inputs: Sequence[Path]) -> list[Path]:
    """The audio files named: files as given, folders by this layout's rule (an AudioError for
    a folder that holds none)."""
    paths: list[Path] = []
    for path in inputs:
        if not path.is_dir():
            paths.append(path)
            continue
        found = audio_files(path)
        if not found:
            raise AudioError(
                describe_left_out(unreadable_audio_files(path), root=path)
                or f"{path}: folder holds no audio files ({', '.join(AUDIO_SUFFIXES)})"
            )
        paths.extend(found)
    return paths


def label_folders(data_dir: Path) -> list[Path]:
    """The folders of `data_dir` but hidden ones, by name (`_background_noise_` included)."""
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def audio_files(folder: Path) -> list[Path]:
    """The audio files in `folder` and its sub-folders, by path; hidden ones left out."""
    return _files(folder, AUDIO_SUFFIXES)


def left_out_audio(data_dir: Path, *, label: str | None = None) -> list[Path]:
    """The audio files in `data_dir`'s label folders (or only `label`'s) that soundfile cannot
    read, by path."""
    folders = [f for f in label_folders(data_dir) if label in (None, f.name)]
    return [p for f in folders for p in unreadable_audio_files(f)]


def unreadable_audio_files(folder: Path) -> list[Path]:
    """The audio files in `folder` and its sub-folders that soundfile cannot read, by path."""
    return _files(folder, UNREADABLE_AUDIO_SUFFIXES)


def left_out_warning(data_dir: Path, *, label: str | None = None) -> str | None:
    """One line on the audio files of `data_dir` (or of its `label` folder) left out for their
    format; None if none."""
    return describe_left_out(left_out_audio(data_dir, label=label), root=data_dir)


def describe_left_out(paths: list[Path], *, root: Path) -> str | None:
    """One line on `paths` (under `root`), left out for their format, and how to convert them;
    None if there are none."""
    if not paths:
        return None
    suffixes = ", ".join(sorted({p.suffix.lower() for p in paths}))
    named = ", ".join(str(p.relative_to(root)) for p in paths[:N_NAMED])
    more = f" and {len(paths) - N_NAMED} more" if len(paths) > N_NAMED else ""
    example = paths[0].name
    converted = shlex.quote(f"{Path(example).stem}.flac")
    files, them = ("file", "it") if len(paths) == 1 else ("files", "them")
    return (
        f"{root}: {len(paths)} audio {files} left out, {suffixes} cannot be read "
        f"({named}{more}); convert {them}, e.g. `ffmpeg -i {shlex.quote(example)} {converted}`"
    )


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
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
