"""When a recording's first sample was heard, if the file says: an archive segment's name
(`record` names its segments by their UTC start), else a FLAC or WAV `date` tag holding a date
and a time ("2026-12-05T21:00:00+01:00"; without an offset, the machine's local time)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import soundfile as sf

from miserymeter.audio.archive import segment_start
from miserymeter.audio.io import c_stderr_silenced
from miserymeter.nights import local_zone

# A date and a time of day: a year or a date alone ("2026", "2026-12-05") dates no sample.
_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def recorded_start(path: Path) -> datetime | None:
    """The time `path` carries for its first sample (timezone-aware), or None."""
    return segment_start(path) or date_tag(path)


def date_tag(path: Path) -> datetime | None:
    """The date and time of the file's `date` tag (FLAC's DATE comment, WAV's ICRD), or None."""
    try:
        with c_stderr_silenced(), sf.SoundFile(str(path)) as f:
            text = f.date.strip()
    except (sf.LibsndfileError, RuntimeError):
        return None
    if not _DATE_AND_TIME.match(text):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=local_zone())
