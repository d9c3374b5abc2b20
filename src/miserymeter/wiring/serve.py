"""`serve`, wired: the dashboard over a listener's database, with the offline watcher of
[notify], served until Ctrl-C or SIGTERM and torn down whatever happens."""

from __future__ import annotations

import signal
from dataclasses import fields
from pathlib import Path

from fastapi import FastAPI

from miserymeter.clock import utc_now
from miserymeter.config import read_table
from miserymeter.constants import DEFAULT_GATE_DB
from miserymeter.delivery.notify.destination import OWN_VARIABLES, from_config
from miserymeter.delivery.notify.offline_watcher import OfflineWatcher
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import ConfigError
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.paths import data_dir as default_data_dir
from miserymeter.paths import default_db_path
from miserymeter.sinks.console import Terminal
from miserymeter.store import open_store
from miserymeter.web import ServeSettings, create_app
from miserymeter.web.server import bind, dashboard_server
from miserymeter.wiring.dashboard import password_hash_in, say_serving
from miserymeter.wiring.serve_options import ServeOptions


def run_serve(options: ServeOptions, *, config: Path | None, terminal: Terminal) -> None:
    """Serve the dashboard as `options` say until Ctrl-C or SIGTERM."""
    target = options.db or str(default_db_path())
    if "://" not in target and not Path(target).expanduser().is_file():
        raise ConfigError(
            f"--db {target}: no such database; start `miserymeter listen` first, or pass the "
            "--db it writes to"
        )
    detection, gate_db = listener_detection(
        config, on_probability=options.on_probability, off_probability=options.off_probability
    )
    settings = ServeSettings(
        db=target,
        clips_dir=options.clips or default_data_dir() / "clips",
        data_dir=options.data_dir or default_data_dir() / "dataset",
        model_path=options.model or DEFAULT_MODEL_PATH,
        host=options.host,
        port=options.port,
        password_hash=password_hash_in(config),
        detection=detection,
        gate_db=gate_db,
    )
    store = open_store(target, server_may_be_down=True)
    try:
        web_app = create_app(settings, store=store)
        if store.unreachable_at_open is not None:
            terminal.warn(
                f"cannot reach database {store.name}: {store.unreachable_at_open.reason}; "
                "serving the dashboard, which says so until it can"
            )
        watcher = _offline_watcher(config, target, terminal) if config is not None else None
        _serve(web_app, settings, watcher, terminal)
    finally:
        store.close()


def _serve(
    web_app: FastAPI, settings: ServeSettings, watcher: OfflineWatcher | None, terminal: Terminal
) -> None:
    """Serve `web_app` and run `watcher` until Ctrl-C or SIGTERM; then close the watcher."""
    try:
        listening = bind(settings.host, settings.port)
        say_serving(terminal, listening, settings.host, "Ctrl-C stops it")
        server = dashboard_server(web_app)
        # uvicorn stops on SIGINT/SIGTERM, then raises the signal again: let that end it with 0.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
        if watcher is not None:
            terminal.say(
                f"watching every room: a push when its monitor is silent for "
                f"{watcher.settings.offline_after_min:g} min ([notify])"
            )
            watcher.start()
        server.run(sockets=[listening])
    finally:
        if watcher is not None:
            watcher.close()
            watcher.store.close()


def _offline_watcher(path: Path, db: str, terminal: Terminal) -> OfflineWatcher | None:
    """The watcher of every room's monitor, if the config file has a [notify] table (and its
    alerts are not turned off). A [notify] table whose settings are wrong is one warning line:
    the dashboard is served without the watcher."""
    try:
        table = read_table(path, "notify", own_variables=OWN_VARIABLES)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [[notify]]: write one [notify] table, with a list of urls")
        if not table:
            return None
        destination = from_config(table, where=f"{path}: [notify]")
    except ConfigError as e:
        terminal.warn(f"{e}; serve runs without offline pushes until it is fixed")
        return None
    for message in destination.left_out:
        terminal.warn(message)
    if not destination.settings.alerts:
        return None
    return OfflineWatcher(
        open_store(db, server_may_be_down=True),
        destination,
        destination.settings,
        on_event=lambda kind, message: terminal.event(utc_now(), kind, message),
    )


def listener_detection(
    path: Path | None, *, on_probability: float | None, off_probability: float | None
) -> tuple[DetectorSettings, float | None]:
    """The listener's detector settings and loudness gate (None: no_gate): the thresholds
    given here, else [listen]'s of `path`, else the defaults."""

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
