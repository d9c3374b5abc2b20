"""`serve`'s options, typed: one field per command-line option (the config file's [serve] keys)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from miserymeter.constants import DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT

# Keys of [serve] that are not options.
SERVE_TABLE_ONLY = frozenset({"password_hash"})


@dataclass(frozen=True)
class ServeOptions:
    """Everything `miserymeter serve` can be told (see its --help for each option)."""

    db: str | None = None
    clips: Path | None = None
    data_dir: Path | None = None
    host: str = DEFAULT_DASHBOARD_HOST
    port: int = DEFAULT_DASHBOARD_PORT
    model: Path | None = None
    on_probability: float | None = None
    off_probability: float | None = None
