"""The episodes CSV: when crying (or any labelled sound) started and stopped, noted by hand.

    start,end,label
    2026-11-25 01:30,2026-11-25 01:42:30,crying
    2026-11-25T03:05:00+01:00,2026-11-25T03:20:00+01:00,crying

Times are written as every option takes them (`written_time`): a date and a time of day, with
an offset (`+01:00`, `Z`) or in local time (the system's time zone, or the one given). Extra
columns (notes) are ignored.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone
from miserymeter.prepare.layout import nearly_one_of
from miserymeter.written_time import parse_written_time

COLUMNS = ("start", "end", "label")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Episode:
    """One noted episode, in UTC, and the CSV line it came from."""

    start: datetime
    end: datetime
    label: str
    line: int

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


def parse_timezone(name: str | None) -> tzinfo | None:
    """The time zone naive times are in: an IANA name, or None for the system's."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"--timezone {name}: unknown time zone; use a name like Europe/Berlin or UTC"
        ) from e


def read_episodes(path: Path, *, timezone: tzinfo | None = None) -> tuple[Episode, ...]:
    """Every episode of the CSV at `path`, sorted by start; rejects bad rows and overlaps."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such episodes file; write start,end,label rows") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"{path}: cannot read the episodes file ({e}); save it as a UTF-8 CSV"
        ) from e
    reader = csv.DictReader(text.splitlines())
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if not set(COLUMNS) <= set(header):
        raise ConfigError(
            f"{path}: first line must be the header start,end,label (got {','.join(header)!r})"
        )
    reader.fieldnames = header
    episodes = []
    for row in reader:
        episodes.append(_episode(row, path=path, line=reader.line_num, timezone=timezone))
    episodes.sort(key=lambda e: e.start)
    _refuse_overlaps(episodes, path=path, timezone=timezone)
    return tuple(episodes)


def _episode(
    row: dict[str, str | None], *, path: Path, line: int, timezone: tzinfo | None
) -> Episode:
    where = f"{path} line {line}"
    start = parse_written_time(row.get("start") or "", where=f"{where}, start", zone=timezone)
    end = parse_written_time(row.get("end") or "", where=f"{where}, end", zone=timezone)
    if end <= start:
        fix = "fix the times"
        if _past_midnight(start, end, timezone or local_zone()):
            fix = "an episode past midnight ends on the next day's date"
        raise ConfigError(
            f"{where}: end {show_time(end, timezone)} is not after start "
            f"{show_time(start, timezone)}; {fix}"
        )
    label = (row.get("label") or "").strip()
    if not label:
        raise ConfigError(f"{where}: no label; write one, e.g. crying")
    check_label(label, where=where)
    return Episode(start, end, label, line)


def _past_midnight(start: datetime, end: datetime, zone: tzinfo) -> bool:
    """Whether an end before its start reads as one written past midnight with the start's
    date: started in the evening, ended in the morning, on one date (23:50 to 00:10)."""
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    same_date = start_local.date() == end_local.date()
    return same_date and start_local.hour >= 12 and end_local.hour < 12


def misspelt_labels(
    episodes: Sequence[Episode], *, known: Collection[str], path: Path
) -> list[str]:
    """A warning for each label that is not one of `known` but nearly is ("cryng", "Crying"):
    its clips would go to a folder of their own, and train as another sound than crying."""
    warnings, seen = [], set()
    for episode in episodes:
        if episode.label in seen:
            continue
        seen.add(episode.label)
        if meant := nearly_one_of(episode.label, known):
            warnings.append(
                f"{path} line {episode.line}: label {episode.label!r} is not {meant!r}: its clips "
                f"go to {episode.label}/, a label of their own; write {meant} if that is meant"
            )
    return warnings


def check_label(label: str, *, where: str) -> None:
    """Labels become folder names: letters, digits, `_` and `-` only."""
    if not _LABEL.match(label):
        raise ConfigError(
            f"{where}: label {label!r} cannot be a folder name; "
            "use letters, digits, _ and -, e.g. crying"
        )


def _refuse_overlaps(episodes: Sequence[Episode], *, path: Path, timezone: tzinfo | None) -> None:
    for earlier, later in itertools.pairwise(episodes):
        if later.start < earlier.end:
            raise ConfigError(
                f"{path} lines {earlier.line} and {later.line}: episodes overlap "
                f"({show_time(earlier.start, timezone)} to {show_time(earlier.end, timezone)} "
                f"and {show_time(later.start, timezone)} to {show_time(later.end, timezone)}); "
                "fix or merge them"
            )


def show_time(time: datetime, timezone: tzinfo | None) -> str:
    """A time as the user likely wrote it: in their time zone, to the second."""
    local = time.astimezone(timezone or local_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S")
