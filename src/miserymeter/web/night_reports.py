"""The nightly report: how many episodes, minutes of crying, the longest, first and last wake-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from miserymeter.nights import night_bounds, night_of
from miserymeter.records import Episode
from miserymeter.store import Store


@dataclass(frozen=True)
class NightReport:
    """One night of one room. A wake-up is an episode's start; `listened_s` is time recorded."""

    night: date
    n_episodes: int
    crying_s: float
    longest_s: float
    first_wake: datetime | None
    last_wake: datetime | None
    listened_s: float


def night_reports(
    store: Store, room: str, nights: Sequence[date], *, zone: tzinfo
) -> list[NightReport]:
    """The report of each of `nights` (consecutive, oldest first) from one episode query."""
    since, _ = night_bounds(nights[0], zone=zone)
    _, until = night_bounds(nights[-1], zone=zone)
    by_night: dict[date, list[Episode]] = {night: [] for night in nights}
    for episode in store.episodes(room, since, until):
        by_night.setdefault(night_of(episode.start, zone=zone), []).append(episode)
    return [
        _report(
            night,
            by_night[night],
            listened_s=store.seconds_heard(room, *night_bounds(night, zone=zone)),
        )
        for night in nights
    ]


def rooms_night(store: Store, night: date, *, zone: tzinfo) -> dict[str, NightReport]:
    """The report of `night` of every room, by name, from two queries whatever their number."""
    since, until = night_bounds(night, zone=zone)
    listened = store.seconds_heard_by_room(since, until)
    by_room: dict[str, list[Episode]] = {room: [] for room in listened}
    for episode in store.episodes(None, since, until):
        if night_of(episode.start, zone=zone) == night and episode.room in by_room:
            by_room[episode.room].append(episode)
    return {
        room: _report(night, by_room[room], listened_s=float(heard_s))
        for room, heard_s in listened.items()
    }


def last_nights(last: date, n_nights: int) -> list[date]:
    """`n_nights` nights up to `last`, oldest first."""
    return [last - timedelta(days=k) for k in range(n_nights - 1, -1, -1)]


def _report(night: date, episodes: Sequence[Episode], *, listened_s: float) -> NightReport:
    durations_s = [e.duration_s for e in episodes]
    return NightReport(
        night=night,
        n_episodes=len(episodes),
        crying_s=round(sum(durations_s), 1),
        longest_s=round(max(durations_s, default=0.0), 1),
        first_wake=episodes[0].start if episodes else None,
        last_wake=episodes[-1].start if episodes else None,
        listened_s=listened_s,
    )


def report_json(report: NightReport, *, zone: tzinfo) -> dict[str, Any]:
    """A report as the nights page shows it (wake-ups as local `HH:MM`)."""

    def clock(at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(zone).strftime("%H:%M")

    return {
        "night": report.night.isoformat(),
        "n_episodes": report.n_episodes,
        "crying_s": report.crying_s,
        "longest_s": report.longest_s,
        "first_wake": clock(report.first_wake),
        "last_wake": clock(report.last_wake),
        "listened_s": round(report.listened_s),
    }
