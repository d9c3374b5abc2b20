"""The config file: tables, unknown keys and tables, environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path

import pytest
import typer.main

from conftest import CliRunner, assert_one_error_line
from miserymeter.cli import app
from miserymeter.config import read_config, read_table, set_in_table
from miserymeter.errors import ConfigError
from miserymeter.wiring.listen_options import ListenOptions
from miserymeter.wiring.record_options import RecordOptions
from miserymeter.wiring.serve_options import ServeOptions


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "miserymeter.toml"
    path.write_text(text)
    return path


def test_variables_are_taken_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM_SECRET", "s3cret")
    path = write(
        tmp_path,
        '[listen]\nroom = "nursery"\n[mqtt]\nurl = "mqtt://u:${MM_SECRET}@host"\n'
        '[[webhook]]\nurl = "http://a"\nheaders = { Authorization = "Bearer ${MM_SECRET}" }\n',
    )
    assert read_config(path, command="listen", known_keys={"room"}) == {"room": "nursery"}
    assert read_table(path, "mqtt") == {"url": "mqtt://u:s3cret@host"}
    assert read_table(path, "webhook") == [
        {"url": "http://a", "headers": {"Authorization": "Bearer s3cret"}}
    ]
    assert read_table(path, "notify") == {}


def test_a_missing_variable_names_the_table_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MM_NOT_SET", raising=False)
    path = write(tmp_path, '[mqtt]\npassword = "${MM_NOT_SET}"\n')
    with pytest.raises(ConfigError, match=r"\[mqtt\] password: environment variable MM_NOT_SET"):
        read_table(path, "mqtt")


def test_an_unknown_table_is_refused_with_the_header_meant(tmp_path: Path) -> None:
    path = write(tmp_path, "[lisen]\nroom = 'x'\n")
    with pytest.raises(ConfigError, match=r"unknown table.*lisen \(did you mean \[listen\]\?\)"):
        read_config(path, command="listen", known_keys={"room"})
    path = write(tmp_path, "[[webhooks]]\nurl = 'https://x'\n")  # one per webhook: [[...]]
    with pytest.raises(ConfigError, match=r"webhooks \(did you mean \[\[webhook\]\]\?\)"):
        read_config(path, command="listen", known_keys={"room"})


def test_a_repeated_key_is_quoted_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[listen]\nroom = "a"\nroom = "b"\n')
    with pytest.raises(ConfigError, match=r'\(at line 3, column \d+\): room = "b"\); fix it'):
        read_config(path, command="listen", known_keys={"room"})


@pytest.mark.parametrize(
    ("command", "options_type"),
    [("listen", ListenOptions), ("serve", ServeOptions), ("record", RecordOptions)],
)
def test_a_commands_options_are_its_parameters_with_the_same_defaults(
    command: str, options_type: type
) -> None:
    """The typed options and the command line cannot drift apart: one field per parameter
    (a trailing `_` dropped), and the command line's default is the field's."""
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    params = {p.name.rstrip("_"): p for p in click_command.params if p.name != "config"}
    defaults = options_type()
    assert set(params) == {f.name for f in fields(options_type)}
    for name, param in params.items():
        default = param.default if param.default is not None or not param.multiple else ()
        assert default == getattr(defaults, name), name


def test_a_config_value_is_converted_and_checked_as_on_the_command_line(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    path = write(tmp_path, '[listen]\nhop_s = "fast"\n')
    process = run_cli("listen", "--config", path, "--input", tmp_path / "none.flac")
    assert_one_error_line(process, path, "hop_s", "fast")
    path = write(tmp_path, '[listen]\nwebhook = "https://hooks.example/cry"\n')
    process = run_cli("listen", "--config", path, "--input", "-")
    assert_one_error_line(process, "takes a list", '["https://hooks.example/cry"]')
    path = write(tmp_path, "[listen]\nsample_rate = 1\n")
    process = run_cli("listen", "--config", path, "--input", "-")
    assert_one_error_line(process, "--sample_rate 1", "pass the rate it records at")
    path = write(tmp_path, "[record]\nsample_rate = 1\nsegment_s = 10\n")
    process = run_cli("record", "--config", path, "--out", tmp_path / "archive")
    assert_one_error_line(process, "--sample_rate 1", "pass the rate it records at")


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("serve", ["with [notify] in --config", "[serve] keys", "[listen]'s thresholds"]),
        ("listen", ["A TOML file whose [listen] keys", "the [serve] password_hash"]),
        ("record", ["A TOML file whose [record] keys"]),
    ],
)
def test_help_prints_every_word_of_the_config_tables(
    command: str, words: list[str], run_cli: CliRunner
) -> None:
    """Rich markup would take `[notify]` for a style and print "with  in --config"."""
    shown = run_cli(command, "--help").stdout
    flat = " ".join(shown.split())
    for w in words:
        assert w in flat, f"{w!r} not in the help of {command}"
    assert "\\[" not in shown


def test_a_key_is_set_through_a_link_keeping_line_endings_owner_group_and_mode(
    tmp_path: Path,
) -> None:
    target = tmp_path / "etc" / "serve.toml"
    target.parent.mkdir()
    target.write_bytes(
        b"[ serve ]  # the dashboard\r\nport = 8080\r\n\r\n[notify]\r\nurls = []\r\n"
    )
    target.chmod(0o640)
    if os.geteuid() == 0:  # as the deploy's `install -g miserymeter` leaves it
        os.chown(target, 0, 65534)
    before = target.stat()
    link = tmp_path / "serve.toml"
    link.symlink_to(target)

    set_in_table(link, "serve", "password_hash", "scrypt$new")
    set_in_table(link, "serve", "password_hash", "scrypt$newer")  # replaces its own line

    assert link.is_symlink()
    assert target.read_bytes() == (
        b'[ serve ]  # the dashboard\r\npassword_hash = "scrypt$newer"\r\nport = 8080\r\n\r\n'
        b"[notify]\r\nurls = []\r\n"
    )
    after = target.stat()
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )


@pytest.mark.parametrize(
    "text",
    ["[[serve]]\nport = 1\n", "serve = { port = 1 }\n", 'serve.port = 1\n',
     '[serve]\npassword_hash = """\nold"""\n'],
)  # fmt: skip
def test_a_table_written_another_way_is_one_error_with_the_line_to_paste(
    text: str, tmp_path: Path
) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"put this line under \[serve\] yourself: password_hash"):
        set_in_table(config, "serve", "password_hash", "scrypt$new")
    assert config.read_text() == text


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ('password_hash = "x"\n[serve]\n', "outside any table"),
        ('[listen]\nroom = "a"\npassword_hash = "x"\n', "in [listen]"),
        ('[[webhook]]\nurl = "http://pi/hook"\npassword_hash = "x"\n', "in [[webhook]]"),
    ],
)
def test_a_password_hash_outside_serve_says_where_it_belongs(
    text: str, place: str, tmp_path: Path
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"password_hash is {place}; it belongs in")):
        read_table(config, "listen")
