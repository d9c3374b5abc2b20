"""The timeline's data: loudness and crying probability over a range, with its episodes.

A range of up to `SECONDS_UP_TO_S` (the page zoomed in) comes second by second, one of up to
`MINUTES_UP_TO_S` (a night or two) by the minute (720 points a night), a longer one by the
hour, summed up in the database: crying as the seconds in each minute or hour that counted as
crying (what a chart can draw against minutes per hour), never a share against per-second
thresholds. `gaps` are the stretches up to now that no listener heard, so a chart draws them as
gaps. Times are local wall-clock times without an offset, as plotly draws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from miserymeter.clock import iso_utc
from miserymeter.detect.minutes import CRYING_PROBABILITY
from miserymeter.events import episode_url
from miserymeter.records import Episode, MinuteSummary
from miserymeter.store import Store, Summary
from miserymeter.web.health import OFFLINE_AFTER_S, Heard
from miserymeter.web.params import TimeRange
from miserymeter.web.review import review_label

SECONDS_UP_TO_S = 3600.0
MINUTES_UP_TO_S = 2 * 86_400.0
SECOND_S = 1.0
MINUTE_S = 60.0
HOUR_S = 3600.0
# A page that follows the room live asks for the seconds after its last one, at most these.
LIVE_UP_TO_S = 600.0
# Times on the page are to the millisecond: the second shown last is before this much after.
SHOWN_PRECISION = timedelta(milliseconds=1)


def local_iso(at: datetime, zone: tzinfo) -> str:
    """`at` as local wall-clock time to the millisecond, without an offset (plotly's dates)."""
    return at.astimezone(zone).replace(tzinfo=None).isoformat(timespec="milliseconds")


def timeline(
    store: Store,
    room: str,
    span: TimeRange,
    *,
    now: datetime,
    zone: tzinfo,
    reviewed: Mapping[str, str],
) -> dict[str, Any]:
    """Loudness and crying over `span`: per second when it is short, else per minute or hour;
    its episodes with the label each was reviewed as (`reviewed`: by review stem)."""
    data: dict[str, Any]
    heard: list[tuple[datetime, float]]  # each point's start and the seconds it covers
    if span.duration_s <= SECONDS_UP_TO_S:
        seconds = store.seconds(room, span.since, span.until)
        heard = [(s.at, SECOND_S) for s in seconds]
        data = {
            "resolution": "seconds",
            "times": [local_iso(s.at, zone) for s in seconds],
            "level_dbfs": [s.level_dbfs for s in seconds],
            "crying_probability": [s.crying_probability for s in seconds],
        }
    else:
        summaries: Sequence[MinuteSummary | Summary]
        if span.duration_s <= MINUTES_UP_TO_S:
            summaries = store.minutes(room, span.since, span.until)
        else:
            summaries = store.summaries(room, span.since, span.until, bucket_s=HOUR_S)
        heard = [(m.start, float(m.n_seconds)) for m in summaries]
        data = _summed(summaries, hourly=span.duration_s > MINUTES_UP_TO_S, zone=zone)
    step_s = {"seconds": SECOND_S, "minutes": MINUTE_S, "hours": HOUR_S}[data["resolution"]]
    gaps = not_heard(heard, since=span.since, until=min(span.until, now), step_s=step_s)
    episodes = store.episodes(room, span.since, span.until)
    return {
        "room": room,
        "since": local_iso(span.since, zone),
        "until": local_iso(span.until, zone),
        **data,
        "gaps": [{"start": local_iso(a, zone), "end": local_iso(b, zone)} for a, b in gaps],
        "episodes": [reviewed_json(e, zone=zone, reviewed=reviewed) for e in episodes],
    }


def not_heard(
    heard: Iterable[tuple[datetime, float]], *, since: datetime, until: datetime, step_s: float
) -> list[tuple[datetime, datetime]]:
    """The stretches of `since`..`until` that no point covers, more than half a step long.
    `heard` is each point's start and the seconds heard from it, in time order."""
    gaps = []
    heard_until = since
    for start, heard_s in [*heard, (until, 0.0)]:
        if (min(start, until) - heard_until).total_seconds() > step_s / 2:
            gaps.append((heard_until, min(start, until)))
        heard_until = max(heard_until, start + timedelta(seconds=min(heard_s, step_s)))
    return gaps


# The earliest time a datetime holds: `after` may be any date a client sends.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def live_seconds(
    store: Store,
    room: str,
    *,
    after: datetime,
    now: datetime,
    zone: tzinfo,
    heard: Heard,
    stored_late_s: float = 0.0,
) -> dict[str, Any]:
    """The seconds of `room` stored after `after` (a time the page showed last; at most the
    last `LIVE_UP_TO_S`), and the episodes that ended since: what a live page adds. An episode
    is stored only once the detector's merge gap has passed after its end, so episodes that
    ended up to `stored_late_s` before `after` come too (the page knows them by id). `gaps`
    are the stretches since then that no listener heard (`live_gaps`)."""
    until = now + timedelta(minutes=1)  # a listener's clock a little ahead of ours
    after = min(after, until)
    since = max(after + SHOWN_PRECISION, now - timedelta(seconds=LIVE_UP_TO_S))
    seconds = store.seconds(room, since, until)
    late = timedelta(seconds=stored_late_s)
    episodes = store.episodes(room, max(after, EARLIEST + late) - late, until)
    gaps = live_gaps([s.at for s in seconds], since=since, now=now, heard=heard)
    return {
        "room": room,
        "now": local_iso(now, zone),
        "times": [local_iso(s.at, zone) for s in seconds],
        "level_dbfs": [s.level_dbfs for s in seconds],
        "crying_probability": [s.crying_probability for s in seconds],
        "episodes": [episode_json(e, zone=zone) for e in episodes],
        "gaps": [{"start": local_iso(a, zone), "end": local_iso(b, zone)} for a, b in gaps],
    }


