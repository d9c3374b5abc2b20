"""The dashboard as `listen --serve` runs it, and what `serve` shares with it: the password
rule and the line that says where it is."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from miserymeter.config import read_table
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import ConfigError
from miserymeter.frontend.level_meter import LevelMeter
from miserymeter.inference.model import Classifier
from miserymeter.paths import data_dir
from miserymeter.sinks.console import Terminal
from miserymeter.store import Store
from miserymeter.web import ServeSettings, create_app
from miserymeter.web.level import LiveLevel
from miserymeter.web.server import DashboardThread, address_of, bind

# `listen --serve`'s options: --serve_host, --serve_port.
LISTEN_PREFIX = "serve_"


def listener_dashboard(
    store: Store,
    room: str,
    meter: LevelMeter,
    *,
    clips_dir: Path,
    classifier: Classifier,
    detection: DetectorSettings,
    gate_db: float | None,
    host: str,
    port: int,
    config: Path | None,
    on_error: Callable[[str], None],
    terminal: Terminal,
) -> DashboardThread:
    """`listen --serve`: the dashboard over the listener's own store and model, with the level
    `meter` of its `room`, checked and bound now (bad settings or a port in use are errors before
    listening starts); `start()` serves it from a thread of its own. The password rule is
    `serve`'s."""
    settings = ServeSettings(
        db=store.name,
        clips_dir=clips_dir,
        data_dir=data_dir() / "dataset",
        model_path=classifier.path,
        host=host,
        port=port,
        password_hash=password_hash_in(config),
        detection=detection,
        gate_db=gate_db,
        option_prefix=LISTEN_PREFIX,
    )
    web_app = create_app(settings, store=store, classifier=classifier, live=LiveLevel(room, meter))
    listening = bind(host, port, option_prefix=LISTEN_PREFIX)
    say_serving(terminal, listening, host, "while listening")
    return DashboardThread(web_app, listening, on_error=on_error)


def say_serving(terminal: Terminal, listening: socket.socket, host: str, note: str) -> None:
    """One line on stderr: where the dashboard is."""
    terminal.say(f"serving the dashboard on {address_of(listening, host)} ({note})")


def password_hash_in(config: Path | None) -> str | None:
    """The dashboard's password hash: `password_hash` of the [serve] table of `config`."""
    table = read_table(config, "serve") if config is not None else {}
    value = table.get("password_hash") if isinstance(table, dict) else None
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config}: [serve] password_hash must be a string")
    return value
