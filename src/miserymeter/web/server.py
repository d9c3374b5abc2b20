"""Serving the dashboard: its socket, bound before anything else starts (a port in use is one
clear error), and, for `listen --serve`, uvicorn in a thread of its own, so that a dashboard
that fails never stops the listener."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from miserymeter.errors import ConfigError

STOP_TIMEOUT_S = 5.0


def bind(host: str, port: int, *, option_prefix: str = "") -> socket.socket:
    """A listening socket on `host`:`port`, or one clear error (port taken, no such address)
    naming the options to change (`--port`; `--serve_port` with the prefix `serve_`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(128)
    except OSError as e:
        raise ConfigError(
            f"cannot serve on {host}:{port} ({e.strerror or e}); choose another "
            f"--{option_prefix}port or --{option_prefix}host"
        ) from e
    return listening


def address_of(listening: socket.socket, host: str) -> str:
    """The dashboard's URL on `listening` (its port, when 0 asked for any free one)."""
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{listening.getsockname()[1]}/"


def dashboard_server(app: FastAPI) -> uvicorn.Server:
    """uvicorn for `app`, quiet but for warnings; `run(sockets=[bind(...)])` serves it."""
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))


class DashboardThread:
    """`app` served on `listening` from a daemon thread; why it stopped goes to `on_error`."""

    def __init__(
        self, app: FastAPI, listening: socket.socket, *, on_error: Callable[[str], None]
    ) -> None:
        self._server = dashboard_server(app)
        self._listening = listening
        self._on_error = on_error
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="dashboard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, *, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop serving (requests under way get `timeout_s` to finish) and close the socket."""
        self._closing = True
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._listening.close()

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._listening])
        except SystemExit:  # uvicorn's way out when the app's start-up fails (it logs why)
            self._on_error("the dashboard could not start; listening goes on")
            return
        except Exception as e:
            self._on_error(f"the dashboard stopped ({e!r}); listening goes on")
            return
        if not self._closing:
            self._on_error("the dashboard stopped; listening goes on")
