"""The clips of one split that the detector is measured on, each with its kind.

Shared by `bench/detector.py` (the test split, with eval-only's recordings) and
`bench/validation_nights.py` (the validation split, for tuning): the cry corpus as the default
model's training lays it out (phone and full-band cries, cats, laughter and every other sound,
Debian's clips included), infant laughter made from the split's laughter and espeak-ng babble
(`baby_sounds.py`), and, for testing, dogs from Debian's packages that no model trains on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from baby_sounds import babble, infant_laughter
from miserymeter.audio.io import read_audio
from miserymeter.evaluation.night import Clip
from miserymeter.prepare.split import Split
from miserymeter.train.corpus import DEBIAN_PACKAGES_DIR, default_model_split, prepare_cry_corpus
from miserymeter.train.packaged_sounds import PackagedSound, fetch_packaged_sounds

RATE_HZ = 16_000
KINDS = ("phone cries", "full-band cries", "laughter", "babble", "cats", "dogs", "white noise")
CRY_KINDS = KINDS[:2]
N_BABBLE = 40

# The corpus's 4 dog recordings are all in the default model's training split: these barks,
# never trained on, are the test's dogs.
MEASURED_DOGS = (
    PackagedSound("scratch", "usr/share/scratch/Media/Sounds/Animal/Dog1.wav", "dog", "scratch"),
    PackagedSound("scratch", "usr/share/scratch/Media/Sounds/Animal/Dog2.wav", "dog", "scratch"),
    PackagedSound("qabcs-data", "usr/share/qabcs/abcs/all/noises/dog.ogg", "dog", "qabcs"),
    PackagedSound("qabcs-data", "usr/share/qabcs/abcs/all/noises/dogmatix.ogg", "dog", "qabcs"),
    PackagedSound(
        "tuxpaint-stamps-default",
        "usr/share/tuxpaint/stamps/animals/mammals/dogs/dog.ogg",
        "dog",
        "tuxpaint",
    ),
)


def split_clips(corpus: Path, work: Path, split: Split, rng: np.random.Generator) -> list[Clip]:
    """Every clip of `split` at RATE_HZ with its kind (KINDS, or `other`), made baby sounds
    included; for `testing`, the measured dogs too."""
    data_dir = prepare_cry_corpus(corpus, work, packages_dir=DEBIAN_PACKAGES_DIR).data_dir
    clips, laughs = [], []
    for path in sorted(data_dir.glob("*/*.flac")):
        if path.parent.name.startswith("_") or default_model_split(path) != split:
            continue
        kind = clip_kind(path)
        clips.append(Clip(read_audio(path, sample_rate_hz=RATE_HZ).samples, kind))
        if kind == "laughter":
            laughs.append(path)
    if split == "testing":
        dogs = fetch_packaged_sounds(
            work / "dogs", cache_dir=DEBIAN_PACKAGES_DIR, sounds=MEASURED_DOGS
        )
        clips += [Clip(read_audio(p, sample_rate_hz=RATE_HZ).samples, "dogs") for p in dogs]
    clips += [Clip(s, "laughter") for s in infant_laughter(laughs, rng=rng)]
    clips += [Clip(s, "babble") for s in babble(N_BABBLE, rng=rng)]
    return clips


def clip_kind(path: Path) -> str:
    """A prepared corpus file's kind: one of KINDS, or `other`."""
    name, folder = path.resolve().name, path.parent.name
    if folder == "crying":
        return "full-band cries" if name.startswith("esc50") else "phone cries"
    if folder == "cat" or name.startswith("cat__") or "__cat__" in name:
        return "cats"
    if folder == "laughing" or "__laughing__" in name or name.startswith("baby__laugh"):
        return "laughter"
    if "__dog__" in name:
        return "dogs"
    return "other"
