"""At start-up, the episode the room's previous run left open, if it did not stop cleanly."""

from __future__ import annotations

from datetime import timedelta

from miserymeter.detect.replay import episode_left_open, time_at
from miserymeter.pipeline import ListenSettings
from miserymeter.records import STOPPED, Episode
from miserymeter.store import Store

# An episode still open at the end of a run started within this much of its last second (the
# seconds of a longer run before that are not read: a start-up reads at most an hour).
LOOKBACK = timedelta(hours=1)
STARTED = "started"


def left_open_by_last_run(store: Store, settings: ListenSettings) -> Episode | None:
    """The episode `settings.room`'s last run had confirmed (its crying_started told) and
    never finished, because that run ended without its `stopped` event; None if none."""
    room = settings.room
    last_event = store.latest_event(room)
    last_second = store.latest_second(room)
    if settings.detector != "model" or last_event is None or last_second is None:
        return None
    if last_event.kind == STOPPED:
        return None
    since = last_second.at - LOOKBACK
    events = store.events(room=room, since=since)
    starts = [e.at for e in events if e.kind == STARTED and e.at <= last_second.at]
    seconds = store.seconds(room, max([since, *starts]), last_second.at + timedelta(seconds=1))
    detected = episode_left_open(seconds, settings.detection, hop_s=settings.hop_s)
    if detected is None:
        return None
    return Episode(
        room=room,
        start=time_at(seconds, detected.start_s),
        end=time_at(seconds, detected.end_s),
        start_offset_s=detected.start_s,
        end_offset_s=detected.end_s,
        confirmed_offset_s=detected.confirmed_s,
        peak_probability=round(detected.peak_probability, 4),
        mean_probability=round(detected.mean_probability, 4),
        detector=settings.detector,
        clip_path=None,
    )
