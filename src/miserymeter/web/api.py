"""The JSON API the pages draw from, and the episode audio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from miserymeter.audio.io import read_audio
from miserymeter.clock import utc_now
from miserymeter.nights import night_of
from miserymeter.web.context import Dashboard
from miserymeter.web.health import room_health, rooms_heard
from miserymeter.web.level import room_level
from miserymeter.web.night_reports import last_nights, night_reports, report_json
from miserymeter.web.overview import rooms_overview
from miserymeter.web.params import (
    MAX_NIGHTS,
    RequestError,
    night_range,
    parse_count,
    parse_night,
    parse_time,
    time_range,
)
from miserymeter.web.review import (
    check_label,
    label_folder_name,
    n_waiting,
    review_labels,
    reviewed_as,
    reviewed_labels,
    trained_at,
    undo_review,
    write_review,
)
from miserymeter.web.spectrogram import spectrogram
from miserymeter.web.timeline import (
    episode_json,
    live_seconds,
    local_iso,
    reviewed_json,
    timeline,
)

DEFAULT_NIGHTS = 30

# An episode is written a merge gap after its end (plus the store sink's batching).
STORED_LATE_MARGIN_S = 30.0


def api_router(dashboard: Dashboard) -> APIRouter:
    """Every `/api/...` route over `dashboard`."""
    router = APIRouter(prefix="/api")
    zone = dashboard.settings.zone

    @router.get("/rooms")
    def rooms() -> list[str]:
        return dashboard.store.rooms()

    @router.get("/rooms/{room:room}/timeline")
    def room_timeline(
        room: str, since: str | None = None, until: str | None = None, night: str | None = None
    ) -> JSONResponse:
        now = utc_now()
        span = time_range(since=since, until=until, night=night, zone=zone, now=now)
        checked, data_dir = dashboard.check_room(room), dashboard.settings.data_dir
        data = timeline(
            dashboard.store, checked, span, now=now, zone=zone, reviewed=reviewed_labels(data_dir)
        )
        detection = dashboard.settings.detection
        thresholds = {"on": detection.on_probability, "off": detection.off_probability}
        return JSONResponse({**data, "thresholds": thresholds, "now": local_iso(now, zone)})

    @router.get("/rooms/{room:room}/live")
    def live(room: str, after: str | None = None) -> dict[str, Any]:
        if after is None:
            raise RequestError(400, "send after= (the time of the last second the page shows)")
        checked, now = dashboard.check_room(room), utc_now()
        return live_seconds(
            dashboard.store,
            checked,
            after=parse_time(after, name="after", zone=zone),
            now=now,
            zone=zone,
            heard=rooms_heard(dashboard.store, now=now, zone=zone, room=checked)[checked],
            stored_late_s=dashboard.settings.detection.merge_gap_s + STORED_LATE_MARGIN_S,
        )

    @router.get("/rooms/{room:room}/episodes")
    def episodes(
        room: str, since: str | None = None, until: str | None = None, night: str | None = None
    ) -> list[dict[str, Any]]:
        span = time_range(since=since, until=until, night=night, zone=zone, now=utc_now())
        found = dashboard.store.episodes(dashboard.check_room(room), span.since, span.until)
        reviewed = reviewed_labels(dashboard.settings.data_dir)
        return [reviewed_json(e, zone=zone, reviewed=reviewed) for e in found]

    @router.get("/rooms/{room:room}/nights")
    def nights(room: str, last: str | None = None, n: str | None = None) -> list[dict[str, Any]]:
        last_night = (
            night_of(utc_now(), zone=zone) if last is None else parse_night(last, name="last")
        )
        n_nights = parse_count(n, name="n", default=DEFAULT_NIGHTS, most=MAX_NIGHTS)
        if last_night.toordinal() <= n_nights:
            raise RequestError(400, f"last={last}: too early a date")
        wanted = last_nights(last_night, n_nights)
        for night in (wanted[0], wanted[-1]):
            night_range(night, zone=zone)  # a 400 for dates without a noon
        reports = night_reports(dashboard.store, dashboard.check_room(room), wanted, zone=zone)
        return [report_json(r, zone=zone) for r in reports]

    @router.get("/rooms/{room:room}/nights/{night}")
    def night_report(room: str, night: str) -> dict[str, Any]:
        wanted = parse_night(night)
        span = night_range(wanted, zone=zone)
        dashboard.check_room(room)
        (report,) = night_reports(dashboard.store, room, [wanted], zone=zone)
        found = dashboard.store.episodes(room, span.since, span.until)
        return {
            **report_json(report, zone=zone),
            "episodes": [episode_json(e, zone=zone) for e in found],
        }

    @router.get("/rooms/{room:room}/health")
    def health(room: str) -> dict[str, Any]:
        return room_health(dashboard.store, dashboard.check_room(room), now=utc_now(), zone=zone)

    @router.get("/overview")
    def overview() -> list[dict[str, Any]]:
        detection = dashboard.settings.detection
        return rooms_overview(
            dashboard.store, detection, now=utc_now(), zone=zone, replays=dashboard.replays
        )

    @router.get("/rooms/{room:room}/now")
    def now_state(room: str) -> dict[str, Any]:
        return dashboard.said_now(room)

    @router.get("/rooms/{room:room}/level")
    def level(room: str) -> dict[str, Any]:
        return room_level(
            dashboard.store,
            dashboard.check_room(room),
            live=dashboard.live,
            now=utc_now(),
            zone=zone,
        )

    @router.get("/rooms/{room:room}/episodes/{start}")
    def episode(room: str, start: str) -> dict[str, Any]:
        found = dashboard.find_episode(room, start)
        reviewed = reviewed_as(dashboard.settings.data_dir, found)
        return {**episode_json(found, zone=zone), "reviewed_as": reviewed}

    @router.get("/rooms/{room:room}/episodes/{start}/audio")
    def audio(room: str, start: str) -> FileResponse:
        return FileResponse(_clip(dashboard, room, start), media_type="audio/flac")

    @router.get("/rooms/{room:room}/episodes/{start}/spectrogram")
    def episode_spectrogram(room: str, start: str) -> JSONResponse:
        audio = read_audio(
            _clip(dashboard, room, start), sample_rate_hz=dashboard.model.sample_rate_hz
        )
        found = spectrogram(audio.samples, sample_rate_hz=audio.sample_rate_hz)
        return JSONResponse(
            {
                "times_s": np.round(found.times_s, 3).tolist(),
                "freqs_hz": np.round(found.freqs_hz, 1).tolist(),
                "power_db": np.round(found.power_db).astype(int).tolist(),
            }
        )

    @router.post("/rooms/{room:room}/episodes/{start}/review", status_code=201)
    async def review(room: str, start: str, request: Request) -> dict[str, Any]:
        label = await _label_of(request)
        return await run_in_threadpool(_write_review, dashboard, room, start, label)

    @router.delete("/rooms/{room:room}/episodes/{start}/review")
    def undo(room: str, start: str) -> dict[str, Any]:
        found = dashboard.find_episode(room, start)
        label, removed = undo_review(found, dashboard.settings.data_dir)
        return {"label": label, "files": [str(p) for p in removed]}

    @router.get("/reviews")
    def reviews() -> dict[str, Any]:
        data_dir = dashboard.settings.data_dir
        return {
            "data_dir": str(data_dir),
            "waiting": n_waiting(data_dir, trained_at=trained_at(dashboard.model.metadata)),
            "crying_label": dashboard.crying_label,
            "other_labels": review_labels(data_dir, crying_label=dashboard.crying_label),
        }

    return router


def _clip(dashboard: Dashboard, room: str, start: str) -> Path:
    """The episode's audio file, only from inside the clip folder."""
    found = dashboard.find_episode(room, start)
    if found.clip_path is None:
        raise RequestError(404, "no audio was kept of this episode (listen --no-clips?)")
    root = dashboard.settings.clips_dir.resolve()
    path = (root / found.clip_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise RequestError(404, f"the audio of this episode is not in the clip folder {root}")
    return path


async def _label_of(request: Request) -> str:
    """The review's label, from a JSON body `{"label": ...}`."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("label"), str):
        raise RequestError(400, 'send a JSON body {"label": "crying"} (or another label)')
    return check_label(body["label"])


def _write_review(dashboard: Dashboard, room: str, start: str, label: str) -> dict[str, Any]:
    found = dashboard.find_episode(room, start)
    written = write_review(found, _clip(dashboard, room, start), label, dashboard.review_target)
    folder = label_folder_name(dashboard.review_target.data_dir, label)  # as written there
    return {"label": folder, "files": [str(p) for p in written]}
