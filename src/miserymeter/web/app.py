"""`create_app(settings)`: the dashboard's FastAPI app, its guard, and its error answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from miserymeter.errors import AudioError, MiseryMeterError
from miserymeter.inference.labels import crying_label
from miserymeter.inference.model import Classifier
from miserymeter.store import Store, open_store
from miserymeter.web.api import api_router
from miserymeter.web.assets import STATIC_DIR, VersionedStatic, favicon, manifest, plotly_js
from miserymeter.web.calibration import calibration_router
from miserymeter.web.context import Dashboard
from miserymeter.web.level import LiveLevel
from miserymeter.web.login_throttle import LoginThrottle
from miserymeter.web.pages import error_page, pages_router, unavailable_page
from miserymeter.web.params import RequestError
from miserymeter.web.passwords import check_hash
from miserymeter.web.room_paths import SegmentPaths, register_room_convertor
from miserymeter.web.sessions import (
    COOKIE_NAME,
    CSRF_HEADER,
    SESSION_MAX_AGE_S,
    Session,
    SessionSigner,
    csrf_matches,
)
from miserymeter.web.settings import ServeSettings, is_loopback

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_PATHS = ("/login", "/static/", "/manifest.webmanifest", "/favicon.ico")
GZIP_MIN_BYTES = 1000
GZIP_LEVEL = 6  # nearly 9's size for a fraction of a Pi's CPU


def create_app(
    settings: ServeSettings,
    *,
    store: Store | None = None,
    classifier: Classifier | None = None,
    live: LiveLevel | None = None,
) -> FastAPI:
    """The dashboard over `settings`' store, clips and dataset; opens the store now unless
    given `store`, which it leaves open (its opener closes it).

    Inside `listen --serve`, `store` and `classifier` are the listener's own and `live` its
    level meter; `serve` gives the store it opened (whose server may be down yet).
    """
    settings.check()
    if settings.password_hash is not None:
        check_hash(settings.password_hash)
    if classifier is None:
        classifier = Classifier(settings.model_path)
    owned = store is None
    opened = open_store(settings.db) if store is None else store
    dashboard = Dashboard(
        settings=settings,
        store=opened,
        model=classifier.info,
        crying_label=crying_label(classifier.info.labels, None),
        signer=SessionSigner(),
        login_throttle=LoginThrottle(),
        live=live,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            opened.close()

    app = FastAPI(
        title="Misery Meter", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    register_room_convertor()
    app.include_router(api_router(dashboard))
    app.include_router(calibration_router(dashboard, classifier))
    app.include_router(pages_router(dashboard))
    _add_assets(app)
    _add_error_answers(app)
    app.add_middleware(SegmentPaths)  # inside the guard, which sees the path as decoded
    app.middleware("http")(_guard(dashboard))
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    return app


def _add_assets(app: FastAPI) -> None:
    """The static files, plotly.js, the web-app manifest and the favicon."""
    for path, answer in (
        ("/static/plotly.min.js", plotly_js),
        ("/manifest.webmanifest", manifest),
        ("/favicon.ico", favicon),
    ):
        app.add_api_route(path, answer, methods=["GET"], include_in_schema=False)
    app.mount("/static", VersionedStatic(directory=STATIC_DIR), name="static")


def _guard(
    dashboard: Dashboard,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Every request: a session cookie, the password when one is set, CSRF on every change."""
    settings = dashboard.settings
    needs_login = settings.password_hash is not None

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        session = dashboard.signer.load(request.cookies.get(COOKIE_NAME))
        issued = None
        if session is None:
            session = issued = dashboard.signer.new(authenticated=not needs_login)
        request.state.session = session
        request.state.needs_login = needs_login
        path = request.url.path
        response: Response
        if not needs_login and not _host_is_local(request):
            response = _error(400, "this dashboard answers to localhost only (DNS rebinding?)")
        elif needs_login and not session.authenticated and not path.startswith(PUBLIC_PATHS):
            if path.startswith("/api/"):
                response = _error(401, "log in first: open /login")
                issued = None  # the log-in page the script goes to makes the one session
            else:
                target = f"/login?next={quote(_asked(request))}"
                response = RedirectResponse(target, status_code=303)
        elif (
            request.method not in SAFE_METHODS
            and path != "/login"
            and not csrf_matches(session, request.headers.get(CSRF_HEADER))
        ):
            response = _error(403, "missing or wrong CSRF token: reload the page and try again")
        else:
            response = await call_next(request)
        new_session: Session | None = getattr(request.state, "new_session", None) or issued
        if new_session is not None:
            response.set_cookie(
                COOKIE_NAME,
                dashboard.signer.dump(new_session),
                max_age=SESSION_MAX_AGE_S,
                httponly=True,
                samesite="strict",
            )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    return guard


def _asked(request: Request) -> str:
    """The path and query the request asked for, as sent (a room's name stays encoded)."""
    path = request.scope.get("raw_path", b"").decode("ascii", "replace") or request.url.path
    query = request.scope.get("query_string", b"").decode("ascii", "replace")
    return f"{path}?{query}" if query else path


def _host_is_local(request: Request) -> bool:
    """Whether the Host header names this machine (a page of another site cannot rebind to us)."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return is_loopback(name)


def _is_page(request: Request) -> bool:
    """Whether a person asked (a page, answered in HTML), not a script (`/api/`, JSON)."""
    path = request.url.path
    return request.method == "GET" and not path.startswith(("/api/", "/static/"))


def _error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


def _add_error_answers(app: FastAPI) -> None:
    """Known failures as a status and one line: never a 500 with a traceback."""

    @app.exception_handler(RequestError)
    async def request_error(request: Request, e: RequestError) -> Response:
        if _is_page(request):
            return error_page(request, e)
        return _error(e.status_code, e.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> Response:
        if _is_page(request) and e.status_code == 404:
            return error_page(request, RequestError(404, f"no page at {request.url.path[:80]}"))
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(MiseryMeterError)
    async def unavailable(request: Request, e: MiseryMeterError) -> Response:
        if _is_page(request):  # the database is down, locked, full...
            return unavailable_page(request, e)
        return _error(503, str(e))

    @app.exception_handler(AudioError)
    async def audio(_request: Request, e: AudioError) -> JSONResponse:
        return _error(422, str(e))
