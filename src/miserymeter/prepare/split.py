"""The tutorial's stable hash split: which of training, validation and testing a clip is in.

`dataset stats` counts by it and `train` trains by it, so both see the same split.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Literal

from miserymeter.errors import ConfigError

Split = Literal["training", "validation", "testing"]
SPLITS: tuple[Split, ...] = ("training", "validation", "testing")

# As in the tutorial: the hash is taken modulo this, so percentages have a fine resolution.
_MAX_FILES_PER_CLASS = 2**27 - 1
_NOHASH = re.compile(r"_nohash_.*$")


def check_split_percentages(*, validation_percentage: float, testing_percentage: float) -> None:
    """Refuse percentages no split can be cut by (negative, NaN, or 100 together)."""
    for name, value in (
        ("validation_percentage", validation_percentage),
        ("testing_percentage", testing_percentage),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"--{name}={value}: must be 0 or more")
    if validation_percentage + testing_percentage >= 100:
        raise ConfigError("--validation_percentage plus --testing_percentage must stay below 100")


def which_set(path: Path, *, validation_percentage: float, testing_percentage: float) -> Split:
    """The split a file belongs to, stable as files are added (the tutorial's `which_set`).

    Everything after `_nohash_` in a file name is ignored, so clips cut from one recording,
    family or episode (`episode12_nohash_3.wav`) always land in the same split.
    """
    percentage = group_percentage(path)
    if percentage < validation_percentage:
        return "validation"
    if percentage < validation_percentage + testing_percentage:
        return "testing"
    return "training"


def group_percentage(path: Path) -> float:
    """Where in [0, 100] the file's group (its name up to `_nohash_`) hashes: the split is
    cut by this, and so are the folds of an out-of-fold run (`bench/out_of_fold.py`)."""
    group = _NOHASH.sub("", path.name)
    digest = int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16)
    return (digest % (_MAX_FILES_PER_CLASS + 1)) * (100.0 / _MAX_FILES_PER_CLASS)
