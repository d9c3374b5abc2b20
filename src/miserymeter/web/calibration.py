"""The calibration page's data: the room's quiet level, the family's clips scored by the model
and judged by episode (a reviewed episode by its highest clip), and the thresholds they suggest
with what each would cost (false alarms, missed cries)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from miserymeter.calibrate.clip_scores import ClipScorer
from miserymeter.calibrate.quiet_room import measure_quiet_room
from miserymeter.calibrate.thresholds import (
    N_BINS,
    Calibration,
    calibrate,
    config_lines,
    episode_peaks,
    histogram,
)
from miserymeter.clock import utc_now
from miserymeter.constants import DEFAULT_GATE_DB
from miserymeter.inference.model import Classifier
from miserymeter.prepare.layout import labelled_clips
from miserymeter.web.context import Dashboard
from miserymeter.web.history import RoomHistory, SoundHistory
from miserymeter.web.params import RequestError, TimeRange, parse_count, parse_time
from miserymeter.web.review import REVIEW_PREFIX, stem_of
from miserymeter.web.timeline import local_iso

QUIET_DEFAULT_S = 600
QUIET_MOST_S = 12 * 3600
# Scoring takes a few ms a clip: the newest this many are scored, the rest left out.
MAX_CLIPS = 2000
CLIP_CHOICES = ("reviewed", "all")


def calibration_router(dashboard: Dashboard, classifier: Classifier) -> APIRouter:
    """`/api/rooms/{room}/quiet` and `/api/rooms/{room}/calibration`."""
    router = APIRouter(prefix="/api")
    settings = dashboard.settings
    scorer = ClipScorer(classifier, crying_label=dashboard.crying_label)
    history = RoomHistory(
        dashboard.store,
        zone=settings.zone,
        gate_db=settings.gate_db if settings.gate_db is not None else DEFAULT_GATE_DB,
        merge_gap_s=settings.detection.merge_gap_s,
    )

    @router.get("/rooms/{room:room}/quiet")
    def quiet(
        room: str, last_s: str | None = None, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        dashboard.check_room(room)
        latest = dashboard.store.latest_second(room)
        span = quiet_span(
            last_s, since, until, latest=None if latest is None else latest.at, dashboard=dashboard
        )
        levels = [level for _, level in dashboard.store.levels(room, span.since, span.until)]
        found = measure_quiet_room(levels, gate_db=settings.gate_db)
        return {
            "room": room,
            "since": local_iso(span.since, settings.zone),
            "until": local_iso(span.until, settings.zone),
            **asdict(found),
        }

    @router.get("/rooms/{room:room}/calibration")
    def room_calibration(room: str, clips: str = "reviewed") -> dict[str, Any]:
        dashboard.check_room(room)
        if clips not in CLIP_CHOICES:
            raise RequestError(400, f"clips={clips[:40]!r}: send clips=reviewed or clips=all")
        listed, n_found = dataset_clips(settings.data_dir, reviewed_only=clips == "reviewed")
        listed = one_label_each(listed)
        scores = scorer.scores([path for path, _ in listed])
        scored = [
            (label == dashboard.crying_label, episode_of(path), s)
            for (path, label), s in zip(listed, scores, strict=True)
            if s is not None
        ]
        crying = episode_peaks((episode, s) for is_crying, episode, s in scored if is_crying)
        other = episode_peaks((episode, s) for is_crying, episode, s in scored if not is_crying)
        n_crying_clips = sum(is_crying for is_crying, _, _ in scored)
        sounds = history.sounds(room, now=utc_now())
        found = calibrate(
            crying, other, sounds_per_night=sounds.sounds_per_night, current=settings.detection
        )
        return {
            "room": room,
            "clips": clips,
            "data_dir": str(settings.data_dir),
            "crying_label": dashboard.crying_label,
            "n_found": n_found,
            "n_scored": len(listed),
            "n_unreadable": sum(s is None for s in scores),
            "n_crying_clips": n_crying_clips,
            "n_other_clips": len(scored) - n_crying_clips,
            "histogram": {
                "edges": [round(k / N_BINS, 3) for k in range(N_BINS + 1)],
                "crying": histogram(crying),
                "other": histogram(other),
            },
            "history": asdict(sounds),
            "current": {
                "on": settings.detection.on_probability,
                "off": settings.detection.off_probability,
            },
            **calibration_json(
                found, sounds=sounds, window_s=classifier.info.clip_duration_ms / 1000
            ),
        }

    return router


def quiet_span(
    last_s: str | None,
    since: str | None,
    until: str | None,
    *,
    latest: datetime | None,
    dashboard: Dashboard,
) -> TimeRange:
    """The period to measure: `since=`+`until=`, or the last `last_s=` seconds stored."""
    zone = dashboard.settings.zone
    if since is not None or until is not None:
        if last_s is not None:
            raise RequestError(400, "send either last_s= or since= and until=, not both")
        if since is None or until is None:
            raise RequestError(400, "send both since= and until= (or last_s=)")
        span = TimeRange(
            parse_time(since, name="since", zone=zone), parse_time(until, name="until", zone=zone)
        )
        if span.until <= span.since:
            raise RequestError(400, f"until={until[:40]!r} must come after since={since[:40]!r}")
        if span.duration_s > QUIET_MOST_S:
            raise RequestError(
                400, f"the period is too long: measure at most {QUIET_MOST_S // 3600} h"
            )
        return span
    n_s = parse_count(last_s, name="last_s", default=QUIET_DEFAULT_S, most=QUIET_MOST_S)
    if latest is None:
        raise RequestError(404, "nothing was stored for this room yet: start `miserymeter listen`")
    end = latest + timedelta(microseconds=1)
    return TimeRange(end - timedelta(seconds=n_s), end)


def dataset_clips(data_dir: Path, *, reviewed_only: bool) -> tuple[list[tuple[Path, str]], int]:
    """The newest `MAX_CLIPS` (clip, label) of the dataset `data_dir`, as training finds them
    (only the reviewed ones, `review-*`, if asked), by label and path; and how many there are."""
    found = [
        (path, label)
        for path, label in (labelled_clips(data_dir) if data_dir.is_dir() else [])
        if not reviewed_only or path.name.startswith(REVIEW_PREFIX)
    ]
    newest = sorted(found, key=lambda clip: _modified_s(clip[0]), reverse=True)[:MAX_CLIPS]
    return sorted(newest), len(found)


def episode_of(clip: Path) -> str:
    """The episode a clip belongs to: its review's (every clip of a reviewed episode shares the
    stem its review names them by); a clip the dashboard did not write is one of its own."""
    stem = stem_of(clip)
    return stem if stem is not None else str(clip)


def one_label_each(listed: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The (clip, label)s, sorted by path, with every episode under one label: one reviewed
    twice with different labels (copies of the dataset merged) counts under its first label's
    folder, as its review shows it, not once on each side."""
    first: dict[str, str] = {}
    for path, label in listed:
        first.setdefault(episode_of(path), label)
    return [(path, label) for path, label in listed if first[episode_of(path)] == label]


