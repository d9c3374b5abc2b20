"""A family's review of an episode, written into the training dataset (folder per label).

The crying part of an episode's clip (without its pre-roll) is cut into back-to-back clips of
the model's window, at its rate, as new FLAC files `<data_dir>/<label>/<stem>_nohash_<ms>.flac`:
one stem per episode, so its clips stay in one training split. Nothing is overwritten: an
episode reviewed once stays so until the review is undone, which removes exactly the files of
that name (nothing else, nothing outside `data_dir`). Reviewed clips newer than the model's
`trained_at` are waiting for the next `miserymeter train`.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter.audio.episode_clips import DEFAULT_PRE_ROLL_S, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from miserymeter.audio.io import read_audio
from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import StorageError
from miserymeter.prepare.layout import label_folders
from miserymeter.records import Episode
from miserymeter.rooms import room_slug
from miserymeter.web.params import RequestError

REVIEW_PREFIX = "review-"
REVIEW_SUFFIX = ".flac"
NOHASH = "_nohash_"
# What parents most often hear taken for crying (the README leads with them): offered first.
USUAL_CONFUSIONS = ("laughter", "babble", "cat", "dog")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
# A review's clip: `<stem>_nohash_<8 digits>ms.flac`, the stem `review-<room>-<start>`.
_REVIEW_CLIP = re.compile(
    rf"({re.escape(REVIEW_PREFIX)}[A-Za-z0-9-]+-\d{{8}}T\d{{6}}Z){NOHASH}\d{{8}}ms{re.escape(REVIEW_SUFFIX)}"
)


@dataclass(frozen=True)
class ReviewTarget:
    """Where reviews go and what the model expects of a clip."""

    data_dir: Path
    sample_rate_hz: int
    clip_duration_ms: int


def review_stem(episode: Episode) -> str:
    """`review-blue-room-20261125T010710Z`: one name stem per episode, its room spelt as its
    files are (`room_slug`), so rooms named apart never share one ("Гномики", "Зайчики")."""
    room = room_slug(episode.room).replace("_", "-")
    return f"{REVIEW_PREFIX}{room}-{episode.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def earlier_review_stem(episode: Episode) -> str:
    """The stem reviews were named by before 2026-12-07 (non-ASCII letters as '-'), still
    recognised: an episode reviewed then shows its label and can be undone."""
    room = re.sub(r"[^A-Za-z0-9-]", "-", episode.room)
    return f"{REVIEW_PREFIX}{room}-{episode.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def review_label(reviewed: Mapping[str, str], episode: Episode) -> str | None:
    """The label of `reviewed` (`reviewed_labels`) the episode was reviewed as, if any."""
    return reviewed.get(review_stem(episode)) or reviewed.get(earlier_review_stem(episode))


def reviewed_as(data_dir: Path, episode: Episode) -> str | None:
    """The label an episode was reviewed as, None if it was not."""
    found = review_files(data_dir, episode)
    return found[0].parent.name if found else None


def review_files(data_dir: Path, episode: Episode) -> list[Path]:
    """The clips the episode's review wrote (under its stem, or else its earlier one), in the
    order of their labels' folders."""
    root = data_dir.resolve()
    for stem in dict.fromkeys([review_stem(episode), earlier_review_stem(episode)]):
        found = [
            path
            for path in sorted(data_dir.glob(f"*/{stem}{NOHASH}*"))
            if stem_of(path) == stem and _written_by_a_review(root, path)
        ]
        if found:
            return found
    return []


def reviewed_labels(data_dir: Path) -> dict[str, str]:
    """Every reviewed episode's name stem and the label it was reviewed as, in one look."""
    root = data_dir.resolve()
    found: dict[str, str] = {}
    for path in sorted(data_dir.glob(f"*/{REVIEW_PREFIX}*{NOHASH}*"), reverse=True):
        stem = stem_of(path)
        if stem is not None and _written_by_a_review(root, path):
            found[stem] = path.parent.name  # the first label's folder wins, as in `reviewed_as`
    return found


def stem_of(path: Path) -> str | None:
    """The episode's stem if `path` is named as a review names its clips, else None."""
    named = _REVIEW_CLIP.fullmatch(path.name)
    return named.group(1) if named else None


def _written_by_a_review(root: Path, path: Path) -> bool:
    """A regular file in a label's folder right inside `root` (no symlink, nothing leading out)."""
    return (
        _LABEL.match(path.parent.name) is not None
        and not path.is_symlink()
        and path.is_file()
        and path.resolve().parent == root / path.parent.name
    )


