"""A real HTTP server on 127.0.0.1 that takes webhooks, and fails, stops and restarts on purpose.

    receiver = WebhookReceiver()            # listening on a free port
    receiver.url("/hook?api_key=K")         # http://127.0.0.1:PORT/hook?api_key=K
    receiver.answer = lambda body: 503      # every POST from now on is answered 503
    receiver.stop(); receiver.start()       # the port is closed, then open again (same port)
    receiver.wait_until(lambda: len(receiver.events) >= 10)

Every POST is kept (`posts`, with the status it got); `events` are the JSON bodies of the
POSTs answered 2xx, in the order they arrived.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WAIT_S = 30.0


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class WebhookReceiver:
    """See the module docstring."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[Post] = []
        self.answer: Callable[[dict[str, Any]], int] = lambda _body: 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.json for p in self.posts if 200 <= p.status < 300]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.answer(json.loads(body))
                with receiver._lock:
                    receiver.posts.append(Post(self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Close the port: connections are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_until(self, condition: Callable[[], bool], *, timeout_s: float = WAIT_S) -> None:
        deadline_s = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline_s:
                raise AssertionError(f"not within {timeout_s} s; received {len(self.posts)} posts")
            time.sleep(0.02)
