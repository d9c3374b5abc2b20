"""Database errors as one line that names the database and says what to do about it."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from miserymeter.errors import ServerUnreachable, StorageError

# SQLite's primary result codes (sqlite3's `sqlite_errorname` carries extended ones too).
SQLITE_FIXES = {
    "SQLITE_BUSY": "another process kept it locked for over {busy_timeout_s:g} s; "
    "stop the other program writing to it",
    "SQLITE_LOCKED": "it is locked by another connection; stop the other program writing to it",
    "SQLITE_FULL": "the disk is full; free some space on it",
    "SQLITE_NOTADB": "the file is not a SQLite database; give another path",
    "SQLITE_CORRUPT": "the file is damaged; move it away and start a new database",
    "SQLITE_READONLY": "it is read-only (a read-only file or file system); give a writable path",
    "SQLITE_CANTOPEN": "the file cannot be opened or created; give a path in a writable folder",
    "SQLITE_IOERR": "the disk reported an error; check the disk and the free space",
    "SQLITE_PERM": "permission denied; give a writable path",
}

# PostgreSQL SQLSTATE classes and codes, for errors of an established connection.
POSTGRESQL_FIXES = {
    "08": "the connection to the server failed; check that it runs and the URL",
    "28": "the server refused the user or password; fix them in the URL",
    "42501": "the user lacks a permission; grant it or use another user",
    "25006": "the server is read-only (a standby?); use the primary server",
    "53100": "the server's disk is full; free space on it",
    "53": "the server is out of resources; check its disk and memory",
    "57P": "the server is shutting down or restarting; try again when it is back",
}
# A server that refuses a new connection says why after "FATAL:", without a SQLSTATE.
AUTH_FIX = "fix the user or password in the URL, or allow them in the server's pg_hba.conf"
REFUSAL_FIXES = {
    "the database system is": POSTGRESQL_FIXES["57P"],  # starting up, shutting down
    "password authentication failed": AUTH_FIX,
    "no pg_hba.conf entry": AUTH_FIX,
    'role "': AUTH_FIX,
    'database "': "create the database (createdb) or fix the URL",
}
REFUSED_FIX = "the server refused the connection; fix the URL or the server's settings"
UNREACHABLE_FIX = "cannot reach the server; check that it runs and accepts connections, and the URL"
# The faults of a server that is down or restarting: they pass (a ServerUnreachable).
PASSING_FIXES = (UNREACHABLE_FIX, POSTGRESQL_FIXES["08"], POSTGRESQL_FIXES["57P"])


def storage_error(
    error: DBAPIError, *, action: str, database: str, busy_timeout_s: float
) -> StorageError:
    """A StorageError for the driver's `error`, raised doing `action` ("write to") on `database`
    (a SQLite database waits up to `busy_timeout_s` for another process's lock)."""
    cause: BaseException = error.orig if error.orig is not None else error
    detail = _first_line(str(cause)) or type(cause).__name__
    if "FATAL:" in detail:
        detail = detail.split("FATAL:", 1)[1].strip()
    fix = _sqlite_fix(cause) or _postgresql_fix(cause, detail)
    if fix is None:
        return StorageError(f"cannot {action} database {database}: {detail}")
    message = f"cannot {action} database {database} ({detail}): "
    if fix in PASSING_FIXES:
        return ServerUnreachable(message + fix, reason=detail)
    return StorageError(message + fix.format(busy_timeout_s=busy_timeout_s))


def _sqlite_fix(cause: BaseException) -> str | None:
    name = getattr(cause, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    return next((fix for code, fix in SQLITE_FIXES.items() if name.startswith(code)), None)


def _postgresql_fix(cause: BaseException, detail: str) -> str | None:
    if not type(cause).__module__.startswith("psycopg"):
        return None
    state = getattr(cause, "sqlstate", None)
    if state is not None:
        matches = [code for code in POSTGRESQL_FIXES if state.startswith(code)]
        return POSTGRESQL_FIXES[max(matches, key=len)] if matches else None
    if type(cause).__name__ != "OperationalError":  # e.g. a value psycopg cannot send
        return None
    if "FATAL:" not in str(cause):
        return UNREACHABLE_FIX
    return next((fix for text, fix in REFUSAL_FIXES.items() if text in detail), REFUSED_FIX)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""