def live_gaps(
    times: Sequence[datetime], *, since: datetime, now: datetime, heard: Heard
) -> list[tuple[datetime, datetime]]:
    """The stretches of `since`..`now` between the seconds heard at `times` longer than a room
    stays listening without a second (`OFFLINE_AFTER_S`); and, while the room is offline (its
    listener stopped), the stretch from its last second to now, however short or old."""
    heard_s = ((at, SECOND_S) for at in times)
    gaps = not_heard(heard_s, since=since, until=now, step_s=2 * OFFLINE_AFTER_S)
    if heard.status == "offline":
        heard_until = since if heard.last_at is None else heard.last_at + timedelta(seconds=1)
        gaps = [g for g in gaps if g[1] < now]  # the stretch since the last second, if long
        if heard_until < now:
            gaps.append((heard_until, now))
    return gaps


def _summed(
    summaries: Sequence[MinuteSummary | Summary], *, hourly: bool, zone: tzinfo
) -> dict[str, Any]:
    """Minutes or hours: mean and loudest level, and the seconds counted as crying."""
    return {
        "resolution": "hours" if hourly else "minutes",
        "times": [local_iso(m.start, zone) for m in summaries],
        "level_dbfs": [round(m.mean_level_dbfs, 2) for m in summaries],
        "level_max_dbfs": [round(m.max_level_dbfs, 2) for m in summaries],
        "crying_s": [round(m.crying_fraction * m.n_seconds) for m in summaries],
        "heard_s": sum(m.n_seconds for m in summaries),  # a minute heard in part: its part
        # A live page adds seconds to the last minute: those from this probability are crying.
        "crying_from_probability": CRYING_PROBABILITY,
    }


def reviewed_json(episode: Episode, *, zone: tzinfo, reviewed: Mapping[str, str]) -> dict[str, Any]:
    """`episode_json`, with the label the episode was reviewed as (None: not reviewed)."""
    return {**episode_json(episode, zone=zone), "reviewed_as": review_label(reviewed, episode)}


def episode_json(episode: Episode, *, zone: tzinfo) -> dict[str, Any]:
    """An episode as the pages show it; `id` is its start as the episode's URL has it."""
    return {
        "id": iso_utc(episode.start),
        "room": episode.room,
        "start": local_iso(episode.start, zone),
        "end": local_iso(episode.end, zone),
        "duration_s": round(episode.duration_s, 1),
        "peak_probability": episode.peak_probability,
        "mean_probability": episode.mean_probability,
        "detector": episode.detector,
        "has_audio": episode.clip_path is not None,
        "url": episode_url("", episode.room, episode.start),
    }
