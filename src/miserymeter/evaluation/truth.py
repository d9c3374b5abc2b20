"""The truth of a test night: a CSV of `start_s,end_s,kind`, one sound event per row.

`kind` is `crying` for a crying episode and the kind of sound (`dog`, `music`, ...) for the
others; the quiet stretches between events are not listed. A parent's own night may instead
come with the episodes noted by the clock, as `label` reads them (`start,end,label`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

import soundfile as sf

from miserymeter.audio.io import c_stderr_silenced, require_readable_file
from miserymeter.audio.recorded_time import recorded_start
from miserymeter.errors import AudioError, DatasetError
from miserymeter.prepare.noted_episodes import COLUMNS as NOTED_COLUMNS
from miserymeter.prepare.noted_episodes import read_episodes, show_time
from miserymeter.written_time import FORMS

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
    kind = _kind(row["kind"] or "")
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or not 0 <= start_s < end_s:
        raise DatasetError(f"{where}: needs 0 <= start_s < end_s, got {start_s:g}, {end_s:g}")
    if not kind:
        raise DatasetError(f"{where}: no kind; write crying or the kind of sound")
    return TruthEvent(start_s, end_s, kind)


def _kind(written: str) -> str:
    """An event's kind as written, "Crying" (as a spreadsheet capitalises it) read as crying."""
    kind = written.strip()
    return CRYING_KIND if kind.lower() == CRYING_KIND else kind


def read_night_truth(
    night_path: Path,
    truth_path: Path,
    *,
    start: datetime | None = None,
    timezone: tzinfo | None = None,
) -> tuple[float, tuple[TruthEvent, ...]]:
    """A night's length (s) and its truth, which must lie within it: a truth CSV in seconds
    from its first sample, or the episodes noted by the clock (start,end,label, as `label`
    reads them), placed from when the night began: `start`, else the time the recording
    carries."""
    if not truth_path.is_file():
        raise DatasetError(
            f"{truth_path}: no such truth CSV; pass the night's start_s,end_s,kind rows "
            "(seconds), or the start,end,label episodes you noted"
        )
    noted = _holds_noted_episodes(truth_path)
    events = () if noted else read_truth(truth_path)
    if not night_path.exists():
        raise AudioError(f"{night_path}: no such recording; pass the --night it is the truth of")
    require_readable_file(night_path)  # a folder, a pipe, no permission
    try:
        with c_stderr_silenced():
            duration_s = sf.info(str(night_path)).duration
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(
            f"{night_path}: not a readable audio file ({str(e).strip()}); pass a WAV or FLAC"
        ) from e
    if noted:
        began = start or recorded_start(night_path)
        if began is None:
            raise DatasetError(
                f"{night_path}: carries no time it began, which the clock times of "
                f"{truth_path} need; pass --start as {FORMS}"
            )
        return duration_s, _noted_events(truth_path, began, duration_s, timezone=timezone)
    last = max(events, key=lambda e: e.end_s, default=None)
    if last is not None and last.end_s > duration_s + 0.01:
        raise DatasetError(
            f"{truth_path}: an event ends at {last.end_s:g} s, after {night_path} ends "
            f"({duration_s:g} s); pass the truth CSV of this night"
        )
    return duration_s, events


def _holds_noted_episodes(path: Path) -> bool:
    """Whether the CSV holds episodes as `label` reads them: a start,end,label header, and no
    seconds where its first row starts (a mistyped time there is reported as a noted time)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = csv.reader(f)
        header = [name.strip().lower() for name in next(rows, [])]
        first = next(rows, [])
    if not set(NOTED_COLUMNS) <= set(header) or "start_s" in header:
        return False
    start = first[header.index("start")] if len(first) > header.index("start") else ""
    return not _is_seconds(start)


def _is_seconds(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _noted_events(
    path: Path, began: datetime, duration_s: float, *, timezone: tzinfo | None
) -> tuple[TruthEvent, ...]:
    """The noted episodes as seconds from `began`, cut to the recording's length."""
    events = []
    for episode in read_episodes(path, timezone=timezone):
        start_s = (episode.start - began).total_seconds()
        end_s = (episode.end - began).total_seconds()
        if end_s <= 0 or start_s >= duration_s:
            recorded = f"{show_time(began, timezone)} for {duration_s / 60:.0f} min"
            raise DatasetError(
                f"{path} line {episode.line}: {show_time(episode.start, timezone)} lies outside "
                f"the recording ({recorded}); check the date, --start and --timezone"
            )
        events.append(TruthEvent(max(start_s, 0.0), min(end_s, duration_s), _kind(episode.label)))
    return tuple(events)
