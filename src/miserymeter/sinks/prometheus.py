"""Prometheus metrics of the listener, served at `/metrics` (`listen --metrics_port N`).

Per room: the crying state, the last second's probability and loudness, seconds heard and
seconds the model was not run for, episodes and their crying seconds, the listener's events by
kind (microphone_lost, microphone_reopened, input_gap, falling_behind, sink_failed, ...); and
the model's latency per window. Everything lives in a registry of its own, not the global one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from miserymeter.errors import ConfigError
from miserymeter.inference.model import ModelInfo, Scorer
from miserymeter.records import CryingStarted, Episode, ListenerEvent, Record, SecondRecord

# Scoring one 2 s window takes about 1-5 ms on a laptop and 10-50 ms on a Raspberry Pi 4.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class MetricsSink:
    """Keeps the metrics of the records it is handed; `timed` measures a model."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        room = ["room"]
        self._crying = Gauge(
            "miserymeter_crying", "1 while a confirmed episode lasts", room, registry=registry
        )
        self._probability = Gauge(
            "miserymeter_crying_probability",
            "The last second's crying probability (0 when the model was not run)",
            room,
            registry=registry,
        )
        self._loudness = Gauge(
            "miserymeter_loudness_dbfs", "The last second's loudness", room, registry=registry
        )
        self._last_second = Gauge(
            "miserymeter_last_second_timestamp_seconds",
            "When the last second heard started (Unix time)",
            room,
            registry=registry,
        )
        self._seconds = Counter(
            "miserymeter_seconds", "Seconds (hops) of audio heard", room, registry=registry
        )
        self._unscored = Counter(
            "miserymeter_seconds_unscored",
            "Seconds the model was not run for: a quiet room, dropped to keep up, or the "
            "first window still filling",
            room,
            registry=registry,
        )
        self._episodes = Counter(
            "miserymeter_episodes", "Crying episodes confirmed", room, registry=registry
        )
        self._crying_seconds = Counter(
            "miserymeter_crying_seconds", "Crying in finished episodes (s)", room, registry=registry
        )
        self._events = Counter(
            "miserymeter_listener_events",
            "The listener's events: started, microphone_lost, input_gap, falling_behind, ...",
            ["room", "kind"],
            registry=registry,
        )
        self._latency = Histogram(
            "miserymeter_inference_seconds",
            "Time the model takes to score one window",
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )

    def handle(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, SecondRecord):
                self._second(record)
            elif isinstance(record, CryingStarted):
                self._crying.labels(record.room).set(1)
                self._episodes.labels(record.room).inc()
            elif isinstance(record, Episode):
                self._crying.labels(record.room).set(0)
                self._crying_seconds.labels(record.room).inc(record.duration_s)
            elif isinstance(record, ListenerEvent):
                self._events.labels(record.room, record.kind).inc()

    def _second(self, second: SecondRecord) -> None:
        room = second.room
        self._seconds.labels(room).inc()
        self._loudness.labels(room).set(second.level_dbfs)
        self._last_second.labels(room).set(second.at.timestamp())
        self._probability.labels(room).set(second.crying_probability or 0.0)
        if second.crying_probability is None:
            self._unscored.labels(room).inc()

    def timed(self, scorer: Scorer) -> TimedScorer:
        """`scorer`, its every `score` call timed into the latency histogram."""
        return TimedScorer(scorer, self._latency)


class TimedScorer:
    """A model that reports how long each `score` call takes; otherwise the same model."""

    def __init__(self, scorer: Scorer, latency: Histogram) -> None:
        self.scorer = scorer
        self.info: ModelInfo = scorer.info
        self._latency = latency

    def score(self, windows: np.ndarray) -> np.ndarray:
        start_s = time.perf_counter()
        probabilities = self.scorer.score(windows)
        self._latency.observe(time.perf_counter() - start_s)
        return probabilities


class MetricsServer:
    """`/metrics` over HTTP from its own thread, until `close`."""

    def __init__(self, registry: CollectorRegistry, *, host: str, port: int) -> None:
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        except OSError as e:
            raise ConfigError(
                f"--metrics_port {port}: cannot serve metrics on {host}:{port} ({e.strerror}); "
                "choose another port or --metrics_host"
            ) from e
        self.host = host
        self.port: int = self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
