"""How a command's options are merged, once: the command line wins over the config file's table
for the command, which wins over the defaults.

A command's options are a frozen dataclass whose fields are its parameters' names (a trailing
`_` dropped: `input_` is the field `input`); the config file's keys are its options' names
(`--sample_rate` is `sample_rate`, `--json` is `json`, `--no-gate` is `no_gate`). A value from
the file is converted and checked as the command line's would be.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from miserymeter.config import read_config
from miserymeter.errors import ConfigError

if TYPE_CHECKING:
    from typer._click.core import Parameter  # the click typer vendors

Options = TypeVar("Options")


def merged_options(
    ctx: typer.Context,
    options_type: type[Options],
    *,
    config: Path | None,
    table_only: Collection[str] = (),
) -> Options:
    """`options_type` filled from the command line, the config file's [command] table and the
    defaults; `table_only` are keys the table may hold that are not options (read elsewhere)."""
    params = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    values = dict(ctx.params)
    if config is not None:
        keys = {config_key(p): name for name, p in params.items()}
        command = ctx.info_name or ctx.command.name or ""
        table = read_config(config, command=command, known_keys=set(keys) | set(table_only))
        for key, value in table.items():
            if key in table_only:
                continue
            name = keys[key]
            source = ctx.get_parameter_source(name)
            if source is not None and source.name != "DEFAULT":
                continue  # given on the command line
            values[name] = _converted(ctx, params[name], value, where=f"{config}: {key}")
    by_field = {name.rstrip("_"): value for name, value in values.items() if name != "config"}
    return options_type(**{f.name: _field_value(by_field[f.name]) for f in fields(options_type)})  # type: ignore[arg-type]


def config_key(param: Parameter) -> str:
    """The config file's key of a parameter: its first long option name, `-` read as `_`."""
    long_names = [o for o in param.opts if o.startswith("--")]
    return long_names[0].removeprefix("--").replace("-", "_") if long_names else str(param.name)


def _converted(ctx: typer.Context, param: Parameter, value: Any, *, where: str) -> Any:
    if param.multiple and not isinstance(value, list):  # `webhook = "https://..."`
        in_brackets = f"[{json.dumps(value, ensure_ascii=False)}]"
        raise ConfigError(f"{where} = {value!r}: takes a list; write it in brackets: {in_brackets}")
    try:
        return param.process_value(ctx, value)
    except typer.BadParameter as e:
        raise ConfigError(f"{where} = {value!r}: {e.message}") from e


def _field_value(value: Any) -> Any:
    """Lists (repeatable options) as tuples, so that the options stay immutable."""
    return tuple(value) if isinstance(value, list) else value
