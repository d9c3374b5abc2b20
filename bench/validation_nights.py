"""Validation nights like `make bench`'s test nights, for tuning: `make validation-nights`.

Each night is an hour of the validation split's cries among its other sounds (cats, laughter,
made infant laughter and babble, household and animal sounds: `night_clips.py`; the corpus's
music and speech are all in the training split) on one of
the made white-noise machines (`beds.py`) at -50 to -32 dBFS. Tune the detector on them with
`scripts/tune_detector.py build/validation-nights/*.flac`; the test nights stay for reporting.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from beds import BEDS, make_bed
from miserymeter.evaluation.night import NightSettings, make_night, write_night
from night_clips import CRY_KINDS, split_clips

BED_DBFS = (-50.0, -32.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/cry-corpus"))
    parser.add_argument("--out", type=Path, default=Path("build/validation-nights"))
    parser.add_argument("--nights", type=int, default=len(BEDS), help="Nights of an hour each.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="miserymeter-validation-") as work:
        clips = split_clips(args.corpus, Path(work), "validation", rng)
    cries = [c for c in clips if c.kind in CRY_KINDS]
    others = [c for c in clips if c.kind not in CRY_KINDS]
    bed_names = list(BEDS)
    for k in range(args.nights):
        bed_name = bed_names[k % len(bed_names)]
        bed_dbfs = float(rng.uniform(*BED_DBFS))
        settings = NightSettings(room_tone_dbfs=bed_dbfs)
        bed = make_bed(bed_name, rng)
        night = make_night(cries, others, rng=rng, settings=settings, room_tone=bed)
        path = args.out / f"v{k + 1}-{bed_name}.flac"
        write_night(night, path, path.with_suffix(".csv"))
        print(f"wrote {path}: {bed_name} at {bed_dbfs:.0f} dBFS, {len(night.events)} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
