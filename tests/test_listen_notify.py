"""`listen` with a `[notify]` table as a real process: apprise pushes reach a real local server
(apprise's json:// posts), one per episode start and end and a "stopped listening" alert, with
links to the dashboard; pushes made while the server is down arrive on the next run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CliRunner
from test_listen_webhook import FAST_RETRY, example_night
from webhook_receiver import WebhookReceiver


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("nights")
    return example_night(folder, 1), example_night(folder, 2)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.stop()


def notify_config(folder: Path, server: WebhookReceiver, *more_urls: str) -> Path:
    config = folder / "listen.toml"
    urls = [server.url("/push").replace("http://", "json://"), *more_urls]
    config.write_text(
        '[listen]\nroom = "blue"\ndashboard_url = "http://pi.local:8000"\n'
        "[notify]\n"
        f"urls = [{', '.join(f'{url!r}' for url in urls)}]\n"
        "on_end = true\ncooldown_min = 0\n"
    )
    return config


def titles(server: WebhookReceiver) -> list[str]:
    return [event["title"] for event in server.events]


def test_pushes_for_each_episode_and_when_listening_stops(
    nights: tuple[Path, Path],
    receiver: WebhookReceiver,
    run_cli: CliRunner,
    tmp_path: Path,
) -> None:
    config = notify_config(tmp_path, receiver)
    args = ("--no-clips", "--db", tmp_path / "night.db", "--config", config, *FAST_RETRY)
    process = run_cli("listen", "--input", nights[0], *args)
    assert process.returncode == 0, process.stderr
    assert titles(receiver) == [
        "Crying in blue",
        "Crying stopped in blue",
        "Crying in blue",
        "Crying stopped in blue",
        "Monitor in blue stopped listening",
    ]
    start_push = receiver.events[0]
    assert (
        start_push["message"]
        .splitlines()[-1]
        .startswith("http://pi.local:8000/rooms/blue/episodes/2026-11-25T01:")
    )


def test_a_url_apprise_cannot_read_or_expand_is_left_out_and_the_others_get_pushes(
    nights: tuple[Path, Path],
    receiver: WebhookReceiver,
    run_cli: CliRunner,
    tmp_path: Path,
) -> None:
    config = notify_config(
        tmp_path, receiver, "notaservice://foo", "tgram://${MISERYMETER_NOT_SET}/123"
    )
    args = ("--no-clips", "--db", tmp_path / "night.db", "--config", config, *FAST_RETRY)
    process = run_cli("listen", "--input", nights[0], *args)
    assert process.returncode == 0, process.stderr
    bad_url, unset = [line for line in process.stderr.splitlines() if "(URL " in line]
    assert "notaservice:// (URL 2 of 3 in urls) is not a URL apprise can use" in bad_url
    assert "tgram:// (URL 3 of 3 in urls): environment variable MISERYMETER_NOT_SET" in unset
    assert "pushes go to the other URLs" in bad_url and "pushes go to the other URLs" in unset
    assert titles(receiver)[0] == "Crying in blue"
    assert titles(receiver)[-1] == "Monitor in blue stopped listening"


def test_pushes_wait_in_the_outbox_while_the_service_is_down(
    nights: tuple[Path, Path],
    receiver: WebhookReceiver,
    run_cli: CliRunner,
    tmp_path: Path,
) -> None:
    config = notify_config(tmp_path, receiver)
    args = ("--no-clips", "--db", tmp_path / "night.db", "--config", config, *FAST_RETRY)
    receiver.stop()
    first = run_cli("listen", "--input", nights[0], *args)
    assert first.returncode == 0, first.stderr
    assert "event(s) wait in the outbox for notify" in first.stderr
    receiver.start()
    second = run_cli("listen", "--input", nights[1], *args)
    assert second.returncode == 0, second.stderr
    pushed = titles(receiver)
    assert pushed[:5] == [
        "Crying in blue",
        "Crying stopped in blue",
        "Crying in blue",
        "Crying stopped in blue",
        "Monitor in blue stopped listening",
    ]
    assert pushed.count("Crying in blue") == pushed.count("Crying stopped in blue") > 2
    assert pushed[-1] == "Monitor in blue stopped listening"
