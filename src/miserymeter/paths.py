"""Where Misery Meter keeps its data by default: `$XDG_DATA_HOME/miserymeter`."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The user's data folder (`~/.local/share/miserymeter` unless XDG_DATA_HOME says else)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "miserymeter"


def default_archive_dir() -> Path:
    """Where `record` archives segments unless `--out` says else."""
    return data_dir() / "archive"


def default_db_path() -> Path:
    """Where the listener stores what it heard unless `--db` says else."""
    return data_dir() / "miserymeter.db"
