"""The `miserymeter` command: thin typer commands over the library.

This is the only place that prints results and turns errors into exit codes. Each module
registers its commands on the one app when imported.
"""

from miserymeter.cli import capture, classify, dataset, evaluate, listen, serve, train
from miserymeter.cli._app import app

__all__ = ["app", "capture", "classify", "dataset", "evaluate", "listen", "serve", "train"]
