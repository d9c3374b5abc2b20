"""The HTML pages: plain templates with `{{name}}` holes, filled with escaped values."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from miserymeter.errors import MiseryMeterError, StorageError
from miserymeter.events import episode_url
from miserymeter.records import Episode
from miserymeter.web.assets import PLOTLY, REVALIDATE, url
from miserymeter.web.context import Dashboard
from miserymeter.web.params import RequestError, UnknownRoom
from miserymeter.web.passwords import verify_password
from miserymeter.web.sessions import Session, csrf_matches

TEMPLATES = "templates"
STATIC_HOLE = re.compile(r"\{\{static:([\w.-]+)\}\}")  # {{static:name}}: its versioned URL
COMMON_JS = "common.js"
RETRY_PAGE_S = 15  # a page the database could not make loads again after this


@cache
def template(name: str) -> str:
    """A template of the package's `templates/` folder, `{{static:file}}` made its URL."""
    text = resources.files("miserymeter.web").joinpath(TEMPLATES, name).read_text("utf-8")
    return STATIC_HOLE.sub(lambda m: html.escape(url(m.group(1))), text)


def render(
    name: str,
    request: Request,
    *,
    title: str,
    room: str = "",
    scripts: Sequence[str] = (),
    markup: Mapping[str, str] | None = None,
    said_now: Mapping[str, Any] | None = None,
    status_code: int = 200,
    refresh_s: int | None = None,
    **values: str,
) -> HTMLResponse:
    """Page `name` inside the layout, every value HTML-escaped; `markup`: holes filled with
    HTML made here. `scripts` are static files run in order once the page is parsed (plotly
    first on the pages that draw charts). `said_now`, the room's state now as its API tells it,
    comes with the page: the first script says it at once, not once a request returns (on a
    slow phone, after plotly has run). `refresh_s`: the browser loads the page again after it."""
    session: Session = request.state.session
    common = {
        "title": title,
        "room": room,
        "room_url": quote(room, safe=""),
        "csrf": session.csrf_token,
        "no_logout": "" if request.state.needs_login and session.authenticated else " hidden",
        "no_room": "" if room else " hidden",
    }
    body = _fill(template(name), {**common, **values})
    for hole, made in (markup or {}).items():
        body = body.replace("{{" + hole + "}}", made)
    page = _fill(template("layout.html"), common)
    page = page.replace("{{scripts}}", _script_tags([COMMON_JS, *scripts]))
    page = page.replace("{{said_now}}", _json_data("now-first", said_now))
    refresh = "" if refresh_s is None else f'<meta http-equiv="refresh" content="{refresh_s}">'
    page = page.replace("{{refresh}}", refresh)
    return HTMLResponse(
        page.replace("{{body}}", body),
        status_code=status_code,
        headers={"Cache-Control": REVALIDATE},
    )


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value))
    return text


def _json_data(element_id: str, data: Mapping[str, Any] | None) -> str:
    """`data` as a JSON block a script reads (never runs), or nothing."""
    if data is None:
        return ""
    text = json.dumps(data).replace("<", "\\u003c")  # no "</script>" inside
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _script_tags(names: Sequence[str]) -> str:
    return "\n".join(f'<script defer src="{html.escape(url(name))}"></script>' for name in names)


def error_page(request: Request, e: RequestError) -> HTMLResponse:
    """A request a person made that cannot be answered, as a page they can go on from."""
    if not isinstance(e, UnknownRoom):
        title = "Not found" if e.status_code == 404 else "Cannot show this page"
        return render(
            "error.html", request, title=title, status_code=e.status_code, message=e.message
        )
    links = ", ".join(
        f'<a href="/rooms/{html.escape(quote(r, safe=""))}">{html.escape(r)}</a>' for r in e.rooms
    )
    return render(
        "unknown_room.html",
        request,
        title="No such room",
        status_code=e.status_code,
        markup={"room_links": links or "none yet: start <code>miserymeter listen</code>"},
        asked=e.room,
    )


def unavailable_page(request: Request, e: MiseryMeterError) -> HTMLResponse:
    """A page the dashboard cannot make now (its database is down, locked, full...): why, in
    its one line, on a page that asks again by itself every `RETRY_PAGE_S`."""
    title = "The dashboard cannot read its database"
    if not isinstance(e, StorageError):
        title = "The dashboard cannot show this page now"
    page = render(
        "unavailable.html",
        request,
        title=title,
        status_code=503,
        refresh_s=RETRY_PAGE_S,
        message=str(e),
        retry_s=str(RETRY_PAGE_S),
    )
    page.headers["Retry-After"] = str(RETRY_PAGE_S)
    return page


