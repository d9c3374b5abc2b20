"""The clips of one split that the detector is measured on, each with its kind.

Shared by `bench/detector.py` (the test split, with eval-only's recordings) and
`bench/validation_nights.py` (the validation split, for tuning): the cry corpus as the default
model's training lays it out (phone and full-band cries, cats, laughter and every other sound,
Debian's clips included), infant laughter made from the split's laughter and espeak-ng babble
(`baby_sounds.py`), and, for testing, dogs, music and singing from Debian's packages that no
model trains on.
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
KINDS = (
    "phone cries",
    "full-band cries",
    "laughter",
    "babble",
    "cats",
    "dogs",
    "music",
    "white noise",
)
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


_SCRATCH_SOUNDS = "usr/share/scratch/Media/Sounds"
# The corpus's 5 music recordings are all in the default model's training split: Scratch's
# music loops (a xylophone lullaby, guitar chords, a medieval tune, drums ...) and its sung
# phrases, never trained on, are the test's music.
MEASURED_MUSIC = tuple(
    PackagedSound("scratch", f"{_SCRATCH_SOUNDS}/{name}", "music", "scratch-music")
    for name in (
        "Music Loops/Cave.mp3",
        "Music Loops/DripDrop.mp3",
        "Music Loops/Drum.mp3",
        "Music Loops/DrumMachine.mp3",
        "Music Loops/DrumSet1.mp3",
        "Music Loops/DrumSet2.mp3",
        "Music Loops/Eggs.mp3",
        "Music Loops/Garden.mp3",
        "Music Loops/GuitarChords1.mp3",
        "Music Loops/GuitarChords2.mp3",
        "Music Loops/HipHop.mp3",
        "Music Loops/HumanBeatbox1.mp3",
        "Music Loops/HumanBeatbox2.mp3",
        "Music Loops/Jungle.mp3",
        "Music Loops/Medieval1.mp3",
        "Music Loops/Medieval2.mp3",
        "Music Loops/Techno.mp3",
        "Music Loops/Techno2.mp3",
        "Music Loops/Triumph.mp3",
        "Music Loops/Xylo1.mp3",
        "Music Loops/Xylo2.mp3",
        "Music Loops/Xylo3.mp3",
        "Music Loops/xylo4.mp3",
        "Vocals/Come-and-play.mp3",
        "Vocals/Doy-doy-doy.mp3",
        "Vocals/Got-inspiration.mp3",
        "Vocals/Hey-yay-hey.mp3",
        "Vocals/Join-us.mp3",
        "Vocals/Oooo-badada.mp3",
        "Vocals/Sing-me-a-song.mp3",
        "Vocals/Singer1.wav",
        "Vocals/Singer2.wav",
    )
)


def split_clips(corpus: Path, work: Path, split: Split, rng: np.random.Generator) -> list[Clip]:
    """Every clip of `split` at RATE_HZ with its kind (KINDS, or `other`), made baby sounds
    included; for `testing`, the measured dogs and music too."""
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
        for kind, sounds in (("dogs", MEASURED_DOGS), ("music", MEASURED_MUSIC)):
            paths = fetch_packaged_sounds(work / kind, cache_dir=DEBIAN_PACKAGES_DIR, sounds=sounds)
            clips += [Clip(read_audio(p, sample_rate_hz=RATE_HZ).samples, kind) for p in paths]
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
