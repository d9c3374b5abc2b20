"""The destinations `listen` delivers to, from its options and the config file's tables.

Each kind of destination is a module exposing `from_config(table, *, where) -> Destination`
(also `room=`, `store=`, `left_open=` for ROOM_PARTS), and optionally OWN_VARIABLES, the keys
whose `${NAME}` variables it expands itself; it is registered in PARTS under its config
table's name: `[[webhook]]` (an array: one table per webhook) or a single table such as
`[mqtt]`. A part is imported only when it is configured.

A destination whose settings are wrong (a malformed URL, a misspelt key, a variable that is
not set) is left out, with a message naming its table and key and the fix: a typo in one
webhook must not stop the listening, nor the other destinations. A destination that can do
without the part that is wrong (one push URL of several) is used without it, with a message
as well. A config file that cannot be read at all is still an error.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from miserymeter.config import expand_variables, read_document
from miserymeter.delivery.destination import Destination, PartlyLeftOut
from miserymeter.errors import ConfigError
from miserymeter.records import Episode
from miserymeter.store import Store

# Config table → the module that makes its destinations.
PARTS: dict[str, str] = {
    "webhook": "miserymeter.delivery.webhook.destination",
    "notify": "miserymeter.delivery.notify.destination",
    "mqtt": "miserymeter.delivery.mqtt.destination",
}
# Parts whose destination serves one room, and may read the store (tonight's totals so far,
# with the episode the room's last run left open, which this run closes).
ROOM_PARTS = {"mqtt"}


@dataclass(frozen=True)
class Destinations:
    """The destinations to deliver to, and one message per configured destination left out
    (what is wrong, in which table or option, and the fix)."""

    usable: tuple[Destination, ...] = ()
    left_out: tuple[str, ...] = ()


def build_destinations(
    *,
    config: Path | None,
    webhook_urls: Sequence[str] = (),
    room: str,
    store: Store | None = None,
    left_open: Episode | None = None,
) -> Destinations:
    """The destinations of `--webhook URL` options and of the config file's tables, checked;
    each one whose settings are wrong is left out (see the module docstring)."""
    wanted = [("webhook", "--webhook", {"url": url}) for url in webhook_urls]
    if config is not None:
        document = read_document(config)
        for part in PARTS:
            wanted += _tables(document, config, part)
    usable: list[Destination] = []
    left_out: list[str] = []
    seen: dict[str, str] = {}
    for part, where, table in wanted:
        try:
            destination = _build(
                part, table, where=where, room=room, store=store, left_open=left_open
            )
        except ConfigError as e:
            left_out.append(f"{e}; listening goes on without this destination until it is fixed")
            continue
        if destination.name in seen:
            destination.close()
            left_out.append(
                f"{where}: {destination.name} is configured twice (also {seen[destination.name]})"
                "; remove one (the first is used)"
            )
            continue
        seen[destination.name] = where
        usable.append(destination)
        if isinstance(destination, PartlyLeftOut):
            left_out += destination.left_out
    return Destinations(tuple(usable), tuple(left_out))


def _build(
    part: str,
    table: Any,
    *,
    where: str,
    room: str,
    store: Store | None,
    left_open: Episode | None,
) -> Destination:
    """The destination of one table, its `${NAME}` variables expanded; ConfigError if wrong."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    module = importlib.import_module(PARTS[part])
    factory = cast(Callable[..., Destination], module.from_config)
    if part in ROOM_PARTS:
        factory = functools.partial(factory, room=room, store=store, left_open=left_open)
    own: frozenset[str] = getattr(module, "OWN_VARIABLES", frozenset())
    return factory(expand_variables(table, where=where, own_variables=own), where=where)


def _tables(document: dict[str, Any], config: Path, part: str) -> list[tuple[str, str, Any]]:
    """(part, where, table) of each table of `part` in the `config` file's `document`:
    `[[part]]` or `[part]`."""
    found = document.get(part, {})
    if isinstance(found, list):
        return [(part, f"{config}: [[{part}]] #{k}", t) for k, t in enumerate(found, start=1)]
    return [(part, f"{config}: [{part}]", found)] if found else []
