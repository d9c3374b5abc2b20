"""A person at a terminal: episodes as lines (or JSON lines), and the listener's log on stderr.

Lines show times in the machine's local time zone (`TZ`); JSON gives them in UTC.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from miserymeter.nights import local_zone
from miserymeter.records import CryingStarted, Episode, ListenerEvent, Record


@dataclass
class Terminal:
    """Where a command writes for a person: results to `out` (stdout), its log to `err`."""

    out: Console
    err: Console
    out_closed: bool = False  # the program reading stdout has gone

    def result(self, line: str) -> None:
        """One line on stdout. When the program reading it has gone (`listen --json | head`),
        one warning, and the rest goes nowhere: the command carries on and stores all."""
        if self.out_closed:
            return
        try:
            print(line, file=self.out.file, flush=True)
        except BrokenPipeError:
            self.out_closed = True
            with contextlib.suppress(OSError, ValueError):  # no more errors on the way out
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.file.fileno())
            self.warn(
                "standard output was closed (the program reading it stopped): results are "
                "no longer printed; the rest goes on"
            )

    def say(self, message: str) -> None:
        """One line on stderr."""
        self.err.print(message, markup=False)

    def warn(self, message: str) -> None:
        """One line on stderr about something wrong that the command works around."""
        self.say(f"warning: {message}")

    def event(self, at: datetime, kind: str, message: str) -> None:
        """One line of a long-running command's log: `<date> <time> <kind>: <message>`."""
        self.say(f"{at.astimezone(local_zone()):%Y-%m-%d %H:%M:%S} {kind}: {message}")


class ConsoleSink:
    """Crying as it starts, episodes as they end, the listener's troubles: lines a person reads."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal

    def handle(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, CryingStarted):
                self.terminal.result(
                    f"{record.start.astimezone(local_zone()):%Y-%m-%d %H:%M:%S} crying in "
                    f"{record.room} "
                    f"(sure after {record.confirmed_offset_s - record.start_offset_s:.0f} s)"
                )
            elif isinstance(record, Episode):
                clip = f", audio: {record.clip_path}" if record.clip_path else ""
                self.terminal.result(
                    f"{record.start.astimezone(local_zone()):%Y-%m-%d %H:%M:%S} - "
                    f"{record.end.astimezone(local_zone()):%H:%M:%S} crying "
                    f"{record.duration_s:.0f} s in {record.room} "
                    f"(peak {record.peak_probability:.2f}, mean {record.mean_probability:.2f})"
                    f"{clip}"
                )
            elif isinstance(record, ListenerEvent):
                self.terminal.event(record.at, record.kind, record.message)


class JsonLinesSink:
    """One JSON object per finished episode on stdout (`--json`); the log still goes to stderr."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal

    def handle(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, Episode):
                self.terminal.result(json.dumps(episode_json(record)))
            elif isinstance(record, ListenerEvent):
                self.terminal.event(record.at, record.kind, record.message)


def episode_json(episode: Episode) -> dict[str, Any]:
    """An episode as `--json` prints it."""
    return {
        "room": episode.room,
        "start_s": episode.start_offset_s,
        "end_s": episode.end_offset_s,
        "confirmed_s": episode.confirmed_offset_s,
        "start": episode.start.astimezone(UTC).isoformat(),
        "end": episode.end.astimezone(UTC).isoformat(),
        "duration_s": round(episode.duration_s, 3),
        "peak_probability": episode.peak_probability,
        "mean_probability": episode.mean_probability,
        "detector": episode.detector,
        "clip": episode.clip_path,
    }
