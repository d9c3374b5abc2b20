"""`miserymeter serve`: the dashboard; `miserymeter hash-password`: its password's hash."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer

from miserymeter.cli._app import (
    app,
    console,
    error_console,
    reports_errors,
    terminal,
)
from miserymeter.cli.options import merged_options
from miserymeter.wiring.serve_options import SERVE_TABLE_ONLY, ServeOptions

SERVE = ServeOptions()
BYTE_ORDER_MARK = "\ufeff"  # what Notepad writes before a UTF-8 file's text


@app.command(short_help="Serve the dashboard; push when a room's monitor goes offline.")
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
        SERVE.host,
        "--host",
        help="Address to serve on; any but loopback needs password_hash in [serve] of --config.",
    ),
    port: int = typer.Option(SERVE.port, "--port", help="Port to serve on."),
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
    from miserymeter.wiring.serve import run_serve

    options = merged_options(ctx, ServeOptions, config=config, table_only=SERVE_TABLE_ONLY)
    run_serve(options, config=config, terminal=terminal)


@app.command(
    "hash-password", short_help="Print the [serve] line that sets the dashboard's password."
)
@reports_errors
def hash_password_command(
    password: str | None = typer.Option(
        None,
        "--password",
        help="The dashboard's password; when not given, asked for (twice, on stderr) at a "
        'terminal, or read from standard input (one line: echo "$PW" | miserymeter ...).',
        show_default=False,
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Write the line into this config file's [serve] table (added if missing) "
        "instead of printing it.",
        show_default=False,
    ),
) -> None:
    """Print the [serve] config line that sets the dashboard's password (a salted scrypt hash),
    or write it into a config file with --config. The prompts go to stderr."""
    from miserymeter.config import PASSWORD_HASH, set_in_table
    from miserymeter.web.passwords import hash_password

    if password is None:
        password = _asked_password()
    hashed = hash_password(password)
    if config is None:
        console.print(f'{PASSWORD_HASH} = "{hashed}"', markup=False)
        return
    set_in_table(config, "serve", PASSWORD_HASH, hashed)
    console.print(f"{config}: [serve] {PASSWORD_HASH} set", markup=False)


def _asked_password() -> str:
    """The password typed twice at hidden prompts on stderr, or one line piped to stdin (its
    line end and a byte order mark that Windows editors put before a file's text left out).

    Ctrl-C (or SIGTERM) at a prompt stops the command as anywhere else; Ctrl-D there, or
    nothing piped, is one line saying how to give it."""
    from miserymeter.errors import ConfigError

    how = 'type it at a terminal, or pipe it in: echo "$PW" | miserymeter hash-password'
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.removeprefix(BYTE_ORDER_MARK).rstrip("\r\n")
        if not password:
            raise ConfigError(f"no password on standard input (it was empty); {how}")
        return password
    while True:
        try:
            password = getpass.getpass("Password: ", stream=sys.stderr)
            again = getpass.getpass("Repeat for confirmation: ", stream=sys.stderr)
        except (EOFError, KeyboardInterrupt) as e:
            sys.stderr.write("\n")  # the hidden prompt's line was left open
            if isinstance(e, KeyboardInterrupt):
                raise
            raise ConfigError(
                f"no password typed (the prompt was ended by Ctrl-D); {how}"
            ) from None
        if password == again:
            return password
        error_console.print("the two passwords differ; type it again", markup=False)
