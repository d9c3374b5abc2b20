"""A TOML config file whose keys are a command's option names: `[listen]` feeds `listen`.

Values given on the command line win over the file; the file wins over the defaults. Unknown
keys and tables are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from miserymeter.errors import ConfigError


def read_config(path: Path, *, command: str, known_keys: set[str]) -> dict[str, Any]:
    """The `[command]` table of `path`, checked against the command's option names."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such config file") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: not a readable TOML file ({e}); fix it or remove it") from e
    unknown_tables = sorted(set(document) - {command})
    if unknown_tables:
        raise ConfigError(
            f"{path}: unknown table(s) {', '.join(unknown_tables)}; the file configures [{command}]"
        )
    table = document.get(command, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{command}] must be a table")
    unknown_keys = sorted(set(table) - known_keys)
    if unknown_keys:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown_keys)} in [{command}]; "
            f"see `miserymeter {command} --help` for the names"
        )
    return table
