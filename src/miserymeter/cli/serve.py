"""`miserymeter serve`: the dashboard; `miserymeter hash-password`: its password's hash."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from miserymeter.cli._app import (
    app,
    console,
    error_console,
    print_event,
    print_warning,
    reports_errors,
)

if TYPE_CHECKING:
    from miserymeter.delivery.offline_watcher import OfflineWatcher
    from miserymeter.detect.settings import DetectorSettings
    from miserymeter.frontend.level_meter import LevelMeter
    from miserymeter.inference.model import Classifier
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
    on_probability: float | None = typer.Option(
        None,
        "--on_probability",
        "--on-probability",
        help="The listener's threshold that starts an episode, drawn on the timeline; "
        "default: [listen]'s in --config, else the detector's default.",
    ),
    off_probability: float | None = typer.Option(
        None,
        "--off_probability",
        "--off-probability",
        help="The listener's threshold below which an episode ends (as --on_probability).",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="A TOML file: [serve] keys are these options' names plus "
        "password_hash; [listen]'s thresholds and gate are the listener's (drawn on the "
        "timeline, explained on the calibration page); [notify] pushes when a room's monitor "
        "goes offline.",
    ),
) -> None:
    """Serve the dashboard: timeline, nights, episodes with their audio, reviews, calibration;
    with [notify] in --config, push when a room's monitor goes offline."""
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
    detection, gate_db = _listener(
        config, on_probability=o["on_probability"], off_probability=o["off_probability"]
    )
    settings = ServeSettings(
        db=target,
        clips_dir=o["clips"] or default_data_dir() / "clips",
        data_dir=o["data_dir"] or default_data_dir() / "dataset",
        model_path=o["model"] or DEFAULT_MODEL_PATH,
        host=o["host"],
        port=o["port"],
        password_hash=password_hash_in(config),
        detection=detection,
        gate_db=gate_db,
    )
    web_app = create_app(settings)
    watcher = _offline_watcher(config, target) if config is not None else None
    listening = bind(settings.host, settings.port)
    say_serving(listening, settings.host, "Ctrl-C stops it")
    server = dashboard_server(web_app)
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again: let that end it with 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
    if watcher is not None:
        error_console.print(
            f"watching every room: a push when its monitor is silent for "
            f"{watcher.settings.offline_after_min:g} min ([notify])",
            markup=False,
        )
        watcher.start()
    try:
        server.run(sockets=[listening])
    finally:
        if watcher is not None:
            watcher.close()
            watcher.store.close()


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
    classifier: Classifier,
    detection: DetectorSettings,
    gate_db: float | None,
    host: str,
    port: int,
    config: Path | None,
    on_error: Callable[[str], None],
) -> DashboardThread:
    """`listen --serve`: the dashboard over the listener's own store and model, with the level
    `meter` of its `room`, checked and bound now (bad settings or a port in use are errors before
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


def _offline_watcher(path: Path, db: str) -> OfflineWatcher | None:
    """The watcher of every room's monitor, if the config file has a [notify] table (and its
    alerts are not turned off). A [notify] table whose settings are wrong is one warning line:
    the dashboard is served without the watcher."""
    from miserymeter.config import read_table
    from miserymeter.delivery.notify import from_config
    from miserymeter.delivery.offline_watcher import OfflineWatcher
    from miserymeter.errors import ConfigError
    from miserymeter.store import open_store

    try:
        table = read_table(path, "notify")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [[notify]]: write one [notify] table, with a list of urls")
        if not table:
            return None
        destination = from_config(table, where=f"{path}: [notify]")
    except ConfigError as e:
        print_warning(f"{e}; serve runs without offline pushes until it is fixed")
        return None
    if not destination.settings.alerts:
        return None
    return OfflineWatcher(
        open_store(db),
        destination,
        destination.settings,
        on_event=lambda kind, message: print_event(datetime.now(UTC), kind, message),
    )


def _listener(
    path: Path | None, *, on_probability: float | None, off_probability: float | None
) -> tuple[DetectorSettings, float | None]:
    """The listener's detector settings and loudness gate (None: no_gate): the thresholds
    given here, else [listen]'s of `path`, else the defaults."""
    from dataclasses import fields

    from miserymeter.config import read_table
    from miserymeter.detect.settings import DetectorSettings
    from miserymeter.errors import ConfigError
    from miserymeter.pipeline import DEFAULT_GATE_DB

    found = read_table(path, "listen") if path is not None else {}
    table = found if isinstance(found, dict) else {}
    given: dict[str, float] = {}
    for key in [f.name for f in fields(DetectorSettings)] + ["gate_db"]:
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: [listen] {key} = {value!r}: must be a number")
        given[key] = float(value)
    for key, value in (("on_probability", on_probability), ("off_probability", off_probability)):
        if value is not None:
            given[key] = value
    gate_db = given.pop("gate_db", DEFAULT_GATE_DB)
    return DetectorSettings(**given), None if table.get("no_gate") is True else gate_db
