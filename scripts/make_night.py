"""Build a long test night (16 kHz mono FLAC) and its truth CSV (`start_s,end_s,kind`).

From the cry corpus, only what the bundled model never trained on where the corpus allows:
phone and full-band cries and other sounds of one split of its data (`--split testing`, the
default; tune on `validation`), and music and speech (all of which it trained on: the corpus
has no other). `--bed` loops a recording under the night, e.g. a white-noise machine's.
`--examples` builds a few minutes from the clips shipped in the package instead (for a demo).

    python scripts/make_night.py --corpus ../shared/data/cry-corpus --hours 1 --seed 1 \\
        --out night.flac --truth night.csv
    python scripts/make_night.py --examples --seed 1 --out demo.flac --truth demo.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from miserymeter.audio.io import read_audio
from miserymeter.errors import MiseryMeterError
from miserymeter.evaluation.night import (
    EXAMPLE_NIGHT_SETTINGS,
    Clip,
    Night,
    NightSettings,
    example_night_clips,
    make_night,
    write_night,
)
from miserymeter.evaluation.truth import CRYING_KIND
from miserymeter.train.heldout import CorpusSound, heldout_sounds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    source.add_argument("--examples", action="store_true", help="Use the bundled example clips.")
    parser.add_argument("--split", choices=("testing", "validation"), default="testing")
    parser.add_argument("--hours", type=float, help="Length (default: 1, or 3 min of examples).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="The night's audio (.flac).")
    parser.add_argument("--truth", type=Path, help="The truth CSV (default: --out as .csv).")
    parser.add_argument(
        "--bed", type=Path, help="Audio looped under the night (a white-noise machine's loop)."
    )
    parser.add_argument("--bed_dbfs", type=float, default=-55.0, help="Its level (RMS dBFS).")
    parser.add_argument(
        "--ending_now",
        action="store_true",
        help="Date the audio (its date tag) to end now: `listen` replays it onto the minutes "
        "just past, not the next ones (the demo).",
    )
    args = parser.parse_args()
    if args.hours is not None and args.hours <= 0:
        parser.error(f"--hours {args.hours:g}: must be above 0")
    try:
        night = build(args)
    except MiseryMeterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    truth = args.truth or args.out.with_suffix(".csv")
    ended = datetime.now().astimezone()
    recorded_at = ended - timedelta(seconds=night.duration_s) if args.ending_now else None
    write_night(night, args.out, truth, recorded_at=recorded_at)
    print(summary(night, args.out, truth))
    return 0


def build(args: argparse.Namespace) -> Night:
    """The night the arguments ask for."""
    rng = np.random.default_rng(args.seed)
    settings = EXAMPLE_NIGHT_SETTINGS if args.examples else NightSettings()
    if args.hours is not None:
        settings = dataclasses.replace(settings, duration_s=args.hours * 3600)
    if args.examples:
        cries, noises, room_tone = example_night_clips(sample_rate_hz=settings.sample_rate_hz)
        return make_night(cries, noises, rng=rng, settings=settings, room_tone=room_tone)
    sounds = heldout_sounds(args.corpus, split=args.split)
    print(
        f"{args.corpus}: {len(sounds.cries)} phone cries and {len(sounds.sounds)} other sounds "
        f"of the {args.split} split, {len(sounds.fullband_cries)} full-band cries, "
        f"{len(sounds.seen_recordings)} recordings the model trained on "
        f"({', '.join(sorted({r.kind for r in sounds.seen_recordings}))}: none held out)"
    )
    rate = settings.sample_rate_hz
    cries = _load([*sounds.cries, *sounds.fullband_cries], rate)
    noises = _load([*sounds.sounds, *sounds.seen_recordings], rate)
    bed = None if args.bed is None else read_audio(args.bed, sample_rate_hz=rate).samples
    settings = dataclasses.replace(settings, room_tone_dbfs=args.bed_dbfs)
    return make_night(cries, noises, rng=rng, settings=settings, room_tone=bed)


def _load(sounds: list[CorpusSound], sample_rate_hz: int) -> list[Clip]:
    return [Clip(read_audio(s.path, sample_rate_hz=sample_rate_hz).samples, s.kind) for s in sounds]


def summary(night: Night, audio_path: Path, truth_path: Path) -> str:
    """What was written: length, crying episodes, other sounds by kind."""
    episodes = [e for e in night.events if e.kind == CRYING_KIND]
    others = Counter(e.kind for e in night.events if e.kind != CRYING_KIND)
    crying_s = sum(e.end_s - e.start_s for e in episodes)
    kinds = ", ".join(f"{kind} {n}" for kind, n in others.most_common())
    return (
        f"wrote {audio_path} ({night.duration_s / 60:.1f} min at {night.sample_rate_hz} Hz) "
        f"and {truth_path}: {len(episodes)} crying episodes ({crying_s / 60:.1f} min), "
        f"{sum(others.values())} other sounds ({kinds})"
    )


if __name__ == "__main__":
    sys.exit(main())
