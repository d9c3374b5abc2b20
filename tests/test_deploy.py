"""The shipped systemd units and example config work with the commands they run."""

from __future__ import annotations

import configparser
import json
import shlex
import signal
import subprocess
import tomllib
from pathlib import Path

import pytest
import soundfile as sf

from conftest import CliRunner, cli_command, cli_env
from miserymeter.delivery.notify.settings import notify_settings
from miserymeter.store import open_store
from miserymeter.wiring.listen_options import ListenOptions
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
    program, command, *options = exec_start(unit)
    assert program.endswith("/miserymeter")
    assert command in ("listen", "record", "serve")
    options = [
        o.replace("/etc/miserymeter/listen.toml", str(DEPLOY_DIR / "listen.toml")) for o in options
    ]
    night = tmp_path / "night.flac"
    sf.write(night, small_night()[: 5 * RATE_HZ], RATE_HZ)
    if command == "listen":  # the config file must be accepted as it ships
        process = run_cli(command, *options, "--input", night, "--no-clips", "--json")
    else:
        process = run_cli(command, *options, "--help")
    assert process.returncode == 0, process.stderr
    assert "warning: " not in process.stderr  # no destination of the file is left out


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
    assert "warning: " not in shipped.stderr
    spans = [
        [(e["start_s"], e["end_s"]) for e in map(json.loads, p.stdout.splitlines())]
        for p in (shipped, default)
    ]
    assert spans[0] == spans[1] and len(spans[0]) == 1


def test_every_value_the_example_config_sets_is_listens_default() -> None:
    """deploy/listen.toml sets the defaults it documents, so a Pi installed from it runs the
    detector as tuned (it once set on 0.6 and a 6 dB gate, long after the defaults moved)."""
    table = tomllib.loads((DEPLOY_DIR / "listen.toml").read_text())["listen"]
    defaults = ListenOptions()
    differ = {
        key: (value, getattr(defaults, key))
        for key, value in table.items()
        if key != "room" and value != getattr(defaults, key)
    }
    assert differ == {}, "deploy/listen.toml (value, default): " + repr(differ)
    assert {"on_probability", "smoothing_s", "min_duration_s", "gate_db"} <= set(table)


def test_the_servers_example_config_starts_serve_with_its_offline_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/serve.toml as it ships (its [notify] defaults documented) runs `serve`."""
    shipped = DEPLOY_DIR / "serve.toml"
    lines = shipped.read_text().splitlines()
    uncommented = [line.removeprefix("# ") for line in lines[lines.index("[notify]") :]]
    table = tomllib.loads("\n".join(line for line in uncommented if not line.startswith("#")))
    documented = notify_settings(table["notify"], where="serve.toml")
    assert documented == notify_settings({"urls": table["notify"]["urls"]}, where="serve.toml")
    monkeypatch.setenv("MISERYMETER_DB_PASSWORD", "unused")
    with open_store(tmp_path / "empty.db"):  # no rooms: nothing is pushed to ntfy.sh
        pass
    config = tmp_path / "serve.toml"
    config.write_text(shipped.read_text().replace("port = 8000", f"port = {free_port()}"))
    server = subprocess.Popen(
        [*cli_command(), "serve", "--config", str(config), "--db", str(tmp_path / "empty.db")],
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert server.stderr is not None
        assert "serving the dashboard on http://127.0.0.1:" in server.stderr.readline()
        assert "watching every room" in server.stderr.readline()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
