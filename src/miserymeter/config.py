"""A TOML config file: `[listen]`, `[serve]`, `[record]` keys are those commands' option names;
other tables configure parts.

    [listen]
    room = "nursery"

    [mqtt]                       # a part's table: see its module for the keys
    url = "mqtt://homeassistant.local"
    password = "${MQTT_PASSWORD}"

Values given on the command line win over the file; the file wins over the defaults. Unknown
keys and tables are errors, so a typo never silently falls back to a default. A string
`${NAME}` (or a part of one) is replaced by the environment variable NAME, so secrets can stay
out of the file; a variable that is not set is an error.
"""

from __future__ import annotations

import difflib
import errno
import io
import os
import re
import stat
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import quote

from miserymeter.atomic_write import atomic_write
from miserymeter.errors import ConfigError

# Every table a config file may hold: the commands', then the parts'.
KNOWN_TABLES = ("listen", "serve", "record", "mqtt", "webhook", "notify")
ARRAY_TABLES = ("webhook",)  # written [[webhook]], once per webhook
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TABLE_HEADER = re.compile(r"^\s*\[")
PASSWORD_HASH = "password_hash"
# The commands' key of a database URL (`--db`).
DATABASE_KEY = "db"


def read_config(path: Path, *, command: str, known_keys: set[str]) -> dict[str, Any]:
    """The `[command]` table of `path`, checked against the command's option names; the
    variables of its database URL are expanded by `expand_url_variables`."""
    table = read_table(path, command, own_variables=(DATABASE_KEY,))
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{command}] must be a table")
    if isinstance(table.get(DATABASE_KEY), str):
        where = f"{path}: [{command}] {DATABASE_KEY}"
        table[DATABASE_KEY] = expand_url_variables(table[DATABASE_KEY], where=where)
    check_keys(path, command, table, known_keys, hint=f"see `miserymeter {command} --help`")
    return table


def read_table(
    path: Path, name: str, *, own_variables: Collection[str] = ()
) -> dict[str, Any] | list[dict[str, Any]]:
    """Table `name` of `path` (a list for an array of tables, `[[name]]`), variables expanded
    but those of the keys in `own_variables` (the part expands them itself); an empty table
    when the file has none."""
    document = read_document(path)
    return expand_variables(
        document.get(name, {}), where=f"{path}: [{name}]", own_variables=own_variables
    )


def check_keys(
    path: Path, table_name: str, table: dict[str, Any], known_keys: set[str], *, hint: str
) -> None:
    """Refuse the keys of `table` that are not in `known_keys`."""
    unknown_keys = sorted(set(table) - known_keys)
    if unknown_keys:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown_keys)} in [{table_name}]; "
            f"{hint} for the names"
        )


def expand_variables(value: Any, *, where: str, own_variables: Collection[str] = ()) -> Any:
    """`value` with every `${NAME}` in its strings replaced by the environment variable NAME;
    a table's keys in `own_variables` are left as they are (their part expands them)."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: _variable(m.group(1), where=where), value)
    if isinstance(value, list):
        return [expand_variables(v, where=where, own_variables=own_variables) for v in value]
    if isinstance(value, dict):
        return {
            k: v if k in own_variables else expand_variables(v, where=f"{where} {k}")
            for k, v in value.items()
        }
    return value


def expand_url_variables(url: str, *, where: str) -> str:
    """`url` with its variables expanded, those in its user and password (before its last
    `@`) percent-encoded: a password from the environment may hold `@`, `:`, `/`, `%`, `#`."""
    scheme, separator, rest = url.partition("://")
    userinfo, at, place = rest.rpartition("@")
    if not separator or not at:
        return str(expand_variables(url, where=where))
    encoded = _VARIABLE.sub(lambda m: quote(_variable(m.group(1), where=where), safe=""), userinfo)
    return f"{scheme}://{encoded}@{expand_variables(place, where=where)}"


def _variable(name: str, *, where: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise ConfigError(
            f"{where}: environment variable {name} is not set; export it or write the value"
        ) from None


def read_document(path: Path) -> dict[str, Any]:
    """Every table of `path`, variables not yet expanded; an unreadable file or an unknown
    table is a ConfigError."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such config file") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"{path}: not a readable TOML file ({e}{_quoted_line(path, e)}); fix it or remove it"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not a readable TOML file ({e}); fix it or remove it") from e
    _require_password_hash_in_serve(path, document)
    unknown_tables = sorted(set(document) - set(KNOWN_TABLES))
    if unknown_tables:
        guesses = [
            _header(guess)
            for table in unknown_tables
            for guess in difflib.get_close_matches(table, KNOWN_TABLES, n=1)
        ]
        raise ConfigError(
            f"{path}: unknown table(s) {', '.join(unknown_tables)}"
            + (f" (did you mean {', '.join(guesses)}?)" if guesses else "")
            + f"; a config file holds {', '.join(map(_header, KNOWN_TABLES))}"
        )
    return document


