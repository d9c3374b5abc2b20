"""What a parent asks first: is the baby crying now? "Crying now" since when, "quiet" since
the last crying ended, or "not listening" since the room was last heard.

The store holds an episode only once it has ended (after the merge gap), so the one in
progress is found by replaying the detector, with the listener's settings, over the room's
last hour of stored seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from miserymeter.constants import DEFAULT_HOP_S
from miserymeter.detect.replay import replay, time_at
from miserymeter.detect.settings import DetectorSettings
from miserymeter.store import Store
from miserymeter.web.health import input_status

LOOKBACK = timedelta(hours=1)
# "Quiet since" the last crying of the past day; quiet longer than that is just quiet.
QUIET_LOOKBACK = timedelta(days=1)
CRYING, QUIET, NOT_LISTENING = "crying", "quiet", "not listening"


def room_now(
    store: Store, room: str, detection: DetectorSettings, *, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """The room's state now, since when (local ISO time, None: all night) and for how long."""
    status, latest = input_status(store, room, now=now, zone=zone)
    if status == "offline" or latest is None:
        since = None if latest is None else latest.at
        return _state(NOT_LISTENING, since, now=now, zone=zone)
    seconds = store.seconds(room, latest.at - LOOKBACK, latest.at + timedelta(seconds=1))
    replayed = replay(seconds, detection, hop_s=DEFAULT_HOP_S)
    if replayed.open_episode is not None:
        if replayed.crying_now:
            return _state(
                CRYING, time_at(seconds, replayed.open_episode.start_s), now=now, zone=zone
            )
        return _state(QUIET, time_at(seconds, replayed.open_episode.end_s), now=now, zone=zone)
    recent = store.episodes(room, now - QUIET_LOOKBACK, now)
    return _state(QUIET, recent[-1].end if recent else None, now=now, zone=zone)


def _state(state: str, since: datetime | None, *, now: datetime, zone: tzinfo) -> dict[str, Any]:
    return {
        "state": state,
        "since": None if since is None else since.astimezone(zone).isoformat(timespec="seconds"),
        "for_s": None if since is None else round(max(0.0, (now - since).total_seconds())),
    }
