"""The truth of a test night: a CSV of `start_s,end_s,kind`, one sound event per row.

`kind` is `crying` for a crying episode and the kind of sound (`dog`, `music`, ...) for the
others; the quiet stretches between events are not listed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from miserymeter.audio.io import c_stderr_silenced, require_readable_file
from miserymeter.errors import AudioError, DatasetError

CRYING_KIND = "crying"
TRUTH_COLUMNS = ("start_s", "end_s", "kind")


@dataclass(frozen=True)
class TruthEvent:
    """A sound event of a test night, in seconds from its first sample."""

    start_s: float
    end_s: float
    kind: str

    @property
    def is_crying(self) -> bool:
        return self.kind == CRYING_KIND


def write_truth(events: Iterable[TruthEvent], path: Path) -> None:
    """Write `events` as a truth CSV, times in milliseconds' precision."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(TRUTH_COLUMNS)
        for event in events:
            writer.writerow([f"{event.start_s:.3f}", f"{event.end_s:.3f}", event.kind])


def read_truth(path: Path) -> tuple[TruthEvent, ...]:
    """Read a truth CSV; a missing file, a missing column or a bad row is a DatasetError."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such truth CSV; pass the --truth file make_night wrote")
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as f:
        try:
            reader = csv.DictReader(f)
            missing = [c for c in TRUTH_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DatasetError(
                    f"{path}: no {', '.join(missing)} column; the header must be start_s,end_s,kind"
                )
            return tuple(_event(row, path, line=reader.line_num) for row in reader)
        except UnicodeDecodeError:
            raise DatasetError(
                f"{path}: not UTF-8 text; save it as CSV UTF-8 (start_s,end_s,kind)"
            ) from None


def _event(row: dict[str, str], path: Path, *, line: int) -> TruthEvent:
    where = f"{path}, line {line}"
    try:
        start_s, end_s = float(row["start_s"]), float(row["end_s"])
    except (TypeError, ValueError):
        raise DatasetError(
            f"{where}: start_s and end_s must be seconds (e.g. 12.5), "
            f"got {row['start_s']!r}, {row['end_s']!r}"
        ) from None
    kind = (row["kind"] or "").strip()
    if kind.lower() == CRYING_KIND:  # "Crying", as a spreadsheet capitalises it
        kind = CRYING_KIND
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or not 0 <= start_s < end_s:
        raise DatasetError(f"{where}: needs 0 <= start_s < end_s, got {start_s:g}, {end_s:g}")
    if not kind:
        raise DatasetError(f"{where}: no kind; write crying or the kind of sound")
    return TruthEvent(start_s, end_s, kind)


def read_night_truth(night_path: Path, truth_path: Path) -> tuple[float, tuple[TruthEvent, ...]]:
    """A night's length (s) and its truth, which must end within it."""
    events = read_truth(truth_path)
    if not night_path.exists():
        raise AudioError(f"{night_path}: no such recording; pass the --night file make_night wrote")
    require_readable_file(night_path)  # a folder, a pipe, no permission
    try:
        with c_stderr_silenced():
            duration_s = sf.info(str(night_path)).duration
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(
            f"{night_path}: not a readable audio file ({str(e).strip()}); pass a WAV or FLAC"
        ) from e
    last = max(events, key=lambda e: e.end_s, default=None)
    if last is not None and last.end_s > duration_s + 0.01:
        raise DatasetError(
            f"{truth_path}: an event ends at {last.end_s:g} s, after {night_path} ends "
            f"({duration_s:g} s); pass the truth CSV of this night"
        )
    return duration_s, events
