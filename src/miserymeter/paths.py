"""Where Misery Meter keeps its data by default (`$XDG_DATA_HOME/miserymeter`), and the
folders a command writes into, made up front."""

from __future__ import annotations

import os
from pathlib import Path

from miserymeter.errors import ConfigError


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


def writable_folder(
    folder: Path, *, option: str, mode: int = 0o777, or_else: str = "", for_file: bool = False
) -> Path:
    """`folder`, made (with `mode`) if missing; one ConfigError naming `option` (and the
    alternative `or_else`) if it cannot be written, before any work is done for it.
    `for_file`: `option` names a file to go in `folder`, not the folder itself."""
    try:
        folder.mkdir(mode=mode, parents=True, exist_ok=True)
        reason = "" if os.access(folder, os.W_OK | os.X_OK) else "not writable"
    except OSError as e:
        reason = "a file is in the way" if isinstance(e, FileExistsError) else str(e.strerror)
    if reason:
        wanted = f"an {option} in a folder" if for_file else f"{option} a folder"
        alternative = f", or {or_else}" if or_else else ""
        raise ConfigError(
            f"{folder}: cannot write there ({reason}); pass {wanted} you can write{alternative}"
        )
    return folder
