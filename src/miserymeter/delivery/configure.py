"""The destinations `listen` delivers to, from its options and the config file's tables.

Each kind of destination is a module exposing `from_config(table, *, where) -> Destination`,
registered in PARTS under its config table's name: `[[webhook]]` (an array: one table per
webhook) or a single table such as `[mqtt]`. A part is imported only when it is configured.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from miserymeter.config import read_table
from miserymeter.delivery.destination import Destination
from miserymeter.errors import ConfigError
from miserymeter.store import Store

# Config table → the module that makes its destinations.
PARTS: dict[str, str] = {
    "webhook": "miserymeter.delivery.webhook",
    "notify": "miserymeter.delivery.notify",
    "mqtt": "miserymeter.delivery.mqtt",
}
# Parts whose destination serves one room, and may read the store (tonight's totals so far).
ROOM_PARTS = {"mqtt"}


def build_destinations(
    *,
    config: Path | None,
    webhook_urls: Sequence[str] = (),
    room: str,
    store: Store | None = None,
) -> list[Destination]:
    """The destinations of `--webhook URL` options and of the config file's tables, checked;
    a ConfigError names the table (or option) and key at fault."""
    wanted = [("webhook", "--webhook", {"url": url}) for url in webhook_urls]
    if config is not None:
        for part in PARTS:
            wanted += _tables(config, part)
    destinations: list[Destination] = []
    seen: dict[str, str] = {}
    for part, where, table in wanted:
        factory = _factory(part)
        if part in ROOM_PARTS:
            factory = functools.partial(factory, room=room, store=store)
        destination = factory(table, where=where)
        if destination.name in seen:
            raise ConfigError(
                f"{where}: {destination.name} is configured twice (also {seen[destination.name]})"
                "; remove one"
            )
        seen[destination.name] = where
        destinations.append(destination)
    return destinations


def _tables(config: Path, part: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(part, where, table) of each table of `part` in `config`: `[[part]]` or `[part]`."""
    found = read_table(config, part)
    if isinstance(found, dict):
        return [(part, f"{config}: [{part}]", found)] if found else []
    tables = []
    for k, table in enumerate(found, start=1):
        where = f"{config}: [[{part}]] #{k}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        tables.append((part, where, table))
    return tables


def _factory(part: str) -> Callable[..., Destination]:
    """`from_config(table, *, where)` of the part (also `room=`, `store=` for ROOM_PARTS)."""
    module = importlib.import_module(PARTS[part])
    return cast(Callable[..., Destination], module.from_config)