# A room's pages that need nothing but the room: the path after /rooms/<room>, the template,
# what the title says after the room's name, and the page's scripts.
ROOM_PAGES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("", "timeline.html", "timeline", (PLOTLY, "timeline.js")),
    ("/nights", "nights.html", "nights", (PLOTLY, "nights.js")),
    ("/calibrate", "calibrate.html", "calibrate", (PLOTLY, "calibrate.js")),
    ("/level", "level.html", "test the microphone", ("level.js",)),
)


def pages_router(dashboard: Dashboard) -> APIRouter:
    """The pages a parent opens."""
    router = APIRouter()

    def room_page(name: str, request: Request, room: str, **given: Any) -> HTMLResponse:
        """A room's page, with its state now (`room` checked there)."""
        return render(name, request, room=room, said_now=dashboard.said_now(room), **given)

    @router.get("/", response_model=None)
    def home(request: Request) -> Response:
        rooms = dashboard.store.rooms()
        if len(rooms) == 1:  # a family's one nursery: its page
            return RedirectResponse(f"/rooms/{quote(rooms[0], safe='')}", status_code=303)
        if rooms:
            return render("overview.html", request, title="All rooms", scripts=("overview.js",))
        return render("empty.html", request, title="Misery Meter")

    def plain_room_page(
        template: str, about: str, scripts: tuple[str, ...]
    ) -> Callable[[Request, str], HTMLResponse]:
        def page(request: Request, room: str) -> HTMLResponse:
            return room_page(template, request, room, title=f"{room}: {about}", scripts=scripts)

        return page

    for path, template, about, scripts in ROOM_PAGES:
        router.add_api_route(
            f"/rooms/{{room:room}}{path}",
            plain_room_page(template, about, scripts),
            methods=["GET"],
            name=template.removesuffix(".html"),
        )

    @router.get("/rooms/{room:room}/episodes/{start}")
    def episode(request: Request, room: str, start: str) -> HTMLResponse:
        found = dashboard.find_episode(room, start)
        return room_page(
            "episode.html",
            request,
            room,
            title=f"{room}: crying at {start}",
            scripts=(PLOTLY, "episode.js"),
            markup={"episode_nav": _episode_nav(*dashboard.neighbours(found))},
            start=start,
            clip=str(found.clip_path is not None).lower(),
        )

    @router.get("/login")
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return render("login.html", request, title="Log in", next=_local(next), message="")

    @router.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        target = _local(fields.get("next", "/"))
        if not csrf_matches(request.state.session, fields.get("csrf_token")):
            return render(
                "login.html",
                request,
                title="Log in",
                next=target,
                message="The page was too old: try again.",
                status_code=403,
            )
        address = request.client.host if request.client is not None else ""
        throttle = dashboard.login_throttle
        if wait_s := throttle.wait_s(address):
            wait = math.ceil(wait_s)
            page = render(
                "login.html",
                request,
                title="Log in",
                next=target,
                message=f"Too many wrong passwords: try again in {wait} s.",
                status_code=429,
            )
            page.headers["Retry-After"] = str(wait)
            return page
        password_hash = dashboard.settings.password_hash
        if password_hash is None or not verify_password(fields.get("password", ""), password_hash):
            throttle.missed(address)
            return render(
                "login.html",
                request,
                title="Log in",
                next=target,
                message="Wrong password.",
                status_code=401,
            )
        throttle.succeeded(address)
        request.state.new_session = dashboard.signer.new(authenticated=True)
        return RedirectResponse(target, status_code=303)

    @router.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        dashboard.signer.revoke(request.state.session)
        request.state.new_session = dashboard.signer.new(authenticated=False)
        return RedirectResponse("/login", status_code=303)

    return router


def _episode_nav(previous: Episode | None, following: Episode | None) -> str:
    """Links to the room's episodes before and after this one (a blank where there is none)."""
    links = [
        f'<a id="{name}" href="{html.escape(episode_url("", e.room, e.start) or "")}">{text}</a>'
        if e is not None
        else "<span></span>"
        for name, e, text in (
            ("previous", previous, "\N{LEFTWARDS ARROW} previous"),
            ("next", following, "next \N{RIGHTWARDS ARROW}"),
        )
    ]
    return "".join(links)


def _local(target: str) -> str:
    """A redirect target on this site only (never `//elsewhere` or `https://...`)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
