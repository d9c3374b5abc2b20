"""The shipped systemd units and example config work with the commands they run."""

from __future__ import annotations

import configparser
import json
import shlex
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from conftest import CliRunner, cli_command, cli_env
from postgres_server import free_port
from test_listen import RATE_HZ, small_night

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy"


def exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(unit.read_text())
    return shlex.split(parser["Service"]["ExecStart"])


@pytest.mark.parametrize("unit", sorted(DEPLOY_DIR.glob("*.service")), ids=lambda p: p.name)
def test_each_unit_runs_a_miserymeter_command_with_valid_options(
    unit: Path, run_cli: CliRunner, tmp_path: Path
) -> None:
    program, command, *options = shipped_command(unit)
    assert program.endswith("/miserymeter")
    assert command in ("listen", "record", "serve")
    night = tmp_path / "night.flac"
    sf.write(night, small_night()[: 5 * RATE_HZ], RATE_HZ)
    if command == "listen":  # the config file must be accepted as it ships
        process = run_cli(command, *options, "--input", night, "--no-clips", "--json")
    else:  # serve: test_the_serve_unit_serves_what_the_listen_unit_stores
        process = run_cli(command, *options, "--help")
    assert process.returncode == 0, process.stderr


def shipped_command(unit: Path) -> list[str]:
    """The unit's ExecStart, reading the config file shipped in deploy/."""
    return [
        o.replace("/etc/miserymeter/listen.toml", str(DEPLOY_DIR / "listen.toml"))
        for o in exec_start(unit)
    ]


def test_the_serve_unit_serves_what_the_listen_unit_stores(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    night = tmp_path / "night.flac"
    sf.write(night, small_night()[: 5 * RATE_HZ], RATE_HZ)
    db = tmp_path / "miserymeter.db"  # where both units' XDG_DATA_HOME puts it
    _, *listen = shipped_command(DEPLOY_DIR / "miserymeter-listen.service")
    assert run_cli(*listen, "--input", night, "--no-clips", "--db", db).returncode == 0
    _, *serve = shipped_command(DEPLOY_DIR / "miserymeter-serve.service")
    port = free_port()
    server = subprocess.Popen(
        [*cli_command(), *serve, "--db", str(db), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert server.stderr is not None
        assert f"http://127.0.0.1:{port}/" in server.stderr.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
            assert client.get("/api/rooms").json() == ["nursery"]  # listen.toml's room
            timeline = client.get("/api/rooms/nursery/timeline").json()
            assert timeline["thresholds"] == {"on": 0.6, "off": 0.4}  # its [listen] table
            assert client.get("/rooms/nursery/level").status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30.0)
    assert server.returncode == 0


def test_the_example_config_sets_the_defaults_it_documents(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    night = tmp_path / "night.flac"
    sf.write(night, small_night(), RATE_HZ)
    shipped = run_cli(
        "listen", "--config", DEPLOY_DIR / "listen.toml", "--input", night, "--json", "--no-clips"
    )
    default = run_cli("listen", "--input", night, "--json", "--no-clips")
    assert shipped.returncode == default.returncode == 0, shipped.stderr + default.stderr
    spans = [
        [(e["start_s"], e["end_s"]) for e in map(json.loads, p.stdout.splitlines())]
        for p in (shipped, default)
    ]
    assert spans[0] == spans[1] and len(spans[0]) == 1
