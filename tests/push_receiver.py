"""A real HTTP server on 127.0.0.1 that takes apprise's `json://` pushes, for the notify tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One push as the server got it."""

    path: str
    title: str
    body: str
    notify_type: str


class PushReceiver:
    """Answers every POST with `status` (200 by default) and keeps what it was sent."""

    def __init__(self) -> None:
        self.status = 200
        self.pushes: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload: dict[str, Any] = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"]))
                )
                if receiver.status == 200:
                    receiver.pushes.append(
                        Received(self.path, payload["title"], payload["message"], payload["type"])
                    )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def url(self, path: str = "push") -> str:
        """The apprise URL that posts to this server's `/path`."""
        return f"json://127.0.0.1:{self.port}/{path}"

    def titles(self) -> list[str]:
        return [p.title for p in self.pushes]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
