"""The words of a push: a title and a body per event, times in the family's local time.

The body ends with the event's dashboard link (`url`), when there is one, on a line of its own:
the episode's page, with its audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from miserymeter.events import (
    CRYING_STARTED,
    CRYING_STOPPED,
    DIGEST,
    LISTENER,
    MONITOR,
    STILL_CRYING,
    Event,
)

_LISTENER_TITLES = {
    "stopped": "Monitor in {room} stopped listening",
    "falling_behind": "Monitor in {room} is falling behind",
    "microphone_reopened": "Microphone in {room} is back",
}
_NOT_HEARING = "Monitor in {room} is not hearing"
# apprise's notification types: services show them as colours, icons or priorities.
INFO, SUCCESS, WARNING, FAILURE = "info", "success", "warning", "failure"
# Times this far from the push (a replayed night, a push that waited out an outage) say their day.
DAY_NOT_SAID = timedelta(hours=12)


@dataclass(frozen=True)
class Push:
    """One notification as apprise sends it."""

    title: str
    body: str
    notify_type: str = INFO


def push_for(event: Event, *, zone: tzinfo, now: datetime) -> Push:
    """The push that tells of `event`, sent at `now`: a time of a crying or of the listener
    half a day or more from it (a replayed night, a push that waited) has its day."""

    def when(at: datetime | str) -> str:
        return _hhmm_or_day(at, zone, now=now)

    room, data = event.room, event.data
    notify_type = INFO
    if event.kind == CRYING_STARTED:
        title, body = f"Crying in {room}", f"Crying since {when(data['start'])}."
    elif event.kind == STILL_CRYING:
        title = f"Still crying in {room}"
        body = f"Crying for {int(data['duration_s'] // 60)} min now, since {when(data['start'])}."
    elif event.kind == CRYING_STOPPED:
        title = f"Crying stopped in {room}"
        start, end = when(data["start"]), _hhmm(data["end"], zone)
        span = f"from {start}" if start.endswith(end) else f"{start}-{end}"  # 18:32-18:32
        body = f"Cried {duration_text(data['duration_s'])}, {span}."
    elif event.kind == LISTENER:
        title = _LISTENER_TITLES.get(data["event"], _NOT_HEARING).format(room=room)
        notify_type = {"stopped": FAILURE, "microphone_reopened": SUCCESS}.get(
            data["event"], WARNING
        )
        body = f"{data['message']} ({when(event.at)})."
    elif event.kind == DIGEST:
        title, body = f"Last night in {room}", digest_text(data, zone=zone)
    elif event.kind == MONITOR:
        title, body, notify_type = _monitor(room, data, zone=zone)
    else:
        title, body = f"{event.kind} in {room}", f"{event.kind} at {_hhmm(event.at, zone)}."
    url = data.get("url")
    return Push(title, f"{body}\n{url}" if url else body, notify_type)


def _monitor(room: str, data: dict[str, Any], *, zone: tzinfo) -> tuple[str, str, str]:
    """The words of a monitor that went offline, or is back, or of the database that all the
    monitors write to (`delivery/notify/offline.py`)."""
    if data["status"] == "database_down":
        body = (
            f"{data['database']} cannot be read since {_hhmm(data['since'], zone)}: no room is "
            "watched, and the rooms' pushes wait until it is back."
        )
        return "Misery Meter cannot read its database", body, FAILURE
    if data["status"] == "database_back":
        since = _hhmm(data["since"], zone)
        body = f"{data['database']} can be read again (it could not since {since})."
        return "Misery Meter reads its database again", body, SUCCESS
    last_heard = _hhmm(data["last_heard"], zone)
    if data["status"] == "offline":
        body = f"Last heard at {last_heard}; check its power and network."
        return f"Monitor in {room} is offline", body, FAILURE
    silent_s = (
        datetime.fromisoformat(data["last_heard"]) - datetime.fromisoformat(data["offline_since"])
    ).total_seconds()
    body = f"Heard again at {last_heard}, after {duration_text(silent_s)} of silence."
    return f"Monitor in {room} is back", body, SUCCESS


def digest_text(data: dict[str, Any], *, zone: tzinfo) -> str:
    """A night's digest in one sentence or two."""
    n = data["n_episodes"]
    if n == 0:
        return "No crying."
    return (
        f"{n} episode{'s' if n != 1 else ''}, {duration_text(data['crying_min'] * 60)} of "
        f"crying; the longest {duration_text(data['longest_min'] * 60)} "
        f"at {_hhmm(data['longest_start'], zone)}. "
        f"First at {_hhmm(data['first_start'], zone)}, last ended {_hhmm(data['last_end'], zone)}."
    )


def duration_text(duration_s: float) -> str:
    """45 s, 3 min 20 s, 12 min."""
    seconds = round(duration_s)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _hhmm_or_day(at: datetime | str, zone: tzinfo, *, now: datetime) -> str:
    """ "21:00", or "Sat 5 Dec 21:00" half a day or more from `now`."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    local = moment.astimezone(zone)
    if abs(now - moment) < DAY_NOT_SAID:
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _hhmm(at: datetime | str, zone: tzinfo) -> str:
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(zone).strftime("%H:%M")
