"""Destinations from `--webhook` and the config file: names, hidden secrets, refused settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from miserymeter.delivery.configure import build_destinations
from miserymeter.delivery.webhook import WebhookDestination, destination_name, redacted
from miserymeter.errors import ConfigError

KEEN = "https://api.keen.io/3.0/projects/P/events/crying?api_key=K"


def test_names_are_stable_one_per_url_and_hide_the_query() -> None:
    assert destination_name(KEEN) == destination_name(KEEN)
    assert destination_name(KEEN).startswith("webhook:api.keen.io/3.0/projects/P/events/crying?")
    assert "api_key" not in destination_name(KEEN)
    assert destination_name(KEEN) != destination_name(KEEN.replace("=K", "=L"))
    assert destination_name("http://u:pw@host:8080/a") == "webhook:host:8080/a"
    assert redacted(KEEN) == "https://api.keen.io/3.0/projects/P/events/crying?api_key=***"
    assert redacted("http://u:pw@host/a?x=1&y=") == "http://u:***@host/a?x=***&y=***"


def test_options_and_tables_make_one_destination_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM_TEST_KEY", "K")
    config = tmp_path / "listen.toml"
    config.write_text(
        "[[webhook]]\n"
        'url = "https://api.keen.io/3.0/projects/P/events/crying?api_key=${MM_TEST_KEY}"\n'
        'kinds = ["crying_started"]\n'
        "timeout_s = 2\n"
    )
    hook, keen = build_destinations(room="nursery", config=config, webhook_urls=["http://127.0.0.1:8080/hook"])
    assert isinstance(keen, WebhookDestination) and isinstance(hook, WebhookDestination)
    assert keen.settings.url == KEEN and keen.settings.kinds == ("crying_started",)
    assert keen.settings.timeout_s == 2.0 and hook.settings.kinds[0] == "crying_started"
    assert build_destinations(room="nursery", config=None) == []


def test_a_single_webhook_table_works_too_and_twice_the_same_url_is_refused(
    tmp_path: Path,
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text('[webhook]\nurl = "https://example.org/hook"\n')
    (hook,) = build_destinations(room="nursery", config=config)
    assert hook.name == "webhook:example.org/hook"
    twice = r"\[webhook\]: webhook:example.org/hook is configured twice \(also --webhook\)"
    with pytest.raises(ConfigError, match=twice):
        build_destinations(room="nursery", config=config, webhook_urls=["https://example.org/hook"])
    config.write_text('[[webhook]]\nurl = "https://example.org/hook"\nheaders = ["x"]\n')
    with pytest.raises(ConfigError, match=r"\[\[webhook\]\] #1: headers must be a table"):
        build_destinations(room="nursery", config=config)
    config.write_text("[[webhook]]\nsecret = 'x'\n")
    with pytest.raises(ConfigError, match=r"#1: no url"):
        build_destinations(room="nursery", config=config)
