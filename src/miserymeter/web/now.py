"""What a parent asks first: is the baby crying now? "Crying now" since when, "quiet" since
the last crying ended, or "not listening" since the room was last heard.

The store holds an episode only once it has ended (after the merge gap), so the one in
progress is found by replaying the detector, with the listener's settings, over the room's
last hour of stored seconds: only from the start of its last burst of crying scores, which ends
the same (`replay_start`), and not at all in a room with none lately. All rooms' states come
from the same few queries, whatever their number (up to four looks back for the bursts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from miserymeter.constants import DEFAULT_HOP_S
from miserymeter.detect.replay import (
    last_burst,
    replay,
    replay_start,
    settled_after_s,
    time_at,
)
from miserymeter.detect.settings import DetectorSettings
from miserymeter.store import Store
from miserymeter.web.health import Heard, local_iso, rooms_heard

LOOKBACK = timedelta(hours=1)
# "Quiet since" the last crying of the past day; quiet longer than that is just quiet.
QUIET_LOOKBACK = timedelta(days=1)
CRYING, QUIET, NOT_LISTENING = "crying", "quiet", "not listening"
ONE_SECOND = timedelta(seconds=1)

State = tuple[str, datetime | None]  # the state, and since when


def room_now(
    store: Store, room: str, detection: DetectorSettings, *, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """The room's state now, since when (local ISO time, None: all night) and for how long."""
    heard = rooms_heard(store, now=now, zone=zone, room=room)
    return rooms_now(store, heard, detection, now=now, zone=zone)[room]


def rooms_now(
    store: Store,
    heard: Mapping[str, Heard],
    detection: DetectorSettings,
    *,
    now: datetime,
    zone: tzinfo,
) -> dict[str, dict[str, Any]]:
    """The state now (see `room_now`) of each room of `heard`."""
    listening = {
        room: h.last_at
        for room, h in heard.items()
        if h.status != "offline" and h.last_at is not None
    }
    states: dict[str, State] = {
        room: (NOT_LISTENING, h.last_at) for room, h in heard.items() if room not in listening
    }
    states |= _episodes_open(store, listening, detection)
    quiet = [room for room in listening if room not in states]
    if quiet:
        states |= {room: (QUIET, end) for room, end in _last_ends(store, quiet, now=now).items()}
    return {room: _state(*states[room], now=now, zone=zone) for room in heard}


def _episodes_open(
    store: Store, last_at: Mapping[str, datetime], detection: DetectorSettings
) -> dict[str, State]:
    """Crying since its start, or quiet since its last crying, in each room of `last_at`
    (when each was last heard) whose replay ends in an open episode."""
    starts = _replay_starts(store, last_at, detection)
    if not starts:
        return {}
    found = store.seconds_since(starts, until=max(last_at.values()) + ONE_SECOND)
    states: dict[str, State] = {}
    for room in starts:
        seconds = [s for s in found.get(room, []) if s.at < last_at[room] + ONE_SECOND]
        replayed = replay(seconds, detection, hop_s=DEFAULT_HOP_S)
        episode = replayed.open_episode
        if episode is not None:
            crying = replayed.crying_now
            at = time_at(seconds, episode.start_s if crying else episode.end_s)
            states[room] = (CRYING if crying else QUIET, at)
    return states


def _replay_starts(
    store: Store, last_at: Mapping[str, datetime], detection: DetectorSettings
) -> dict[str, datetime]:
    """Where to start replaying each room of `last_at` that needs it: looking back from its
    last second, up to the hour, further only for the rooms whose last burst of crying scores
    may have begun earlier (a few quiet rooms' seconds read, a crying room's burst)."""
    settled = timedelta(seconds=settled_after_s(detection, hop_s=DEFAULT_HOP_S))
    pending, starts = dict(last_at), {}
    window = min(LOOKBACK, 2 * settled)
    while pending:
        since = min(pending.values()) - window
        crying_at = store.crying_times(list(pending), since, at_least=detection.off_probability)
        for room, last in list(pending.items()):
            times = [
                at for at in crying_at.get(room, []) if last - window <= at < last + ONE_SECOND
            ]
            burst = last_burst(times, last, detection, hop_s=DEFAULT_HOP_S)
            if burst is not None and window < LOOKBACK and burst - (last - window) <= settled:
                continue  # it may have begun before the window: look further back
            del pending[room]
            if burst is not None:
                start = replay_start(burst, detection, hop_s=DEFAULT_HOP_S)
                starts[room] = max(start, last - LOOKBACK)
        window = min(LOOKBACK, 4 * window)
    return starts


def _last_ends(store: Store, rooms: Sequence[str], *, now: datetime) -> dict[str, datetime | None]:
    """When the last episode of the past day of each of `rooms` ended (None: none did)."""
    ends: dict[str, datetime | None] = dict.fromkeys(rooms)
    for episode in store.episodes(None, now - QUIET_LOOKBACK, now):
        if episode.room in ends:
            ends[episode.room] = episode.end
    return ends


def _state(state: str, since: datetime | None, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
    return {
        "state": state,
        "since": local_iso(since, zone=zone),
        "for_s": None if since is None else round(max(0.0, (now - since).total_seconds())),
    }
