"""What every request handler shares: the settings, the open store, the model's facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from miserymeter.clock import iso_utc, utc_now
from miserymeter.inference.model import ModelInfo
from miserymeter.records import Episode
from miserymeter.store import Store
from miserymeter.web.level import LiveLevel
from miserymeter.web.login_throttle import LoginThrottle
from miserymeter.web.now import RoomReplays, room_now
from miserymeter.web.params import RequestError, UnknownRoom, parse_time
from miserymeter.web.review import ReviewTarget
from miserymeter.web.sessions import SessionSigner
from miserymeter.web.settings import ServeSettings

PREFERRED_DETECTOR = "model"
# An episode's page links the room's episodes before and after it this close.
NEIGHBOURS_WITHIN = timedelta(days=31)


@dataclass(frozen=True)
class Dashboard:
    """The app's state, made once by `create_app`; `live` when it runs inside `listen`."""

    settings: ServeSettings
    store: Store
    model: ModelInfo
    crying_label: str
    signer: SessionSigner
    login_throttle: LoginThrottle
    live: LiveLevel | None = None
    replays: RoomReplays = field(default_factory=RoomReplays)  # the rooms' states, kept up

    @property
    def review_target(self) -> ReviewTarget:
        return ReviewTarget(
            self.settings.data_dir, self.model.sample_rate_hz, self.model.clip_duration_ms
        )

    def check_room(self, room: str) -> str:
        """`room` if the store has it (or it is the listener's); else a 404 listing the rooms."""
        if self.live is not None and room == self.live.room:
            return room
        rooms = self.store.rooms()
        if room not in rooms:
            raise UnknownRoom(room, rooms)
        return room

    def said_now(self, room: str) -> dict[str, Any]:
        """The state now of `room` (checked), as `/api/rooms/<room>/now` and the pages say it."""
        return room_now(
            self.store,
            self.check_room(room),
            self.settings.detection,
            now=utc_now(),
            zone=self.settings.zone,
            replays=self.replays,
        )

    def find_episode(self, room: str, start: str) -> Episode:
        """The episode of `room` that started at `start` (to the millisecond, as its URL has it)."""
        at = parse_time(start, name="episode start", zone=self.settings.zone)
        self.check_room(room)
        wanted = iso_utc(at)
        found = [
            e for e in self.store.episodes(room, at, _just_after(at)) if iso_utc(e.start) == wanted
        ]
        if not found:
            raise RequestError(404, f"no episode of {room!r} starts at {wanted}")
        return next((e for e in found if e.detector == PREFERRED_DETECTOR), found[0])

    def neighbours(self, episode: Episode) -> tuple[Episode | None, Episode | None]:
        """The room's episodes just before and just after `episode`, if within 31 days."""
        start, room = episode.start, episode.room
        before = self.store.episodes(room, start - NEIGHBOURS_WITHIN, start)
        after = self.store.episodes(room, _just_after(start), start + NEIGHBOURS_WITHIN)
        earlier = [e for e in before if e.start < start]
        later = [e for e in after if e.start > start]
        return (earlier[-1] if earlier else None, later[0] if later else None)


def _just_after(at: datetime) -> datetime:
    return at + timedelta(milliseconds=1)
