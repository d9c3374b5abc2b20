"""`miserymeter listen`: hear crying live (or in a file) and report episodes as they end."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from miserymeter.cli._app import (
    app,
    console,
    error_console,
    print_event,
    print_warning,
    reports_errors,
)
from miserymeter.cli.stopping import set_on_stop_signals
from miserymeter.detect.settings import DetectorSettings
from miserymeter.records import CryingStarted, Episode, ListenerEvent, Record

if TYPE_CHECKING:
    from miserymeter.audio.sources import AudioSource
    from miserymeter.delivery.courier import Couriers
    from miserymeter.delivery.digest import DigestScheduler
    from miserymeter.pipeline import Listener
    from miserymeter.sinks.metrics import MetricsServer, MetricsSink
    from miserymeter.sinks.store import StoreSink
    from miserymeter.store import Store

DETECTION = DetectorSettings()
DEFAULTS = {
    name: getattr(DETECTION, name)
    for name in (
        "on_probability",
        "off_probability",
        "smoothing_s",
        "min_duration_s",
        "merge_gap_s",
        "rms_threshold_dbfs",
    )
}


@app.command()
@reports_errors
def listen(
    ctx: typer.Context,
    input_: str | None = typer.Option(
        None,
        "--input",
        help="A recording to listen to (as fast as the CPU allows), or - for "
        "raw S16_LE PCM on standard input (`arecord -t raw -f S16_LE -r 16000 | ...`). "
        "Default: the microphone.",
    ),
    device: str | None = typer.Option(
        None, "--device", help="Microphone: index or part of its name (`miserymeter devices`)."
    ),
    sample_rate: int | None = typer.Option(
        None,
        "--sample_rate",
        "--sample-rate",
        help="Rate (Hz) of the microphone or of stdin PCM; default: the model's rate.",
    ),
    channels: int = typer.Option(
        1, "--channels", help="Channels of the microphone or of stdin PCM (mixed to mono)."
    ),
    model: Path | None = typer.Option(
        None, "--model", help="An exported .onnx model; default: the bundled one."
    ),
    label: str | None = typer.Option(
        None, "--label", help="The model's label that means crying; default: 'crying'."
    ),
    room: str = typer.Option("nursery", "--room", help="Name of the room, stored with records."),
    detector: str = typer.Option(
        "model", "--detector", help="'model', or 'rms' for the loudness-threshold baseline."
    ),
    hop_s: float = typer.Option(1.0, "--hop_s", "--hop-s", help="Score every this many s."),
    on_probability: float = typer.Option(
        DEFAULTS["on_probability"],
        "--on_probability",
        "--on-probability",
        help="Smoothed crying probability that starts an episode (0-1).",
    ),
    off_probability: float = typer.Option(
        DEFAULTS["off_probability"],
        "--off_probability",
        "--off-probability",
        help="Smoothed probability below which an episode ends (0-1, at most --on_probability).",
    ),
    smoothing_s: float = typer.Option(
        DEFAULTS["smoothing_s"],
        "--smoothing_s",
        "--smoothing-s",
        help="Scores are averaged over this many seconds.",
    ),
    min_duration_s: float = typer.Option(
        DEFAULTS["min_duration_s"],
        "--min_duration_s",
        "--min-duration-s",
        help="An episode is reported once it has lasted this long (s).",
    ),
    merge_gap_s: float = typer.Option(
        DEFAULTS["merge_gap_s"],
        "--merge_gap_s",
        "--merge-gap-s",
        help="Episodes closer than this (s) are one.",
    ),
    rms_threshold_dbfs: float = typer.Option(
        DEFAULTS["rms_threshold_dbfs"],
        "--rms_threshold_dbfs",
        "--rms-threshold-dbfs",
        help="The rms baseline calls a second crying at this loudness (dBFS).",
    ),
    gate_db: float = typer.Option(
        6.0,
        "--gate_db",
        "--gate-db",
        help="Skip the model while the room is within this many dB of its noise floor.",
    ),
    no_gate: bool = typer.Option(False, "--no-gate", help="Run the model on every window."),
    max_lag_s: float = typer.Option(
        5.0,
        "--max_lag_s",
        "--max-lag-s",
        help="Live input only: drop windows rather than fall further behind than this (s).",
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database: a SQLite file, or postgresql://user@host/db for many rooms; "
        "default: miserymeter.db in the data folder.",
    ),
    no_db: bool = typer.Option(False, "--no-db", help="Store nothing."),
    clips: Path | None = typer.Option(
        None, "--clips", help="Where episode audio is saved; default: in the data folder."
    ),
    no_clips: bool = typer.Option(False, "--no-clips", help="Keep no audio at all."),
    pre_roll_s: float = typer.Option(
        5.0, "--pre_roll_s", "--pre-roll-s", help="Audio kept before each episode (s)."
    ),
    post_roll_s: float = typer.Option(
        5.0, "--post_roll_s", "--post-roll-s", help="Audio kept after each episode (s)."
    ),
    duration_s: float | None = typer.Option(
        None, "--duration_s", "--duration-s", help="Stop after this much audio (s)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object per episode, as it ends."
    ),
    no_frames_s: float = typer.Option(
        5.0,
        "--no_frames_s",
        "--no-frames-s",
        help="Restart the microphone when no audio arrives for this long (s).",
    ),
    flat_s: float = typer.Option(
        10.0,
        "--flat_s",
        "--flat-s",
        help="Restart the microphone after this long (s) of flat digital silence.",
    ),
    webhook: list[str] | None = typer.Option(
        None,
        "--webhook",
        help="POST every event as JSON to this URL (repeatable); headers, secret and more "
        "in the config file's webhook tables.",
    ),
    dashboard_url: str | None = typer.Option(
        None,
        "--dashboard_url",
        "--dashboard-url",
        help="The dashboard's address, for links to episodes in events; default: no links.",
    ),
    delivery_retry_s: float = typer.Option(
        1.0,
        "--delivery_retry_s",
        "--delivery-retry-s",
        help="First wait (s) before sending again to a destination that is down; it doubles.",
    ),
    delivery_retry_max_s: float = typer.Option(
        300.0,
        "--delivery_retry_max_s",
        "--delivery-retry-max-s",
        help="Longest wait (s) between tries of a destination that is down.",
    ),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics_port",
        "--metrics-port",
        help="Serve Prometheus metrics at http://METRICS_HOST:PORT/metrics.",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1",
        "--metrics_host",
        "--metrics-host",
        help="Address of --metrics_port (0.0.0.0: every network interface).",
    ),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Serve the dashboard from this process too, with a live level meter "
        "(http://SERVE_HOST:SERVE_PORT/).",
    ),
    serve_host: str = typer.Option(
        "127.0.0.1",
        "--serve_host",
        "--serve-host",
        help="Address of --serve; others than loopback need the [serve] password_hash "
        "of --config (`miserymeter hash-password`).",
    ),
    serve_port: int = typer.Option(8000, "--serve_port", "--serve-port", help="Port of --serve."),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="A TOML file whose \\[listen] keys are these options' names, plus webhook tables.",
    ),
) -> None:
    """Listen for crying: score every second, report episodes, keep their audio."""
    from miserymeter.audio.episode_clips import ClipSettings
    from miserymeter.audio.sources import MicrophoneSource
    from miserymeter.capture.live import utc_now
    from miserymeter.cli.serve import listener_dashboard
    from miserymeter.delivery.configure import build_destinations
    from miserymeter.delivery.courier import Backoff, Couriers
    from miserymeter.detect.settings import DETECTORS
    from miserymeter.errors import ConfigError, StorageError
    from miserymeter.frontend.level_meter import LevelMeter
    from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
    from miserymeter.inference.model import Classifier
    from miserymeter.paths import data_dir, default_db_path
    from miserymeter.pipeline import Listener, ListenSettings, RecordSink
    from miserymeter.sinks.store import StoreSink
    from miserymeter.store import open_store

    if config is not None:
        _apply_config(ctx, config)
    o = ctx.params
    if o["detector"] not in DETECTORS:
        raise ConfigError(f"--detector {o['detector']!r}: choose one of {', '.join(DETECTORS)}")
    for name in (
        "hop_s",
        "max_lag_s",
        "no_frames_s",
        "flat_s",
        "channels",
        "delivery_retry_s",
        "delivery_retry_max_s",
    ):
        if o[name] <= 0:
            raise ConfigError(f"--{name} must be positive, not {o[name]}")
    if o["duration_s"] is not None and o["duration_s"] <= 0:
        raise ConfigError(f"--duration_s must be positive, not {o['duration_s']}")
    for name in ("pre_roll_s", "post_roll_s"):
        if o[name] < 0:
            raise ConfigError(f"--{name} must be 0 or more, not {o[name]}")
    store = None if o["no_db"] else open_store(o["db"] or default_db_path())
    built = build_destinations(
        config=config, webhook_urls=o["webhook"] or (), room=o["room"], store=store
    )
    for message in built.left_out:
        print_warning(message)
    destinations = built.usable
    if destinations and store is None:
        raise ConfigError(
            f"--no-db: events for {destinations[0].name} wait in the database's outbox; "
            "drop --no-db (or the destinations)"
        )
    if o["serve"] and store is None:
        raise ConfigError("--no-db: --serve shows what listen stores; drop --no-db (or --serve)")
    classifier = Classifier(o["model"] or DEFAULT_MODEL_PATH)
    settings = ListenSettings(
        room=o["room"],
        detector=o["detector"],
        hop_s=o["hop_s"],
        crying_label=o["label"],
        gate_db=None if o["no_gate"] else o["gate_db"],
        max_lag_s=o["max_lag_s"],
        duration_s=o["duration_s"],
        detection=DetectorSettings(**{name: o[name] for name in DEFAULTS}),
        clips=None
        if o["no_clips"]
        else ClipSettings(
            o["clips"] or data_dir() / "clips",
            pre_roll_s=o["pre_roll_s"],
            post_roll_s=o["post_roll_s"],
        ),
    )
    metrics, metrics_server = _metrics(o)
    scorer = classifier if metrics is None else metrics.timed(classifier)
    stop = threading.Event()
    listener: Listener | None = None

    def on_source_event(kind: str, message: str) -> None:
        if listener is not None:
            listener.event(kind, message)

    listening = threading.Event()
    listening.set()

    def on_delivery_event(kind: str, message: str) -> None:
        if listener is not None and listening.is_set():
            listener.report(kind, message)
        else:
            print_event(utc_now(), kind, message)

    level_meter = LevelMeter() if o["serve"] else None
    dashboard = (
        None
        if store is None or level_meter is None
        else listener_dashboard(
            store,
            settings.room,
            level_meter,
            clips_dir=o["clips"] or data_dir() / "clips",
            classifier=classifier,
            detection=settings.detection,
            gate_db=settings.gate_db,
            host=o["serve_host"],
            port=o["serve_port"],
            config=config,
            on_error=lambda message: on_delivery_event("dashboard_failed", message),
        )
    )
    source = _source(o, classifier.info.sample_rate_hz, on_source_event)
    sinks: list[RecordSink] = [_JsonSink() if o["as_json"] else _ConsoleSink()]
    store_sink = None
    couriers = None
    if store is not None:
        if destinations:
            couriers = Couriers(
                store,
                destinations,
                room=settings.room,
                on_event=on_delivery_event,
                backoff=Backoff(o["delivery_retry_s"], o["delivery_retry_max_s"]),
            )
        store_sink = StoreSink(
            store,
            destinations=destinations,
            dashboard_url=o["dashboard_url"],
            on_queued=None if couriers is None else couriers.wake,
        )
        sinks.append(store_sink)
    if metrics is not None:
        sinks.append(metrics)
    # A destination may also take the live state of every second (MQTT's retained topics).
    sinks += [d.state_sink for d in destinations if hasattr(d, "state_sink")]
    listener = Listener(source, scorer, settings, sinks=sinks, level_meter=level_meter)
    set_on_stop_signals(stop)
    if couriers is not None:
        couriers.start()
    digests = [] if store_sink is None else _morning_digests(store_sink, settings.room, listener)
    if dashboard is not None:
        dashboard.start()
    summary = listener.run(stop)
    for digest in digests:
        digest.close()
    if dashboard is not None:
        dashboard.close()
    listening.clear()  # later delivery events are printed, not stored
    if metrics_server is not None:
        metrics_server.close()
    if store_sink is not None:
        store_sink.finish()
        if couriers is not None:
            couriers.close()
            _report_waiting(store_sink.store, couriers)
        store_sink.store.close()
        if store_sink.n_pending or store_sink.n_dropped:
            raise StorageError(
                f"{store_sink.store.name}: {store_sink.n_pending + store_sink.n_dropped} "
                "record(s) could not be stored; free space or fix the database, or pass --db"
            )
    error_console.print(
        f"listened to {summary.n_hops * settings.hop_s:.0f} s: {summary.n_episodes} episode(s); "
        f"{summary.n_scored} window(s) scored, {summary.n_gated} skipped as quiet, "
        f"{summary.n_dropped} dropped to keep up",
        markup=False,
    )
    if isinstance(source, MicrophoneSource) and source.live_input.n_stuck_streams:
        # PortAudio's exit handler would wait forever for the stream the driver holds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _morning_digests(store_sink: StoreSink, room: str, listener: Listener) -> list[DigestScheduler]:
    """Started schedulers of the morning digests the notify destinations ask for; each digest
    goes through the outbox like any event."""
    from miserymeter.delivery.digest import morning_digests
    from miserymeter.delivery.notify import NotifyDestination

    schedulers = []
    for destination in store_sink.destinations:
        if isinstance(destination, NotifyDestination) and destination.settings.digest_at:
            scheduler = morning_digests(
                store_sink.store,
                room,
                destination.settings.digest_at,
                destination.settings.zone,
                hand_over=lambda event: store_sink.queue_events([event]),
                on_error=lambda e: listener.report("digest_failed", str(e)),
            )
            scheduler.start()
            schedulers.append(scheduler)
    return schedulers


def _report_waiting(store: Store, couriers: Couriers) -> None:
    """Say what is left in the outbox (sent by the next `listen` of this room)."""
    from miserymeter.errors import StorageError

    for name in couriers.couriers:
        try:
            counts = store.outbox_counts(name, room=couriers.room)
        except StorageError:
            continue  # the store sink says why the database fails
        if counts.n_pending:
            error_console.print(
                f"{counts.n_pending} event(s) wait in the outbox for {name}: "
                "they are sent when listen runs again",
                markup=False,
            )
        if counts.n_rejected:
            error_console.print(
                f"{counts.n_rejected} event(s) were refused by {name} (kept in the outbox)",
                markup=False,
            )


def _metrics(options: dict[str, Any]) -> tuple[MetricsSink | None, MetricsServer | None]:
    """The metrics sink and its HTTP server, if --metrics_port asks for them."""
    if options["metrics_port"] is None:
        return None, None
    from miserymeter.sinks.metrics import MetricsServer, MetricsSink

    metrics = MetricsSink()
    server = MetricsServer(
        metrics.registry, host=options["metrics_host"], port=options["metrics_port"]
    )
    return metrics, server


def _source(
    options: dict[str, Any], model_rate_hz: int, on_event: Callable[[str, str], None]
) -> AudioSource:
    from miserymeter.audio.sources import FileSource, MicrophoneSource, StdinSource
    from miserymeter.capture.live import LiveInputConfig, utc_now
    from miserymeter.capture.microphone import input_devices, parse_device
    from miserymeter.errors import ConfigError, MicrophoneError

    sample_rate = options["sample_rate"] or model_rate_hz
    if sample_rate <= 0:
        raise ConfigError(f"--sample_rate must be positive, not {sample_rate}")
    if options["input_"] == "-":
        return StdinSource(
            sample_rate_hz=sample_rate, n_channels=options["channels"], clock=utc_now
        )
    if options["input_"] is not None:
        return FileSource(Path(options["input_"]), clock=utc_now)
    # A named device may be plugged in later (it is waited for); no microphone at all is an error.
    if options["device"] is None and not input_devices():
        raise MicrophoneError(
            "no microphone found: plug one in (`miserymeter devices` lists them), or listen to "
            "a recording with --input night.flac (`make demo` plays an example night)"
        )
    config = LiveInputConfig(
        device=parse_device(options["device"]),
        sample_rate_hz=sample_rate,
        n_channels=options["channels"],
        no_frames_s=options["no_frames_s"],
        flat_s=options["flat_s"],
        max_frames=None
        if options["duration_s"] is None
        else round(options["duration_s"] * sample_rate),
    )
    return MicrophoneSource(config, on_event=on_event, clock=utc_now)


def _apply_config(ctx: typer.Context, path: Path) -> None:
    """Fill every option left at its default from the config file's [listen] table."""
    from miserymeter.config import read_config
    from miserymeter.errors import ConfigError

    params = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    keys = {name.rstrip("_"): name for name in params}
    table = read_config(path, command="listen", known_keys=set(keys) | {"json"})
    for key, value in table.items():
        name = "as_json" if key == "json" else keys[key]
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            continue  # given on the command line
        try:
            ctx.params[name] = params[name].process_value(ctx, value)
        except typer.BadParameter as e:
            raise ConfigError(f"{path}: {key} = {value!r}: {e.message}") from e


