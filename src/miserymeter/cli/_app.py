"""The typer app, its consoles, and the decorator that turns errors into exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from miserymeter import __version__
from miserymeter.cli.stopping import interrupt_on_sigterm
from miserymeter.errors import MiseryMeterError, RunInterrupted
from miserymeter.sinks.console import Terminal

app = typer.Typer(
    name="miserymeter",
    help="Hear when the baby is crying: train, export and run a cry detector.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts print every word: [listen] is a table, not markup
)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)
terminal = Terminal(console, error_console)
print_warning = terminal.warn
print_event = terminal.event


F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def reports_errors(command: F) -> F:
    """Turn a MiseryMeterError into one line on stderr and a non-zero exit code; Ctrl-C or
    SIGTERM into "stopped" and 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RunInterrupted as e:
            error_console.print(f"stopped: {e}", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except KeyboardInterrupt:
            error_console.print("stopped (Ctrl-C or SIGTERM); nothing half-written is kept")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except MiseryMeterError as e:
            error_console.print(f"error: {e}", markup=False)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"miserymeter {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Misery Meter."""
    interrupt_on_sigterm()