def _header(table: str) -> str:
    """How a table's header is written: `[[webhook]]` (one per webhook), `[listen]`."""
    return f"[[{table}]]" if table in ARRAY_TABLES else f"[{table}]"


def _quoted_line(path: Path, error: tomllib.TOMLDecodeError) -> str:
    """`: room = "b"`, the line a TOML error names (a repeated key's message names none)."""
    at = _TOML_LINE.search(str(error))
    lines = path.read_text(encoding="utf-8").splitlines()
    if at is None or not 1 <= int(at.group(1)) <= len(lines):
        return ""
    return f": {lines[int(at.group(1)) - 1].strip()[:80]}"


def _require_password_hash_in_serve(path: Path, document: dict[str, Any]) -> None:
    """A ConfigError where the dashboard's `password_hash` sits outside [serve] (a line
    appended after another table), saying where it belongs."""
    if place := _password_hash_place(document):
        raise ConfigError(
            f"{path}: {PASSWORD_HASH} is {place}; it belongs in [serve]: move the line there "
            f"(or delete it and run `miserymeter hash-password --config {path}`)"
        )


def _password_hash_place(document: dict[str, Any]) -> str:
    """Where `password_hash` is outside [serve] ("in [notify]", "in [[webhook]]"), or ""."""
    if PASSWORD_HASH in document:
        return "outside any table"
    for name, value in document.items():
        tables = value if isinstance(value, list) else [value]
        if name != "serve" and any(isinstance(t, dict) and PASSWORD_HASH in t for t in tables):
            return f"in [[{name}]]" if isinstance(value, list) else f"in [{name}]"
    return ""


def set_in_table(path: Path, table: str, key: str, value: str) -> None:
    """Write `key = "value"` into `table` of the config file `path` (through a symbolic link),
    replacing the key's line there or adding it under the table's header; the table is added
    at the end if missing, the file made if missing (readable by its owner only). The rest,
    the line endings, the owner, group and mode stay as they were."""
    target = path.resolve() if path.is_symlink() else path
    original = ""
    if target.exists():
        read_document(target)  # refuse a file that does not parse as it is
        original = target.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in original else "\n"
    lines = original.splitlines()
    line = f'{key} = "{value}"'
    header = re.compile(rf"\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?")
    at_key = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
    start = next((i for i, x in enumerate(lines) if header.fullmatch(x)), None)
    if start is None:
        lines += ([""] if lines and lines[-1].strip() else []) + [f"[{table}]", line]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if _TABLE_HEADER.match(lines[i])),
            len(lines),
        )
        at = next((i for i in range(start + 1, end) if at_key.match(lines[i])), None)
        if at is None:
            lines.insert(start + 1, line)
        else:
            lines[at] = line
    text = newline.join(lines) + newline
    try:
        written = tomllib.loads(text).get(table)
    except tomllib.TOMLDecodeError:
        written = None
    if not isinstance(written, dict) or written.get(key) != value:
        raise ConfigError(
            f"{path}: its [{table}] is written in a way this command does not edit; "
            f"put this line under [{table}] yourself: {line}"
        )
    try:
        _write_keeping_owner(target, text)
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot write it ({e.strerror}); put this line under [{table}]: {line}"
        ) from e


def _write_keeping_owner(target: Path, text: str) -> None:
    """`text` into `target`: written beside it and renamed over it, with the owner, group and
    mode it had (0600 for a new file); in place where the folder cannot take the new file."""
    try:
        before: os.stat_result | None = target.stat()
    except FileNotFoundError:
        before = None
    mode = 0o600 if before is None else stat.S_IMODE(before.st_mode)
    try:
        with atomic_write(target) as partial:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.chmod(partial, mode)
            if before is not None:
                os.chown(partial, before.st_uid, before.st_gid)
    except PermissionError:
        if before is None:
            raise
        _rewrite_in_place(target, text)


def _rewrite_in_place(target: Path, text: str) -> None:
    """`text` over `target`'s content, in the file itself (its folder cannot take a new one);
    where that fails part-way (a full disk, Ctrl-C or SIGTERM), the old content is written
    back, in the space it had, before the error goes on."""
    old = target.read_bytes()
    with target.open("r+b", buffering=0) as f:
        try:
            _write_all(f, text.encode("utf-8"))
            f.truncate()
            os.fsync(f.fileno())
        except BaseException:
            f.seek(0)
            _write_all(f, old)
            f.truncate()
            raise


def _write_all(f: io.FileIO, data: bytes) -> None:
    """All of `data` at `f`'s position (a raw write may take part of it, e.g. up to a full
    disk; the next one raises)."""
    rest = memoryview(data)
    while rest:
        written = f.write(rest)
        if written == 0:
            raise OSError(errno.EIO, "the file took no more bytes")
        rest = rest[written:]
