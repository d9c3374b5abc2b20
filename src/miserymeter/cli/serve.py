"""`miserymeter serve`: the dashboard; `miserymeter hash-password`: its password's hash."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from miserymeter.cli._app import app, console, error_console, reports_errors

if TYPE_CHECKING:
    from miserymeter.detect.settings import DetectorSettings
    from miserymeter.frontend.level_meter import LevelMeter
    from miserymeter.store import Store
    from miserymeter.web.server import DashboardThread

SERVE_TABLE_ONLY = {"password_hash"}
# `listen --serve`'s options: --serve_host, --serve_port.
LISTEN_PREFIX = "serve_"


@app.command()
@reports_errors
def serve(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        help="The listener's database (a SQLite file or postgresql:// URL); "
        "default: miserymeter.db in the data folder.",
    ),
    clips: Path | None = typer.Option(
        None, "--clips", help="The listener's episode audio; default: clips/ in the data folder."
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data_dir",
        "--data-dir",
        help="The dataset reviewed clips go to (folder per label), for `miserymeter train`; "
        "default: dataset/ in the data folder.",
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to serve on; others than loopback need a password."
    ),
    port: int = typer.Option(8000, "--port", help="Port to serve on."),
    model: Path | None = typer.Option(
        None, "--model", help="The listener's .onnx model (labels, rate); default: the bundled one."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="A TOML file: [serve] keys are these options' names plus "
        "password_hash; [listen]'s on/off probabilities are drawn on the timeline.",
    ),
) -> None:
    """Serve the dashboard: timeline, nights, episodes with their audio, and reviews."""
    from miserymeter.detect.settings import DetectorSettings
    from miserymeter.errors import ConfigError
    from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
    from miserymeter.paths import data_dir as default_data_dir
    from miserymeter.paths import default_db_path
    from miserymeter.web import ServeSettings, create_app
    from miserymeter.web.server import bind, dashboard_server

    if config is not None:
        _apply_config(ctx, config)
    o = ctx.params
    target = o["db"] or str(default_db_path())
    if "://" not in target and not Path(target).expanduser().is_file():
        raise ConfigError(
            f"--db {target}: no such database; start `miserymeter listen` first, or pass the "
            "--db it writes to"
        )
    settings = ServeSettings(
        db=target,
        clips_dir=o["clips"] or default_data_dir() / "clips",
        data_dir=o["data_dir"] or default_data_dir() / "dataset",
        model_path=o["model"] or DEFAULT_MODEL_PATH,
        host=o["host"],
        port=o["port"],
        password_hash=password_hash_in(config),
        detection=_detection(config) if config is not None else DetectorSettings(),
    )
    web_app = create_app(settings)
    listening = bind(settings.host, settings.port)
    say_serving(listening, settings.host, "Ctrl-C stops it")
    server = dashboard_server(web_app)
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again: let that end it with 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
    server.run(sockets=[listening])


@app.command("hash-password")
@reports_errors
def hash_password_command(
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="The dashboard's password (asked for when not given).",
    ),
) -> None:
    """Print the [serve] config line that sets the dashboard's password (a salted scrypt hash)."""
    from miserymeter.web.passwords import hash_password

    console.print(f'password_hash = "{hash_password(password)}"', markup=False)


def listener_dashboard(
    store: Store,
    room: str,
    meter: LevelMeter,
    *,
    clips_dir: Path,
    model_path: Path,
    detection: DetectorSettings,
    host: str,
    port: int,
    config: Path | None,
    on_error: Callable[[str], None],
) -> DashboardThread:
    """`listen --serve`: the dashboard over the listener's own store, with the level `meter`
    of its `room`, checked and bound now (bad settings or a port in use are errors before
    listening starts); `start()` serves it from a thread of its own. The password rule is
    `serve`'s."""
    from miserymeter.paths import data_dir
    from miserymeter.web import ServeSettings, create_app
    from miserymeter.web.level import LiveLevel
    from miserymeter.web.server import DashboardThread, bind

    settings = ServeSettings(
        db=store.name,
        clips_dir=clips_dir,
        data_dir=data_dir() / "dataset",
        model_path=model_path,
        host=host,
        port=port,
        password_hash=password_hash_in(config),
        detection=detection,
        option_prefix=LISTEN_PREFIX,
    )
    web_app = create_app(settings, store=store, live=LiveLevel(room, meter))
    listening = bind(host, port, option_prefix=LISTEN_PREFIX)
    say_serving(listening, host, "while listening")
    return DashboardThread(web_app, listening, on_error=on_error)


def say_serving(listening: socket.socket, host: str, note: str) -> None:
    """One line on stderr: where the dashboard is."""
    from miserymeter.web.server import address_of

    error_console.print(
        f"serving the dashboard on {address_of(listening, host)} ({note})", markup=False
    )


def password_hash_in(config: Path | None) -> str | None:
    """The dashboard's password hash: `password_hash` of the [serve] table of `config`."""
    from miserymeter.config import read_table
    from miserymeter.errors import ConfigError

    table = read_table(config, "serve") if config is not None else {}
    value = table.get("password_hash") if isinstance(table, dict) else None
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config}: [serve] password_hash must be a string")
    return value


def _apply_config(ctx: typer.Context, path: Path) -> None:
    """Fill the options left at their defaults from [serve] (its password_hash aside)."""
    from miserymeter.config import read_config
    from miserymeter.errors import ConfigError

    params = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    table = read_config(path, command="serve", known_keys=set(params) | SERVE_TABLE_ONLY)
    for key, value in table.items():
        if key in SERVE_TABLE_ONLY:
            continue
        source = ctx.get_parameter_source(key)
        if source is not None and source.name != "DEFAULT":
            continue  # given on the command line
        try:
            ctx.params[key] = params[key].process_value(ctx, value)
        except typer.BadParameter as e:
            raise ConfigError(f"{path}: {key} = {value!r}: {e.message}") from e


def _detection(path: Path) -> DetectorSettings:
    """The listener's thresholds from [listen] (to draw them), else the defaults."""
    from miserymeter.config import read_table
    from miserymeter.detect.settings import DetectorSettings
    from miserymeter.errors import ConfigError

    table = read_table(path, "listen")
    given = {}
    for key in ("on_probability", "off_probability"):
        value = table.get(key) if isinstance(table, dict) else None
        if value is None:
            continue
        if not isinstance(value, int | float):
            raise ConfigError(f"{path}: [listen] {key} = {value!r}: must be a number")
        given[key] = float(value)
    return DetectorSettings(**given)
