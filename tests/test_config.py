"""The config file: tables, unknown keys and tables, environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from miserymeter.config import read_config, read_table
from miserymeter.errors import ConfigError


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


def test_an_unknown_table_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[lisen]\nroom = 'x'\n")
    with pytest.raises(ConfigError, match=r"unknown table.*lisen"):
        read_config(path, command="listen", known_keys={"room"})
