"""Room names in URLs: any name ("Room 2/B", "Chambre de Léa") is one path segment.

Links encode a room as one segment (`Room%202%2FB`), but the server decodes the path before
routing, and a decoded "/" would split the name in two. `SegmentPaths` routes on the path as
the client sent it instead: each segment decoded on its own, with "%" and "/" inside it kept
escaped; routes take the room with the `{room:room}` converter, which undoes that escaping.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send


class RoomConvertor(Convertor[str]):
    """One path segment escaped by `SegmentPaths`, as the name it stands for."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value.replace("%2F", "/").replace("%25", "%")

    def to_string(self, value: str) -> str:
        return escape_segment(value)


def escape_segment(text: str) -> str:
    """`text` with what would end or confuse a path segment escaped ("%", "/")."""
    return text.replace("%", "%25").replace("/", "%2F")


def register_room_convertor() -> None:
    """Make `{room:room}` known to the routes made after this (idempotent)."""
    register_url_convertor("room", RoomConvertor())


class SegmentPaths:
    """ASGI middleware: route on the client's path, segment by segment (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") if scope["type"] == "http" else None
        if raw_path:
            segments = [
                unquote_to_bytes(s).decode("utf-8", "replace") for s in raw_path.split(b"/")
            ]
            path = "/".join(escape_segment(s) for s in segments)
            scope = {**scope, "path": path}
        await self.app(scope, receive, send)
