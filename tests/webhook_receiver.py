"""A real HTTP server on 127.0.0.1 that takes webhooks, and fails, stops and restarts on purpose.

    receiver = WebhookReceiver()            # listening on a free port
    receiver.url("/hook?api_key=K")         # http://127.0.0.1:PORT/hook?api_key=K
    receiver.answer = lambda body: 503      # every POST from now on is answered 503
    receiver.stop(); receiver.start()       # connections refused, then taken again (same port,
                                            # held meanwhile: no other program gets it)
    receiver.wait_until(lambda: len(receiver.events) >= 10)

Every POST is kept (`posts`, with the status it got); `events` are the JSON bodies of the
POSTs answered 2xx, in the order they arrived.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class _Server(ThreadingHTTPServer):
    """Shares its port with the placeholder that holds it while the receiver is stopped."""

    allow_reuse_port = True
    daemon_threads = True


def _holding(port: int) -> socket.socket:
    """A socket bound to `port` that does not listen: connections to it are refused, and no
    other program is given the port (as it would be, closed, on a busy machine)."""
    placeholder = socket.socket()
    placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    placeholder.bind(("127.0.0.1", port))
    return placeholder


@contextmanager
def refused_port() -> Iterator[int]:
    """A port that refuses connections for the length of the block, and that no other program
    (another test's server, on a busy machine) is given meanwhile."""
    with _holding(0) as placeholder:
        yield int(placeholder.getsockname()[1])


class WebhookReceiver:
    """See the module docstring."""

    def __init__(self) -> None:
        self.port = 0  # the first start takes a free one, and keeps it
        self.posts: list[Post] = []
        self.answer: Callable[[dict[str, Any]], int] = lambda _body: 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._placeholder: socket.socket | None = None
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

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Close the port: connections are refused until `start`, which opens the same one."""
        if self._server is not None:
            self._placeholder = _holding(self.port)
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_until(self, condition: Callable[[], bool], *, timeout_s: float = WAIT_S) -> None:
        deadline_s = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline_s:
                raise AssertionError(f"not within {timeout_s} s; received {len(self.posts)} posts")
            time.sleep(0.02)
