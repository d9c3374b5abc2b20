"""The shipped systemd units and example config work with the commands they run."""

from __future__ import annotations

import configparser
import json
import shlex
from pathlib import Path

import pytest
import soundfile as sf

from conftest import CliRunner
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
    assert command in ("listen", "record")
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