class _ConsoleSink:
    """Episodes and the listener's troubles as lines a person reads."""

    def handle(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, CryingStarted):
                console.print(
                    f"{record.start:%Y-%m-%d %H:%M:%S} crying in {record.room} "
                    f"(sure after {record.confirmed_offset_s - record.start_offset_s:.0f} s)",
                    markup=False,
                )
            elif isinstance(record, Episode):
                clip = f", audio: {record.clip_path}" if record.clip_path else ""
                console.print(
                    f"{record.start:%Y-%m-%d %H:%M:%S} - {record.end:%H:%M:%S} crying "
                    f"{record.duration_s:.0f} s in {record.room} "
                    f"(peak {record.peak_probability:.2f}, mean {record.mean_probability:.2f})"
                    f"{clip}",
                    markup=False,
                )
            elif isinstance(record, ListenerEvent):
                print_event(record.at, record.kind, record.message)


class _JsonSink:
    """One JSON object per finished episode on stdout; events still go to stderr."""

    def handle(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, Episode):
                print(json.dumps(episode_json(record)), flush=True)
            elif isinstance(record, ListenerEvent):
                print_event(record.at, record.kind, record.message)


def episode_json(episode: Episode) -> dict[str, Any]:
    """An episode as `--json` prints it."""
    return {
        "room": episode.room,
        "start_s": episode.start_offset_s,
        "end_s": episode.end_offset_s,
        "confirmed_s": episode.confirmed_offset_s,
        "start": episode.start.isoformat(),
        "end": episode.end.isoformat(),
        "duration_s": round(episode.duration_s, 3),
        "peak_probability": episode.peak_probability,
        "mean_probability": episode.mean_probability,
        "detector": episode.detector,
        "clip": episode.clip_path,
    }
