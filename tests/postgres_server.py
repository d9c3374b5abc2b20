"""A real PostgreSQL server on loopback for the tests: initdb into a temporary folder, pg_ctl.

initdb refuses to run as root, so the server runs as the `postgres` system user (through
`runuser`) when the tests run as root. It listens on 127.0.0.1 at a free port, keeps its unix
socket in its own folder, and trusts local connections; fsync is off unless asked for (the
tests check the store's transactions, not the server's durability). Each `new_database()` is
an empty database. Members of the role `password_logins` log in over TCP with their password
(`new_password_user`), every other user is trusted.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from miserymeter.store.engines import database_url

TABLES_BYTES_SQL = """
    SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
"""
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60
# The group role whose members must give their password (scram-sha-256) over TCP.
PASSWORD_GROUP = "password_logins"


def postgres_bin_dir() -> Path | None:
    """The newest `/usr/lib/postgresql/*/bin` that has initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def postgres_available() -> str | None:
    """None if a PostgreSQL server can be started here, else what is missing."""
    if postgres_bin_dir() is None:
        return "postgresql (initdb, pg_ctl)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "runuser (util-linux)"
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"the {SYSTEM_USER} system user (the postgresql package creates it)"
    return None


def tables_bytes(url: str) -> int:
    """The bytes on disk of the tables of the database at `url`, with their indexes."""
    engine = create_engine(database_url(url))
    with engine.connect() as connection:
        size = connection.execute(text(TABLES_BYTES_SQL)).scalar_one()
    engine.dispose()
    return int(size)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """A running server of its own folder; `stop()` shuts it down and deletes its files."""

    def __init__(self, *, fsync: bool = False, max_connections: int = 30) -> None:
        self.fsync = fsync
        self.max_connections = max_connections
        bin_dir = postgres_bin_dir()
        assert bin_dir is not None, "postgres_available() first"
        self.bin_dir = bin_dir
        # Not under pytest's tmp_path: its parent folder is private to root.
        self.root = Path(tempfile.mkdtemp(prefix="miserymeter-postgres-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam(SYSTEM_USER)
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.port = free_port()
        self._names = itertools.count()
        self._run("initdb", "-D", self.data_dir, "-U", SUPERUSER, "-A", "trust", "--no-sync")
        hba = self.data_dir / "pg_hba.conf"  # its first matching line wins
        password_line = f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(password_line + hba.read_text())
        self.start()
        self.psql(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.socket_dir} "
            f"-c max_connections={self.max_connections} -c fsync={'on' if self.fsync else 'off'}"
        )
        self._run(
            "pg_ctl", "start", "-D", self.data_dir, "-w", "-t", str(START_TIMEOUT_S),
            "-l", self.root / "server.log", "-o", options,
        )  # fmt: skip

    def shut_down(self) -> None:
        """Stop the server, closing its connections; `start()` brings it back with its data."""
        self._run("pg_ctl", "stop", "-D", self.data_dir, "-m", "fast", "-w")

    def shut_down_once_idle(self) -> None:
        """Ask the server to stop once its clients have gone (a smart shut-down), not waiting:
        meanwhile it refuses new connections ("the database system is shutting down")."""
        self._run("pg_ctl", "stop", "-D", self.data_dir, "-m", "smart", "--no-wait")

    @property
    def pid(self) -> int:
        """The server's main process (its connections are its children)."""
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def url(self, database: str = "postgres") -> str:
        """The URL of `database` on this server, over TCP on loopback."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        name = f"test_{next(self._names)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def new_password_user(self, password: str) -> tuple[str, str]:
        """A new user who must log in with `password`, and a new empty database it owns:
        (user, the database's URL without user)."""
        n = next(self._names)
        user, database = f"user_{n}", f"test_{n}"
        literal = password.replace("'", "''")
        self.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{literal}' IN ROLE {PASSWORD_GROUP}")
        self.psql(f"CREATE DATABASE {database} OWNER {user}")
        return user, f"127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` through psql over the unix socket; returns its unaligned output."""
        process = self._run(
            "psql", "-h", self.socket_dir, "-p", str(self.port), "-U", SUPERUSER,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
        )  # fmt: skip
        return process.stdout

    def stop(self) -> None:
        """Stop the server for good and delete its files."""
        self._run("pg_ctl", "stop", "-D", self.data_dir, "-m", "immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(
        self, program: str, *args: str | Path, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        process = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False
        )
        if check and process.returncode != 0:
            raise RuntimeError(f"{program} failed:\n{process.stdout}\n{process.stderr}")
        return process


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(part) for part in version.split(".") if part.isdigit())
