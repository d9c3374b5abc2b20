"""Which events become pushes: decided once per event, in event order, from the events' times.

The times are the events' own (audio time for crying, so a replayed night gives the pushes
live capture would), never the clock of the moment the decision is made.

- **crying_started** is pushed (`on_start`) unless it falls in the quiet hours or within the
  cool-down after the end of the last announced episode of its room.
- **still_crying** is pushed once per episode, the first time it has lasted
  `escalate_after_min` (0: never), outside quiet hours; the cool-down does not hold it back.
- **crying_stopped** is pushed (`on_end`) for an episode that was announced (its start or its
  escalation pushed; for one a killed run left open, its start fell outside the quiet hours),
  even in quiet hours: whoever heard it started hears it ended. The end of an announced
  episode starts the cool-down.
- **alerts**: a listener event meaning the monitor is not hearing (`ALERT_KINDS`) is pushed at
  most once per `alert_every_min`, whatever the hour; "microphone back"
  (`microphone_reopened`) is pushed once after an alert was pushed.
- **digest**: pushed when its night had crying, once per night and room.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from miserymeter.delivery.notify.settings import NotifySettings
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED, DIGEST, LISTENER, STILL_CRYING, Event

# The listener events that mean the monitor does not hear the room (or only part of it).
ALERT_KINDS = (
    "microphone_lost",  # the stream broke off
    "microphone_unavailable",  # no microphone to open (repeated while retrying)
    "watchdog_no_frames",  # the driver delivers nothing
    "watchdog_flat",  # the driver delivers digital silence
    "microphone_stuck",  # the driver holds a dead stream
    "falling_behind",  # the CPU cannot keep up: windows are dropped
    "stopped",  # the listener ended: nobody is listening any more
)
BACK_KINDS = ("microphone_reopened",)


@dataclass
class _Episode:
    start: str
    announced: bool = False
    escalated: bool = False


@dataclass
class _Room:
    episode: _Episode | None = None
    announced_end: datetime | None = None
    last_alert_at: datetime | None = None
    alerted: bool = False  # an alert was pushed since the last "back"
    digests: set[str] = field(default_factory=set)


class NotifyPolicy:
    """The decisions of the module docstring; keeps what it needs of the past per room.

    Safe to call from two threads (the listener's, and the digest scheduler's).
    """

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._rooms: dict[str, _Room] = {}
        self._lock = threading.Lock()

    def wants(self, event: Event) -> bool:
        """Whether `event` is pushed (call once per event, in their order)."""
        with self._lock:
            return self._decide(self._rooms.setdefault(event.room, _Room()), event)

    def _decide(self, room: _Room, event: Event) -> bool:
        if event.kind == CRYING_STARTED:
            return self._started(room, event)
        if event.kind == STILL_CRYING:
            return self._continues(room, event)
        if event.kind == CRYING_STOPPED:
            return self._stopped(room, event)
        if event.kind == LISTENER:
            return self._listener(room, event)
        if event.kind == DIGEST:
            return self._digest(room, event)
        return False

    def _started(self, room: _Room, event: Event) -> bool:
        episode = room.episode = _Episode(event.data["start"])
        if not self.settings.on_start or self._is_quiet(event.at):
            return False
        end = room.announced_end
        if end is not None and event.at - end < self.settings.cooldown:
            return False
        episode.announced = True
        return True

    def _continues(self, room: _Room, event: Event) -> bool:
        episode = self._episode(room, event)
        after_min = self.settings.escalate_after_min
        if (
            after_min == 0
            or episode.escalated
            or event.data["duration_s"] < after_min * 60
            or self._is_quiet(event.at)
        ):
            return False
        episode.escalated = episode.announced = True
        return True

    def _stopped(self, room: _Room, event: Event) -> bool:
        episode = self._episode(room, event)
        room.episode = None
        if not episode.announced:
            return False
        room.announced_end = event.at
        return self.settings.on_end

    def _listener(self, room: _Room, event: Event) -> bool:
        if not self.settings.alerts:
            return False
        kind = event.data["event"]
        if kind in BACK_KINDS and room.alerted:
            room.alerted = False
            return True
        if kind not in ALERT_KINDS:
            return False
        last = room.last_alert_at
        if last is not None and event.at - last < self.settings.alert_every:
            return False
        room.last_alert_at = event.at
        room.alerted = True
        return True

    @staticmethod
    def _digest(room: _Room, event: Event) -> bool:
        if event.data["n_episodes"] == 0 or event.id in room.digests:
            return False
        room.digests.add(event.id)
        return True

    def _episode(self, room: _Room, event: Event) -> _Episode:
        """The room's episode this event belongs to. One that started before a restart (the
        last run was killed mid-episode) counts as announced if its start was pushable then:
        whoever heard it started should hear it ended."""
        start = event.data["start"]
        if room.episode is None or room.episode.start != start:
            started_at = datetime.fromisoformat(start)
            pushable = self.settings.on_start and not self._is_quiet(started_at)
            room.episode = _Episode(start, announced=pushable)
        return room.episode

    def _is_quiet(self, at: datetime) -> bool:
        quiet_hours = self.settings.quiet_hours
        return quiet_hours is not None and at.astimezone(self.settings.zone).time() in quiet_hours
