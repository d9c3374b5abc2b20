"""What of the cry corpus the bundled model never trained on: material for honest test nights.

`prepare_cry_corpus` names every file by its family or recording before the hash split, so the
split of a corpus file follows from its name alone.
Needs no PyTorch.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import DatasetError
from miserymeter.prepare.split import Split
from miserymeter.train.corpus import default_model_split, group_name, is_fullband_cry

UNCATEGORISED_KIND = "other"


@dataclass(frozen=True)
class CorpusSound:
    """A corpus file and its kind: `crying`, an ESC-50 category, `music`, `speech`, `animal`."""

    path: Path
    kind: str


@dataclass(frozen=True)
class HeldOutSounds:
    """The corpus files of one split of the default model's data; its full-band cries apart.

    `seen_recordings` are long recordings of kinds the split has none of (music and speech
    are all in training): the model trained on 5 s slices of them.
    """

    cries: tuple[CorpusSound, ...]
    fullband_cries: tuple[CorpusSound, ...]
    sounds: tuple[CorpusSound, ...]
    seen_recordings: tuple[CorpusSound, ...]


def heldout_sounds(corpus_dir: Path, *, split: Split = "testing") -> HeldOutSounds:
    """Cries and other sounds of `split` (validation or testing), from the corpus manifest."""
    manifest = corpus_dir / "manifest.csv"
    if not manifest.is_file():
        raise DatasetError(f"{corpus_dir}: no manifest.csv; pass the cry-corpus folder")
    cries: list[CorpusSound] = []
    fullband: list[CorpusSound] = []
    sounds: list[CorpusSound] = []
    with manifest.open(newline="") as f:
        for row in csv.DictReader(f):
            path = corpus_dir / row["path"]
            if default_model_split(Path(group_name(path))) != split:
                continue
            if is_fullband_cry(row):
                fullband.append(CorpusSound(path, "crying"))
            else:
                kind = "crying" if row["label"] == "crying" else _sound_kind(path)
                (cries if kind == "crying" else sounds).append(CorpusSound(path, kind))
    recordings = [
        CorpusSound(path, path.name.split("__", 1)[0])
        for path in sorted((corpus_dir / BACKGROUND_NOISE_DIR).glob("*.flac"))
    ]
    in_split = [r for r in recordings if _recording_split(r.path) == split]
    kinds_in_split = {r.kind for r in in_split}
    return HeldOutSounds(
        cries=tuple(cries),
        fullband_cries=tuple(fullband),
        sounds=tuple(sounds + in_split),
        seen_recordings=tuple(r for r in recordings if r.kind not in kinds_in_split),
    )


def _recording_split(path: Path) -> Split:
    """A long recording's split: all its 5 s slices share one `_nohash_` group."""
    return default_model_split(Path(f"{path.stem.split('__', 1)[-1]}_nohash_000.flac"))


def _sound_kind(path: Path) -> str:
    """`esc50__dog__1-100032-A.flac` → `dog`, `cat__angry__angry_1.flac` → `cat`,
    `baby__laugh__....flac` → `baby`; ESC-50 clips named without a category → `other`."""
    parts = path.stem.split("__")
    if parts[0] != "esc50":
        return parts[0]
    return parts[1] if len(parts) == 3 else UNCATEGORISED_KIND
