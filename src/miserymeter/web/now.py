"""What a parent asks first: is the baby crying now? "Crying now" since when, "quiet" since
the last crying ended, or "not listening" since the room was last heard.

The store holds an episode only once it has ended (after the merge gap), so the one in
progress is found by replaying the detector, with the listener's settings, over the room's
last hour of stored seconds (the episode open is said too, even quiet in its merge gap: it
counts tonight before it is stored): only from the start of its last burst of crying scores,
which ends the same (`replay_start`), and not at all in a room with none lately. All rooms'
states come from the same few queries, whatever their number (up to four looks back for the
bursts).

A dashboard asks every second: `RoomReplays` keeps each listening room's replay between
answers (`RollingReplay`), so an answer reads and replays only the seconds stored since the
last, not the whole burst again (a room's listener stores its seconds in time order). A room
is replayed from scratch when it starts being heard, and when its burst began so long ago
(near the hour) that the replay from scratch starts at the hour instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from miserymeter.constants import DEFAULT_HOP_S
from miserymeter.detect.replay import (
    Replayed,
    RollingReplay,
    burst_lead,
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
ONE_MICROSECOND = timedelta(microseconds=1)

# The episode open (confirmed, not yet stored, maybe in its merge gap): its start, and its
# crying so far (from its start to its last crying), what it counts for once stored.
Open = tuple[datetime, float]
State = tuple[str, datetime | None, Open | None]  # the state, since when, the episode open


class RoomReplays:
    """Each listening room's `RollingReplay`, kept from one answer to the next."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rolling: dict[str, RollingReplay] = {}

    def keep(self, room: str, rolling: RollingReplay, *, last_at: datetime) -> bool:
        """Keep `rolling` for `room`, heard last at `last_at`, unless its burst began so near
        the hour, or before, that a replay from scratch would start at the hour instead."""
        burst = rolling.burst_at(last_at)
        settled = timedelta(seconds=settled_after_s(rolling.settings, hop_s=rolling.hop_s))
        if burst is None or burst - (last_at - LOOKBACK) > settled:
            self.rolling[room] = rolling
            return True
        self.rolling.pop(room, None)
        return False

    def forget(self, rooms: Collection[str]) -> None:
        """Drop the replays of `rooms` (no longer heard)."""
        for room in rooms:
            self.rolling.pop(room, None)


def room_now(
    store: Store,
    room: str,
    detection: DetectorSettings,
    *,
    now: datetime,
    zone: tzinfo,
    replays: RoomReplays,
) -> dict[str, Any]:
    """The room's state now, since when (local ISO time, None: all night) and for how long."""
    heard = rooms_heard(store, now=now, zone=zone, room=room)
    if room not in heard:  # a listener's own room, before its first second is stored
        return _state(NOT_LISTENING, None, None, now=now, zone=zone)
    return rooms_now(store, heard, detection, now=now, zone=zone, replays=replays)[room]


def rooms_now(
    store: Store,
    heard: Mapping[str, Heard],
    detection: DetectorSettings,
    *,
    now: datetime,
    zone: tzinfo,
    replays: RoomReplays,
) -> dict[str, dict[str, Any]]:
    """The state now (see `room_now`) of each room of `heard`."""
    listening = {
        room: h.last_at
        for room, h in heard.items()
        if h.status != "offline" and h.last_at is not None
    }
    states: dict[str, State] = {
        room: (NOT_LISTENING, h.last_at, None) for room, h in heard.items() if room not in listening
    }
    with replays.lock:
        replays.forget(states)
        states |= _episodes_open(store, listening, detection, replays)
    quiet = [room for room in listening if room not in states]
    if quiet:
        ends = _last_ends(store, quiet, now=now)
        states |= {room: (QUIET, end, None) for room, end in ends.items()}
    return {room: _state(*states[room], now=now, zone=zone) for room in heard}


def _episodes_open(
    store: Store,
    last_at: Mapping[str, datetime],
    detection: DetectorSettings,
    replays: RoomReplays,
) -> dict[str, State]:
    """Crying since its start, or quiet since its last crying, in each room of `last_at`
    (when each was last heard) whose replay ends in an open episode."""
    rolled = _rolled_on(store, last_at, replays)
    afresh = {room: at for room, at in last_at.items() if room not in rolled}
    states = _replayed_afresh(store, afresh, detection, replays) if afresh else {}
    for room in last_at:
        rolling = replays.rolling.get(room)
        state = None if rolling is None else _open_state(rolling.replayed(), rolling.time_at)
        if state is not None:
            states[room] = state
    return states


def _rolled_on(store: Store, last_at: Mapping[str, datetime], replays: RoomReplays) -> set[str]:
    """The rooms of `last_at` whose kept replay goes on with the seconds stored since (one
    query for them all); the others' are dropped."""
    rolling = {room: r for room, r in replays.rolling.items() if room in last_at}
    if not rolling:
        return set()
    since = {room: r.last_at + ONE_MICROSECOND for room, r in rolling.items()}
    found = store.seconds_since(since, until=max(last_at.values()) + ONE_SECOND)
    rolled = set()
    for room, r in rolling.items():
        new = [s for s in found.get(room, []) if s.at < last_at[room] + ONE_SECOND]
        if r.extend(new) and replays.keep(room, r, last_at=last_at[room]):
            rolled.add(room)
        else:
            replays.forget([room])
    return rolled


def _replayed_afresh(
    store: Store,
    last_at: Mapping[str, datetime],
    detection: DetectorSettings,
    replays: RoomReplays,
) -> dict[str, State]:
    """Replay each room of `last_at` from its last burst (a room with none: from a burst's
    lead before its last second, for the next burst) and keep the replay; the states of those
    whose replay cannot be kept (begun at the hour)."""
    starts = _replay_starts(store, last_at, detection)
    lead = burst_lead(detection, hop_s=DEFAULT_HOP_S)
    since = {room: starts.get(room, last - lead) for room, last in last_at.items()}
    found = store.seconds_since(since, until=max(last_at.values()) + ONE_SECOND)
    states: dict[str, State] = {}
    for room, last in last_at.items():
        seconds = [s for s in found.get(room, []) if s.at < last + ONE_SECOND]
        rolling = RollingReplay(detection, hop_s=DEFAULT_HOP_S, since=since[room])
        if rolling.extend(seconds) and replays.keep(room, rolling, last_at=last):
            continue
        replayed = replay(seconds, detection, hop_s=DEFAULT_HOP_S)
        state = _open_state(replayed, partial(time_at, seconds))
        if state is not None:
            states[room] = state
    return states


def _open_state(replayed: Replayed, time_at: Callable[[float], datetime]) -> State | None:
    """Crying since the open episode's start, or quiet since its last crying (in the merge
    gap, which may yet go on with more crying), and the episode (None: none open)."""
    episode = replayed.open_episode
    if episode is None:
        return None
    crying = replayed.crying_now
    start = time_at(episode.start_s)
    since = start if crying else time_at(episode.end_s)
    return (CRYING if crying else QUIET, since, (start, episode.end_s - episode.start_s))


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


def _state(
    state: str, since: datetime | None, episode: Open | None, *, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    return {
        "state": state,
        "since": local_iso(since, zone=zone),
        "for_s": None if since is None else round(max(0.0, (now - since).total_seconds())),
        "open_episode": None
        if episode is None
        else {"start": local_iso(episode[0], zone=zone), "crying_s": round(episode[1])},
    }
