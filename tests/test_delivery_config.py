"""Destinations from `--webhook` and the config file: names, hidden secrets, and settings that
leave a destination out (with a message naming the table, the key and the fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from miserymeter.delivery.configure import Destinations, build_destinations
from miserymeter.delivery.notify.destination import NotifyDestination
from miserymeter.delivery.webhook.destination import WebhookDestination, destination_name, redacted
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
    built = build_destinations(
        room="nursery", config=config, webhook_urls=["http://127.0.0.1:8080/hook"]
    )
    hook, keen = built.usable
    assert built.left_out == ()
    assert isinstance(keen, WebhookDestination) and isinstance(hook, WebhookDestination)
    assert keen.settings.url == KEEN and keen.settings.kinds == ("crying_started",)
    assert keen.settings.timeout_s == 2.0 and hook.settings.kinds[0] == "crying_started"
    assert build_destinations(room="nursery", config=None) == Destinations()


def test_a_single_webhook_table_works_too_and_twice_the_same_url_leaves_one_out(
    tmp_path: Path,
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text('[webhook]\nurl = "https://example.org/hook"\n')
    (hook,) = build_destinations(room="nursery", config=config).usable
    assert hook.name == "webhook:example.org/hook"
    built = build_destinations(
        room="nursery", config=config, webhook_urls=["https://example.org/hook"]
    )
    assert [d.name for d in built.usable] == ["webhook:example.org/hook"]
    (twice,) = built.left_out
    assert twice == (
        f"{config}: [webhook]: webhook:example.org/hook is configured twice (also --webhook)"
        "; remove one (the first is used)"
    )


@pytest.mark.parametrize(
    ("tables", "said"),
    [
        (
            '[[webhook]]\nurl = "https://example.org/hook"\nheaders = ["x"]\n',
            "[[webhook]] #1: headers must be a table",
        ),
        ("[[webhook]]\nsecret = 'x'\n", "[[webhook]] #1: no url; add url ="),
        ('[[webhook]]\nurl = "example.org/hook"\n', "[[webhook]] #1: url 'example.org/hook'"),
        (
            '[[webhook]]\nurl = "https://example.org/${MM_NOT_SET}"\n',
            "[[webhook]] #1 url: environment variable MM_NOT_SET is not set; export it",
        ),
        ('[mqtt]\nurl = "mqtt://broker.lan:port"\n', "[mqtt]: url 'mqtt://broker.lan:port'"),
        ('[notify]\nurls = ["ntfy.sh/topic"]\n', "[notify]: ?:// (URL 1 of 1 in urls)"),
    ],
)
def test_a_destination_with_wrong_settings_is_left_out_and_the_others_are_kept(
    tables: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MM_NOT_SET", raising=False)
    config = tmp_path / "listen.toml"
    config.write_text(f'{tables}\n[[webhook]]\nurl = "https://example.org/good"\n')
    built = build_destinations(room="nursery", config=config)
    assert [d.name for d in built.usable] == ["webhook:example.org/good"]
    (message,) = built.left_out
    assert message.startswith(f"{config}: "), message
    assert said in message, message
    assert message.endswith("; listening goes on without this destination until it is fixed")


def test_a_config_file_that_cannot_be_read_is_still_an_error(tmp_path: Path) -> None:
    config = tmp_path / "listen.toml"
    config.write_text("[[webhook]\nurl = 'https://example.org/hook'\n")
    with pytest.raises(ConfigError, match="not a readable TOML file"):
        build_destinations(room="nursery", config=config)


def test_a_push_url_that_is_not_a_string_is_left_out_and_the_others_are_used(
    tmp_path: Path,
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text('[notify]\nurls = ["json://127.0.0.1/push", 42, { url = "s3cr3t" }]\n')
    built = build_destinations(room="nursery", config=config)
    (notify,) = built.usable
    assert isinstance(notify, NotifyDestination)
    assert [s.label for s in notify.services] == ["json:// (URL 1 of 3 in urls)"]
    number, table = built.left_out
    assert number.startswith(f"{config}: [notify]: URL 2 of 3 in urls is 42, not a string")
    assert table.startswith(f"{config}: [notify]: URL 3 of 3 in urls is a table, not a string")
    assert "s3cr3t" not in table and "\n" not in number + table
    config.write_text("[notify]\nurls = [42]\n")  # none left: [notify] is left out
    (message,) = build_destinations(room="nursery", config=config).left_out
    assert "URL 1 of 1 in urls is 42" in message and "listening goes on without" in message
    config.write_text("[notify]\nurls = []\n")
    (message,) = build_destinations(room="nursery", config=config).left_out
    assert "urls is empty; give at least one apprise URL" in message
