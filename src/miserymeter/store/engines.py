"""From a path or URL to a SQLAlchemy engine: embedded SQLite, or PostgreSQL through psycopg 3.

SQLite runs in WAL mode with synchronous=NORMAL: readers never block the writer, a commit
costs no fsync, and a killed process never corrupts the file (a power cut may lose the last
commits). SQLAlchemy, not the sqlite3 module, emits BEGIN, so a write starts with BEGIN
IMMEDIATE: it takes the write lock at once, waiting up to the busy timeout for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from miserymeter.errors import ConfigError, StorageError

BUSY_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 10
# The execution option that makes a SQLite transaction take the write lock when it begins.
WRITE_OPTION = "miserymeter_write"
POSTGRESQL_DRIVERS = ("postgresql", "postgresql+psycopg")
# Every Misery Meter database has this table (store/schema.py).
OUR_MARK_TABLE = "schema_version"
# A new database (and its write-ahead log, which SQLite gives the same mode) is the owner's only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
# A URL's password: from the `:` after the user to the last `@`.
_PASSWORD = re.compile(r"^([^:/]*://[^:/@]*:).*@")


def database_url(target: str | Path) -> URL:
    """`target` as a URL: a path or `sqlite:///path` for SQLite, or a `postgresql://` URL.

    The user and password end at the URL's last `@`, so a password may hold `@`, `:`, `/`,
    `?` or `#` as written; a `%` followed by two hex digits is read as percent-encoding (`%40`
    is `@`: write a `%` itself as `%25`)."""
    if isinstance(target, Path) or "://" not in target:
        return URL.create("sqlite+pysqlite", database=str(Path(target).expanduser()))
    try:
        url = _url_with_userinfo(target)
    except (ArgumentError, ValueError) as e:
        problem = "its port is not a number" if isinstance(e, ValueError) else str(e)
        raise ConfigError(
            f"cannot read the database URL {shown_url(target)} ({problem}); "
            "write it as postgresql://user:password@host:port/database"
        ) from None
    if url.drivername in ("sqlite", "sqlite+pysqlite") and url.database:
        return url.set(drivername="sqlite+pysqlite")
    if url.drivername in POSTGRESQL_DRIVERS:
        return url.set(drivername="postgresql+psycopg")
    raise ConfigError(
        f"unsupported database {shown_url(target)}: "
        "give a file path or a postgresql://user@host/database URL"
    )


def shown_url(target: str) -> str:
    """`target` with its password, all that lies between `user:` and the last `@`, as ***."""
    return _PASSWORD.sub(r"\1***@", target)


def _url_with_userinfo(target: str) -> URL:
    """The URL of `target`, its user and password cut at the last `@` (SQLAlchemy cuts at the
    first) and percent-decoded."""
    scheme, _, rest = target.partition("://")
    if scheme.startswith("sqlite") or "@" not in rest:
        return make_url(target)
    userinfo, _, place = rest.rpartition("@")
    username, has_password, password = userinfo.partition(":")
    return make_url(f"{scheme}://{place}").set(
        username=unquote(username) or None, password=unquote(password) if has_password else None
    )


def display_name(url: URL) -> str:
    """How messages name the database: its file, or its URL without the password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    shown = url.set(drivername="postgresql")
    return shown.render_as_string(hide_password=True)


def create_store_engine(url: URL, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """An engine for `url`; SQLite's folder is created and its connections are set up."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s=busy_timeout_s)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_engine(url: URL, *, busy_timeout_s: float) -> Engine:
    path = Path(str(url.database))
    try:
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(
            f"cannot create the folder of database {path}: {e.strerror}; give a writable path"
        ) from e
    _refuse_another_programs_file(path)
    _create_private(path)
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
    event.listen(engine, "connect", _set_up_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _refuse_another_programs_file(path: Path) -> None:
    """A SQLite file with tables but not ours is another program's: opening it as a store
    would add our tables and turn on write-ahead logging behind that program's back. Read
    only, and only to look; a file that is not SQLite is left to the store to report."""
    if path.name == ":memory:" or not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
    except sqlite3.Error:
        return
    if tables and OUR_MARK_TABLE not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StorageError(
            f"database {path} is another program's (tables {shown}); pass --db a new file "
            "or a Misery Meter database"
        )


def _create_private(path: Path) -> None:
    """Create a new database file readable by its owner only (SQLite reports what fails)."""
    if path.name == ":memory:":
        return
    # It exists already, or SQLite says why it cannot be created when it opens it.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))


def _set_up_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see _begin_sqlite)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
