"""Lay out the cry corpus's held-out clips as a folder-per-label dataset for `evaluate`.

The split's phone cries go to `crying/` (with `--fullband`, the 10 held-out full-band cries
too), its ESC-50 clips to a folder per category, and its long recordings to 5 s clips as
training cut them. Files are linked, not copied, except the recording clips.

    python scripts/layout_heldout_clips.py --corpus ../shared/data/cry-corpus --out build/test-clips
    miserymeter evaluate --data_dir build/test-clips --plots build/test-clips-plots
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.errors import MiseryMeterError
from miserymeter.train.corpus import CORPUS_RATE_HZ, SLICE_S
from miserymeter.train.heldout import CorpusSound, heldout_sounds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--split", choices=("testing", "validation"), default="testing")
    parser.add_argument("--fullband", action="store_true", help="Add the full-band cries.")
    parser.add_argument("--out", type=Path, required=True, help="A new dataset folder.")
    args = parser.parse_args()
    if args.out.exists():
        print(f"error: {args.out}: exists; pass a new folder", file=sys.stderr)
        return 1
    try:
        sounds = heldout_sounds(args.corpus, split=args.split)
    except MiseryMeterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    cries = [*sounds.cries, *(sounds.fullband_cries if args.fullband else ())]
    for sound in [*cries, *sounds.sounds]:
        if sound.path.parent.name == "_background_noise_":
            _slice(sound, args.out / sound.kind)
        else:
            (args.out / sound.kind).mkdir(parents=True, exist_ok=True)
            (args.out / sound.kind / sound.path.name).symlink_to(sound.path.resolve())
    n_files = sum(1 for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {n_files} clips of the {args.split} split to {args.out}")
    return 0


def _slice(recording: CorpusSound, folder: Path) -> None:
    """5 s clips of a long recording, back to back, as training cut it."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = read_audio(recording.path, sample_rate_hz=CORPUS_RATE_HZ).samples
    n_slice = round(SLICE_S * CORPUS_RATE_HZ)
    for k, start in enumerate(range(0, len(samples) - n_slice + 1, n_slice)):
        clip = samples[start : start + n_slice]
        sf.write(folder / f"{recording.path.stem}_{k:03d}.flac", clip, CORPUS_RATE_HZ)


if __name__ == "__main__":
    sys.exit(main())