def undo_review(episode: Episode, data_dir: Path) -> tuple[str, list[Path]]:
    """Remove the clips of the episode's review so it can be reviewed again; returns the label
    it had and the removed files. An episode not reviewed is a 404."""
    found = review_files(data_dir, episode)
    if not found:
        raise RequestError(404, "this episode has not been reviewed: there is nothing to undo")
    label = found[0].parent.name
    try:
        for path in found:
            path.unlink(missing_ok=True)
    except OSError as e:
        folder = data_dir / label
        raise StorageError(
            f"{folder}: cannot remove the reviewed clips ({e}); check --data_dir"
        ) from e
    return label, found


def check_label(label: str) -> str:
    """A label that can be a folder name; a bad one is a 400."""
    if not _LABEL.match(label) or label == BACKGROUND_NOISE_DIR:
        raise RequestError(
            400, f"label {label[:40]!r} cannot be a dataset folder; use letters, digits, _ and -"
        )
    return label


def label_folder_name(data_dir: Path, label: str) -> str:
    """The dataset's folder of `label` whatever its case ("Laughter" is `laughter/`), or a
    new one in lower case: one label never splits into two folders (one on a laptop's disk that
    ignores case), and "Crying" is the crying label."""
    folders = label_folders(data_dir) if data_dir.is_dir() else []
    return next((f.name for f in folders if f.name.lower() == label.lower()), label.lower())


def write_review(episode: Episode, clip: Path, label: str, target: ReviewTarget) -> list[Path]:
    """Write the episode's crying part into `<data_dir>/<label>/`; returns the new files."""
    folder = target.data_dir / label_folder_name(target.data_dir, check_label(label))
    previous = reviewed_as(target.data_dir, episode)
    if previous is not None:
        raise RequestError(
            409,
            f"this episode was already reviewed as '{previous}'; undo that review "
            "(on the episode's page) to review it again",
        )
    audio = read_audio(clip, sample_rate_hz=target.sample_rate_hz).samples
    pieces = _pieces(_crying_part(audio, episode, target.sample_rate_hz), target)
    written: list[Path] = []
    try:
        target.data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        for offset_ms, samples in pieces:
            path = folder / f"{review_stem(episode)}{NOHASH}{offset_ms:08d}ms{REVIEW_SUFFIX}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            written.append(path)
            with os.fdopen(fd, "wb") as f:
                sf.write(f, samples, target.sample_rate_hz, format="FLAC", subtype="PCM_16")
    except (OSError, sf.LibsndfileError) as e:
        for path in written:
            path.unlink(missing_ok=True)
        raise StorageError(_write_problem(folder, e)) from e
    return written


def _crying_part(audio: np.ndarray, episode: Episode, sample_rate_hz: int) -> np.ndarray:
    """The clip without its pre- and post-roll (the pre-roll is shorter at the input's start)."""
    extra_s = max(0.0, len(audio) / sample_rate_hz - episode.duration_s)
    start = round(min(DEFAULT_PRE_ROLL_S, extra_s) * sample_rate_hz)
    return audio[start : start + round(episode.duration_s * sample_rate_hz)]


def _pieces(samples: np.ndarray, target: ReviewTarget) -> list[tuple[int, np.ndarray]]:
    """Back-to-back windows of the model's duration, the last one aligned to the end."""
    n_clip = target.sample_rate_hz * target.clip_duration_ms // 1000
    if len(samples) <= n_clip:
        return [(0, samples)]
    starts = [*range(0, len(samples) - n_clip, n_clip), len(samples) - n_clip]
    return [
        (start * 1000 // target.sample_rate_hz, samples[start : start + n_clip]) for start in starts
    ]


def _write_problem(folder: Path, error: Exception) -> str:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{folder}: disk full; free some space and review again"
    return f"{folder}: cannot write the reviewed clips ({error}); check --data_dir"


def review_labels(data_dir: Path, *, crying_label: str) -> list[str]:
    """Labels offered for "not crying": the usual confusions, then the dataset's folders."""
    folders = {p.name for p in label_folders(data_dir)} if data_dir.is_dir() else set()
    usual = [label for label in USUAL_CONFUSIONS if label != crying_label]
    return usual + sorted(folders - {*usual, crying_label, BACKGROUND_NOISE_DIR})


def n_waiting(data_dir: Path, *, trained_at: datetime | None) -> int:
    """Reviewed clips written after the model was trained (all, if its time is unknown)."""
    after_s = trained_at.timestamp() if trained_at is not None else float("-inf")
    return sum(
        1
        for path in data_dir.glob(f"*/{REVIEW_PREFIX}*{REVIEW_SUFFIX}")
        if path.stat().st_mtime > after_s
    )


def trained_at(metadata: dict[str, str]) -> datetime | None:
    """When the model was trained, from its metadata (None if it does not say)."""
    try:
        return datetime.fromisoformat(metadata["trained_at"])
    except (KeyError, ValueError):
        return None