def _modified_s(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def calibration_json(
    found: Calibration, *, sounds: SoundHistory, window_s: float
) -> dict[str, Any]:
    """The recommendation, its candidates and the sentence that explains the estimate."""
    counts = {
        "n_crying": found.n_crying,
        "n_other": found.n_other,
        "needed": {"crying": found.n_crying_needed, "other": found.n_other_needed},
    }
    if found.recommended is None:
        return {
            **counts,
            "recommended": None,
            "candidates": [],
            "explanation": needed_sentence(found, window_s=window_s),
        }
    recommended = found.recommended
    return {
        **counts,
        "recommended": {
            "on": recommended.on_probability,
            "off": recommended.off_probability,
            "config": config_lines(recommended),
        },
        "candidates": [
            {
                "on": c.on_probability,
                "n_missed": c.n_crying_missed,
                "missed_share": round(c.missed_share, 3),
                "n_other_above": c.n_other_above,
                "false_share": round(c.false_share, 3),
                "false_alarms_per_night": None
                if c.false_alarms_per_night is None
                else round(c.false_alarms_per_night, 2),
            }
            for c in found.candidates
        ],
        "explanation": estimate_sentence(sounds, window_s=window_s),
    }


def needed_sentence(found: Calibration, *, window_s: float) -> str:
    """How many more episodes to review before thresholds can be recommended."""
    more = [
        f"{n} more {side} episode(s)"
        for n, side in ((found.n_crying_needed, "crying"), (found.n_other_needed, "not-crying"))
        if n
    ]
    return (
        f"Too few reviewed episodes to recommend thresholds: review {' and '.join(more)} "
        f"(a clip of the dataset that no review wrote counts as one; an episode counts once, "
        f"however many {window_s:g} s clips it gives)."
    )


def estimate_sentence(sounds: SoundHistory, *, window_s: float) -> str:
    """The estimate in one sentence, with the room's figure when its nights are known."""
    judged = (
        f"an episode counts as found when one of its {window_s:g} s clips reaches the "
        "threshold (the pauses between cries are not missed crying); the detector also smooths "
        "the scores and waits for a cry to last, so both figures are rough"
    )
    if sounds.sounds_per_night is None:
        return (
            "Missed cries are the share of your crying episodes below the threshold and false "
            "alarms the share of your other episodes at or above it (per night once the room "
            f"has a night stored); {judged}."
        )
    return (
        f"False alarms per night ≈ the {sounds.sounds_per_night:.1f} other sounds a night "
        f"brings here (louder than listen's gate, outside episodes; mean over "
        f"{sounds.n_nights} night(s) heard) times the share of your not-crying episodes at or "
        f"above the threshold, and missed cries ≈ the share of your crying episodes below it; "
        f"{judged}."
    )
