"""Prometheus metrics of the listener, scraped over HTTP as Prometheus does."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import soundfile as sf
from prometheus_client.parser import text_string_to_metric_families

from conftest import CliRunner, assert_one_error_line
from miserymeter.capture.sources import FileSource
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import Listener, ListenSettings
from miserymeter.records import Episode, Record, SecondRecord
from miserymeter.sinks.prometheus import MetricsServer, MetricsSink
from postgres_server import free_port
from test_listen import RATE_HZ, small_night
from test_listen_store import live_listener, pcm

WAIT_S = 60.0
Key = tuple[str, tuple[tuple[str, str], ...]]
Samples = dict[Key, float]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("night") / "night.flac"
    sf.write(path, small_night(), RATE_HZ)
    return path


def scrape(url: str) -> Samples:
    """Every sample of `/metrics`, by name and sorted labels."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def room(name: str = "nursery", **labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"room": name, **labels}.items()))


class Keep:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.records += records


def test_a_night_is_counted_in_the_metrics(night: Path) -> None:
    metrics = MetricsSink()
    server = MetricsServer(metrics.registry, host="127.0.0.1", port=0)
    keep = Keep()
    try:
        listener = Listener(
            FileSource(night, clock=lambda: datetime.now(UTC)),
            metrics.timed(Classifier(DEFAULT_MODEL_PATH)),
            ListenSettings(),
            sinks=[metrics, keep],
        )
        summary = listener.run(threading.Event())
        samples = scrape(server.url)
    finally:
        server.close()
    (episode,) = [r for r in keep.records if isinstance(r, Episode)]
    assert samples[("miserymeter_seconds_total", room())] == summary.n_hops == 88
    assert samples[("miserymeter_inference_seconds_count", ())] == summary.n_scored > 0
    assert samples[("miserymeter_seconds_unscored_total", room())] == 88 - summary.n_scored
    assert 0 < samples[("miserymeter_inference_seconds_sum", ())] < summary.n_scored
    assert samples[("miserymeter_episodes_total", room())] == 1
    assert samples[("miserymeter_crying_seconds_total", room())] == episode.duration_s
    assert samples[("miserymeter_crying", room())] == 0
    assert samples[("miserymeter_listener_events_total", room(kind="started"))] == 1
    assert samples[("miserymeter_listener_events_total", room(kind="stopped"))] == 1
    last_second = [r for r in keep.records if isinstance(r, SecondRecord)][-1]
    assert samples[("miserymeter_loudness_dbfs", room())] == last_second.level_dbfs


def wait_for_sample(url: str, key: Key, value: float) -> Samples:
    deadline_s = time.monotonic() + WAIT_S
    while time.monotonic() < deadline_s:
        try:
            samples = scrape(url)
        except OSError:  # not serving yet
            samples = {}
        if samples.get(key) == value:
            return samples
        time.sleep(0.05)
    pytest.fail(f"{url}: {key} did not reach {value} within {WAIT_S} s")


def test_listen_serves_metrics_while_it_listens(tmp_path: Path) -> None:
    port = free_port()
    process = live_listener(tmp_path / "night.db", "--metrics_port", str(port), "--room", "blue")
    assert process.stdin is not None
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        process.stdin.write(pcm(slice(0, 32)))  # quiet, then crying from 20 s
        process.stdin.flush()
        samples = wait_for_sample(url, ("miserymeter_seconds_total", room("blue")), 32)
        assert samples[("miserymeter_crying", room("blue"))] == 1
        assert samples[("miserymeter_episodes_total", room("blue"))] == 1
        assert samples[("miserymeter_crying_probability", room("blue"))] > 0.5
        assert samples[("miserymeter_inference_seconds_count", ())] > 0
    finally:
        _, stderr = process.communicate(b"", timeout=WAIT_S)
    assert process.returncode == 0, stderr
    with pytest.raises(OSError):  # the server ends with the listener
        scrape(url)


def test_a_port_in_use_is_one_clear_error(run_cli: CliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run_cli("listen", "--input", "-", "--no-db", "--metrics_port", port)
    assert_one_error_line(process, f"--metrics_port {port}", "another port")
