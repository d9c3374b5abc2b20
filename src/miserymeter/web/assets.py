"""The dashboard's static files, fast on a phone: URLs versioned by a hash of their content
and cached for a year, plotly.js gzipped once; the web-app manifest and the icons a phone puts
on its home screen."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from miserymeter.web.params import RequestError

STATIC_DIR = Path(__file__).parent / "static"
PLOTLY = "plotly.min.js"
IMMUTABLE = "public, max-age=31536000, immutable"  # the URL changes with the content
REVALIDATE = "no-cache"  # may be kept, but asked again each time
FAVICON_CACHE = "public, max-age=86400"
THEME_COLOUR = "#2c3e50"  # the header's
BACKGROUND_COLOUR = "#fafafa"  # the page's
ICONS = (("icon-192.png", "192x192"), ("icon-512.png", "512x512"))


@cache
def plotly_path() -> Path:
    """plotly.js of the installed plotly package: the page works offline."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RequestError(404, "the plotly package is not installed: pip install plotly")
    return Path(spec.origin).parent / "package_data" / PLOTLY


@cache
def version(name: str) -> str:
    """A short hash of static file `name`'s content: its URL changes when the file does."""
    path = plotly_path() if name == PLOTLY else STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def url(name: str) -> str:
    """The versioned URL of static file `name`, cached by browsers for a year."""
    return f"/static/{name}?v={version(name)}"


def cache_control(name: str, asked_version: str | None) -> str:
    """A year for the URL of the current version; otherwise ask again every time."""
    return IMMUTABLE if asked_version == version(name) else REVALIDATE


class VersionedStatic(StaticFiles):
    """The package's static files, cached as `cache_control` says."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = Request(scope).query_params.get("v")
            response.headers["Cache-Control"] = cache_control(path, asked)
        return response


@cache
def _plotly_gzipped() -> bytes:
    return gzip.compress(plotly_path().read_bytes(), compresslevel=9, mtime=0)


def plotly_js(request: Request) -> Response:
    """plotly.js (4.8 MB), gzipped once (1.5 MB) for every browser that takes gzip."""
    tag = f'"{version(PLOTLY)}"'
    headers = {
        "Cache-Control": cache_control(PLOTLY, request.query_params.get("v")),
        "ETag": tag,
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(_plotly_gzipped(), media_type="text/javascript", headers=headers)
    return FileResponse(plotly_path(), media_type="text/javascript", headers=headers)


def favicon() -> FileResponse:
    """The icon browsers ask for unbidden, at the one URL they know."""
    return FileResponse(
        STATIC_DIR / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": FAVICON_CACHE},
    )


def manifest() -> JSONResponse:
    """The web-app manifest: "Add to home screen" opens the dashboard as an app of its own."""
    icons = [{"src": url(name), "sizes": sizes, "type": "image/png"} for name, sizes in ICONS]
    maskable = {**icons[-1], "purpose": "maskable"}  # the artwork keeps to the safe circle
    svg = {"src": url("icon.svg"), "sizes": "any", "type": "image/svg+xml"}
    content = {
        "id": "/",
        "name": "Misery Meter",
        "short_name": "Misery Meter",
        "description": "Is the baby crying now, and how did the nights go.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [*icons, maskable, svg],
    }
    return JSONResponse(
        content, media_type="application/manifest+json", headers={"Cache-Control": REVALIDATE}
    )
