"""`listen` and destinations it cannot use, as a real process: a destination that cannot be
reached (a host that does not resolve) is one line at start-up, while listening goes on and
its events wait in the outbox; a malformed one (a URL, a scheme apprise does not know) is one
warning line naming the table and the key, never the URL's secrets, and listening goes on
without it, with every other destination."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from conftest import CliRunner, assert_one_warning_line, cli_command, cli_env
from miserymeter.events import CRYING_STARTED, CRYING_STOPPED
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.store import open_store
from test_listen_webhook import (
    FAST_RETRY,
    SPAN,
    StderrLines,
    assert_all_arrived_in_order,
    example_night,
    pcm,
)
from webhook_receiver import WebhookReceiver

LEFT_OUT = "; listening goes on without this destination until it is fixed"

UNREACHABLE = {
    "webhook": (
        '[[webhook]]\nurl = "http://no-such-host.invalid/hook"\n',
        "webhook:no-such-host.invalid/hook: cannot reach http://no-such-host.invalid/hook",
    ),
    "mqtt": (
        '[mqtt]\nurl = "mqtt://no-such-broker.invalid"\n',
        "mqtt: cannot find the host no-such-broker.invalid of the MQTT broker "
        "mqtt://no-such-broker.invalid:1883 (Name or service not known); check the host name in "
        "url, or write the broker's IP address",
    ),
    "notify": (
        '[notify]\nurls = ["json://no-such-push.invalid/push"]\n',
        "notify: cannot reach json:// (URL 1 of 1 in urls): no-such-push.invalid:80",
    ),
}


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_night(tmp_path_factory.mktemp("night"), 1)


def as_wav(path: Path, folder: Path) -> Path:
    """`path` written again as 16-bit WAV, the way a recorder saves it."""
    samples, rate_hz = sf.read(path, dtype="float32")
    wav = folder / f"{path.stem}.wav"
    sf.write(wav, samples, rate_hz, subtype="PCM_16")
    return wav


@pytest.fixture(scope="module")
def night_wav(night: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return as_wav(night, tmp_path_factory.mktemp("wav"))


@pytest.fixture(scope="module")
def quiet_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return as_wav(EXAMPLES_DIR / "quiet-room-synthetic.flac", tmp_path_factory.mktemp("quiet"))


@pytest.mark.parametrize("name", sorted(UNREACHABLE))
def test_an_unreachable_destination_is_one_line_at_start_up_and_listening_goes_on(
    name: str, night: Path, tmp_path: Path
) -> None:
    table, said = UNREACHABLE[name]
    config = tmp_path / "listen.toml"
    config.write_text(f'[listen]\nroom = "Room 1"\n{table}')
    db = tmp_path / "night.db"
    process = subprocess.Popen(
        [*cli_command(), "listen", "--input", "-", "--no-clips", "--json", "--db", str(db),
         "--config", str(config), *FAST_RETRY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )  # fmt: skip
    stderr = StderrLines(process)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(pcm(night, 0, 10))
    process.stdin.flush()
    line = stderr.wait_for(" delivery_failed: ")  # while the night has barely begun
    assert said in line, line
    assert "wait in the outbox" in line
    process.stdin.write(pcm(night, 10, 180))
    process.stdin.close()
    episodes = [json.loads(line) for line in process.stdout]
    assert process.wait(timeout=60) == 0, "".join(stderr.lines)
    assert len(episodes) == 2
    stderr.wait_for(f"event(s) wait in the outbox for {said.split(': ')[0]}")
    with open_store(db) as store:
        assert len(store.episodes(room="Room 1")) == 2
    assert "Traceback" not in "".join(stderr.lines)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[[webhook]]\nurl = "example.org/hook"', ["[[webhook]] #1", "example.org/hook"]),
        ('[mqtt]\nurl = "broker.lan"', ["[mqtt]", "url", "mqtt://"]),
        ('[mqtt]\nurl = "mqtt://broker.lan:port"', ["[mqtt]", "bad port"]),
        ('[notify]\nurls = ["tgram://s3cr3t/"]', ["[notify]", "tgram:// (URL 1 of 1 in urls)"]),
        ('[notify]\nurls = ["ntfy.sh/topic"]', ["[notify]", "(URL 1 of 1 in urls)", "apprise"]),
    ],
)
def test_a_malformed_destination_is_one_warning_line_and_listening_goes_on(
    table: str, named: list[str], quiet_wav: Path, run_cli: CliRunner, tmp_path: Path
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(f"{table}\n")
    db = tmp_path / "night.db"
    process = run_cli("listen", "--input", quiet_wav, "--no-clips", "--db", db, "--config", config)
    line = assert_one_warning_line(process, config, *named)
    assert line.endswith(LEFT_OUT)
    assert "s3cr3t" not in process.stderr
    with open_store(db) as store:
        assert len(store.seconds("nursery", *SPAN)) > 0


def test_a_malformed_destination_leaves_the_good_one_delivering_every_event(
    night_wav: Path, run_cli: CliRunner, tmp_path: Path
) -> None:
    receiver = WebhookReceiver()
    try:
        config = tmp_path / "listen.toml"
        config.write_text(
            '[listen]\nroom = "Room 1"\n'
            '[[webhook]]\nurl = "https//hooks.example.org/nursery"\n'  # a typo: no ':'
            f'[[webhook]]\nurl = "{receiver.url()}"\n'
        )
        db = tmp_path / "night.db"
        process = run_cli(
            "listen", "--input", night_wav, "--no-clips", "--json", "--db", db, "--config", config
        )
    finally:
        receiver.stop()
    line = assert_one_warning_line(process)
    assert f"{config}: [[webhook]] #1: url 'https//hooks.example.org/nursery'" in line, line
    assert "e.g. https://example.org/hook" in line and line.endswith(LEFT_OUT)
    assert len(process.stdout.splitlines()) == 2  # the night's two episodes, listened to
    kinds = [event["kind"] for event in receiver.events]
    assert kinds.count(CRYING_STARTED) == kinds.count(CRYING_STOPPED) == 2
    with open_store(db) as store:
        assert len(store.episodes(room="Room 1")) == 2
        assert_all_arrived_in_order(receiver.events, store, "Room 1")
