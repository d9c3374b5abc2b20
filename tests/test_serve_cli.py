"""`miserymeter serve` and `hash-password` as a user runs them: a real server in a subprocess."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import signal
import socket
import subprocess
import tomllib
from pathlib import Path

import httpx

from conftest import (
    CliRunner,
    DemoNight,
    assert_one_error_line,
    cli_command,
    cli_env,
    without_permission_override,
)
from miserymeter.detect.settings import DetectorSettings
from miserymeter.web.passwords import verify_password
from miserymeter.wiring.dashboard import password_hash_in
from postgres_server import free_port

PASSWORD = "the baby sleeps"
DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy"
START_TIMEOUT_S = 30.0


def test_other_hosts_without_a_password_are_one_clear_error(
    run_cli: CliRunner, demo_night: DemoNight
) -> None:
    process = run_cli("serve", "--db", demo_night.db, "--host", "0.0.0.0")
    assert_one_error_line(process, "--host 0.0.0.0", "password", "hash-password")


def test_a_missing_database_or_a_taken_port_is_one_clear_error(
    run_cli: CliRunner, demo_night: DemoNight, tmp_path: Path
) -> None:
    missing = tmp_path / "none.db"
    assert_one_error_line(run_cli("serve", "--db", missing), missing, "listen")
    assert not missing.exists()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run_cli("serve", "--db", demo_night.db, "--port", str(port))
    assert_one_error_line(process, f"127.0.0.1:{port}", "--port")


def test_hash_password_prints_the_config_line(run_cli: CliRunner) -> None:
    process = run_cli("hash-password", "--password", PASSWORD)
    assert process.returncode == 0, process.stderr
    found = re.fullmatch(r'password_hash = "(scrypt\$[^"]+)"\n', process.stdout)
    assert found is not None and verify_password(PASSWORD, found.group(1))


def hash_password_piped(stdin: bytes) -> subprocess.CompletedProcess[str]:
    """`miserymeter hash-password` with `stdin` piped in, started without a controlling
    terminal, as a script would; its output decoded."""
    process = subprocess.run(
        [*cli_command(), "hash-password"],
        input=stdin,
        capture_output=True,
        env=cli_env(),
        start_new_session=True,
        timeout=60,
    )
    return subprocess.CompletedProcess(
        process.args, process.returncode, process.stdout.decode(), process.stderr.decode()
    )


def test_hash_password_reads_a_piped_password_so_stdout_is_only_the_config_line() -> None:
    """`echo "$PW" | miserymeter hash-password >> serve.toml`: the password is the piped line
    (once: nobody types it), nothing else lands in the file. Started without a controlling
    terminal, as a script would."""
    process = hash_password_piped(f"{PASSWORD}\n".encode())
    assert process.returncode == 0, process.stderr
    found = re.fullmatch(r'password_hash = "(scrypt\$[^"]+)"\n', process.stdout)
    assert found is not None and verify_password(PASSWORD, found.group(1))
    assert process.stderr == ""


def test_hash_password_piped_from_a_windows_file_hashes_the_password_alone() -> None:
    """`miserymeter hash-password < password.txt`, the file saved by Notepad: a byte order
    mark before the password and CRLF after it; the hash is the password's, which the login
    page sends (it was of the invisible mark and the password: no login ever matched)."""
    process = hash_password_piped(f"\ufeff{PASSWORD}\r\n".encode())
    assert process.returncode == 0, process.stderr
    found = re.fullmatch(r'password_hash = "(scrypt\$[^"]+)"\n', process.stdout)
    assert found is not None and verify_password(PASSWORD, found.group(1))


def test_hash_password_piped_in_latin_1_is_one_error_not_a_hash_nobody_can_log_in_with() -> None:
    """`echo "$PW" | ...` from a Latin-1 file or terminal: 'ä' is the byte E4, which no UTF-8
    login page sends (the hash would never match; it was a UnicodeEncodeError traceback)."""
    process = hash_password_piped("pässwort-für-oben\n".encode("latin-1"))
    assert_one_error_line(process, "not UTF-8", "Latin-1")
    assert process.stdout == ""


def test_hash_password_with_nothing_piped_says_how_to_give_it() -> None:
    """`echo -n | miserymeter hash-password`: standard input closed at once."""
    process = hash_password_piped(b"")
    line = assert_one_error_line(process, "no password on standard input", "echo", "| miserymeter")
    assert "Aborted" not in line


def at_a_terminal(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    """`miserymeter ARGS` on a new pseudo-terminal (its stdin, stdout and stderr) in a session
    of its own; returns the process and the terminal's other end, where a person types."""
    typed_end, program_end = pty.openpty()
    process = subprocess.Popen(
        [*cli_command(), *args],
        stdin=program_end,
        stdout=program_end,
        stderr=program_end,
        env=cli_env(),
        start_new_session=True,
    )
    os.close(program_end)
    return process, typed_end


def read_until(typed_end: int, text: str) -> str:
    """What the program wrote to its terminal up to `text`, or all it wrote if it ended first."""
    seen = b""
    while text.encode() not in seen:
        try:
            chunk = os.read(typed_end, 4096)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen.decode().replace("\r\n", "\n")


def test_hash_password_stopped_at_its_prompt_says_stopped() -> None:
    """Ctrl-C (SIGINT) at the hidden prompt: the project's "stopped" line and 130, as every
    other command; Ctrl-D there: one line saying how to give the password."""
    process, typed_end = at_a_terminal("hash-password")
    try:
        assert "Password: " in read_until(typed_end, "Password: ")
        process.send_signal(signal.SIGINT)
        after = read_until(typed_end, "\0")  # to the end
        assert process.wait(timeout=60) == 130
    finally:
        os.close(typed_end)
    assert "stopped (Ctrl-C or SIGTERM)" in after
    assert "Aborted" not in after and "Traceback" not in after

    process, typed_end = at_a_terminal("hash-password")
    try:
        read_until(typed_end, "Password: ")
        os.write(typed_end, b"\x04")  # Ctrl-D
        after = read_until(typed_end, "\0")
        assert process.wait(timeout=60) == 1
    finally:
        os.close(typed_end)
    lines = [line for line in after.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no password typed"), after
    assert "| miserymeter hash-password" in lines[0]


def test_hash_password_writes_the_line_into_the_serve_table_of_a_config(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    """deploy/serve.toml ends with [notify]: the line goes under [serve], the rest stays."""
    config = tmp_path / "serve.toml"
    original = (DEPLOY_DIR / "serve.toml").read_text()
    config.write_text(original)
    for password in ("first password", PASSWORD):  # the second replaces the first
        process = run_cli("hash-password", "--password", password, "--config", config)
        assert process.returncode == 0, process.stderr
    assert verify_password(PASSWORD, tomllib.loads(config.read_text())["serve"]["password_hash"])
    added = [x for x in config.read_text().splitlines() if x not in original.splitlines()]
    assert len(added) == 1 and added[0].startswith("password_hash = ")

    made = tmp_path / "new" / "listen.toml"
    made.parent.mkdir()
    assert run_cli("hash-password", "--password", PASSWORD, "--config", made).returncode == 0
    assert verify_password(PASSWORD, password_hash_in(made) or "")
    assert made.stat().st_mode & 0o777 == 0o600


def test_a_config_rewritten_in_place_on_a_full_disk_keeps_its_old_content(
    tiny_disk: Path,
) -> None:
    """A config in a folder hash-password may not write a new file into is rewritten in the
    file itself; the disk filling up part-way leaves the old config, not half of the new."""
    folder = tiny_disk / "etc"
    folder.mkdir()
    config = folder / "serve.toml"
    text = (DEPLOY_DIR / "serve.toml").read_text()
    original = text + "#" * (4090 - len(text.encode())) + "\n"  # its new line needs a new page
    config.write_text(original)
    folder.chmod(0o555)
    with (tiny_disk / "filler").open("wb", buffering=0) as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"x" * 4096)

    process = without_permission_override(
        "hash-password", "--password", PASSWORD, "--config", config
    )

    assert_one_error_line(process, config, "No space left on device")
    assert config.read_text() == original


def test_a_password_hash_outside_serve_is_one_error_saying_where_it_belongs(
    run_cli: CliRunner, demo_night: DemoNight, tmp_path: Path
) -> None:
    """What `hash-password >> serve.toml` did to a file ending with another table."""
    line = run_cli("hash-password", "--password", PASSWORD).stdout
    appended = tmp_path / "serve.toml"
    appended.write_text((DEPLOY_DIR / "serve.toml").read_text() + line)
    process = run_cli("serve", "--db", demo_night.db, "--config", appended, "--host", "0.0.0.0")
    assert_one_error_line(process, appended, "password_hash is in [notify]", "[serve]")

    alone = tmp_path / "alone.toml"
    alone.write_text(line)
    process = run_cli("serve", "--db", demo_night.db, "--config", alone)
    assert_one_error_line(process, alone, "outside any table", "hash-password --config")


def test_serve_reads_its_config_and_asks_for_the_password(
    run_cli: CliRunner, demo_night: DemoNight, tmp_path: Path
) -> None:
    line = run_cli("hash-password", "--password", PASSWORD).stdout
    port = free_port()
    config = tmp_path / "serve.toml"
    config.write_text(
        f"[serve]\n{line}port = {port}\nclips = '{demo_night.clips_dir}'\n"
        f"data_dir = '{tmp_path / 'dataset'}'\n\n[listen]\non_probability = 0.7\n"
    )
    server = subprocess.Popen(
        [*cli_command(), "serve", "--db", str(demo_night.db), "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert server.stderr is not None
        started = server.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in started, started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=START_TIMEOUT_S) as client:
            assert client.get("/api/rooms").status_code == 401
            login = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login)
            assert token is not None
            client.post("/login", data={"password": PASSWORD, "csrf_token": token.group(1)})
            timeline = client.get("/api/rooms/demo/timeline").json()
        assert timeline["thresholds"] == {"on": 0.7, "off": DetectorSettings().off_probability}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=START_TIMEOUT_S)
    assert server.returncode == 0


def test_serve_takes_the_listeners_thresholds_and_gate(
    run_cli: CliRunner, demo_night: DemoNight, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "listen.toml"
    config.write_text("[listen]\noff_probability = 0.5\ngate_db = 9\n\n[serve]\n")
    server = subprocess.Popen(
        [*cli_command(), "serve", "--db", str(demo_night.db), "--config", str(config),
         "--port", str(port), "--on_probability", "0.75"],
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )  # fmt: skip
    try:
        assert server.stderr is not None
        started = server.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in started, started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=START_TIMEOUT_S) as client:
            timeline = client.get("/api/rooms/demo/timeline").json()
            quiet = client.get("/api/rooms/demo/quiet").json()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=START_TIMEOUT_S)
    assert timeline["thresholds"] == {"on": 0.75, "off": 0.5}
    assert quiet["gate_db"] == 9.0
    crossed = run_cli("serve", "--db", demo_night.db, "--config", config, "--on_probability", "0.3")
    assert_one_error_line(crossed, "off_probability 0.5", "on_probability 0.3")
    config.write_text("[listen]\ngate_db = 'loud'\n")
    assert_one_error_line(run_cli("serve", "--db", demo_night.db, "--config", config), "gate_db")
