"""`listen`, wired: the source, the model, the listener, its sinks and destinations, the
dashboard and the metrics server built from `ListenOptions`, run until stopped, and torn down
in reverse order whatever happens (an error mid-night still flushes the store and closes the
couriers, the dashboard and the servers)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from miserymeter.audio.episode_clips import PRIVATE_DIR_MODE, ClipSettings
from miserymeter.capture.live import LiveInputConfig
from miserymeter.capture.microphone import parse_device, require_a_microphone
from miserymeter.capture.sources import AudioSource, FileSource, MicrophoneSource, StdinSource
from miserymeter.clock import utc_now
from miserymeter.delivery.configure import build_destinations
from miserymeter.delivery.courier import Backoff, Couriers
from miserymeter.delivery.destination import WithLiveState
from miserymeter.delivery.notify.destination import NotifyDestination
from miserymeter.delivery.notify.digest import DigestScheduler, morning_digests
from miserymeter.errors import ConfigError, StorageError
from miserymeter.frontend.level_meter import LevelMeter
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH
from miserymeter.inference.model import Classifier
from miserymeter.nights import local_zone
from miserymeter.paths import data_dir, default_db_path, writable_folder
from miserymeter.pipeline import Listener, ListenSettings, ListenSummary, check_settings_fit
from miserymeter.records import STOPPED, Episode, ListenerEvent, RecordSink
from miserymeter.sinks.console import ConsoleSink, JsonLinesSink, Terminal
from miserymeter.sinks.prometheus import MetricsServer, MetricsSink
from miserymeter.sinks.store import StoreSink
from miserymeter.store import Store, open_store
from miserymeter.wiring.last_run import left_open_by_last_run
from miserymeter.wiring.listen_options import ListenOptions
from miserymeter.wiring.room_in_use import refuse_a_room_in_use


def run_listen(
    options: ListenOptions, *, config: Path | None, terminal: Terminal, stop: threading.Event
) -> None:
    """Listen as `options` say until `stop` is set or the input ends; a record that could not
    be stored is a StorageError once everything is closed."""
    with ExitStack() as teardown:
        store = None if options.no_db else open_store(options.db or default_db_path())
        if store is not None:
            teardown.callback(store.close)
        listener: Listener | None = None
        listening = threading.Event()

        def on_source_event(kind: str, message: str) -> None:
            if listener is not None:
                listener.event(kind, message)

        def on_delivery_event(kind: str, message: str) -> None:
            if listener is not None and listening.is_set():
                listener.report(kind, message)
            else:
                terminal.event(utc_now(), kind, message)

        settings = listen_settings(options)
        # The model and the input first: a mistake in them is said at once, not after a watch.
        classifier = Classifier(options.model or DEFAULT_MODEL_PATH)
        check_settings_fit(settings, classifier.info)
        if settings.clips is not None:  # checked now, not at the night's first cry
            writable_folder(
                settings.clips.clips_dir,
                option="--clips",
                mode=PRIVATE_DIR_MODE,
                or_else="--no-clips",
            )
        source = audio_source(options, classifier.info.sample_rate_hz, on_source_event)
        if store is not None:
            refuse_a_room_in_use(
                store,
                options.room,
                stop=stop,
                on_watch=lambda message: terminal.event(utc_now(), "watching", message),
            )
            if stop.is_set():  # while it watched the room, which may be another listener's
                terminal.event(utc_now(), STOPPED, f"before listening to room {options.room!r}")
                return
        # Read before the destinations start: MQTT's totals tonight count it from the start.
        left_open = None if store is None else left_open_by_last_run(store, settings)
        built = build_destinations(
            config=config,
            webhook_urls=options.webhook,
            room=options.room,
            store=store,
            left_open=left_open,
        )
        for message in built.left_out:
            terminal.warn(message)
        destinations = built.usable
        if store is None:
            for destination in destinations:
                teardown.callback(destination.close)
            if destinations:
                raise ConfigError(
                    f"--no-db: events for {destinations[0].name} wait in the database's "
                    "outbox; drop --no-db (or the destinations)"
                )
            if options.serve:
                raise ConfigError(
                    "--no-db: --serve shows what listen stores; drop --no-db (or --serve)"
                )
        else:
            couriers = Couriers(
                store,
                destinations,
                room=options.room,
                on_event=on_delivery_event,
                backoff=Backoff(options.delivery_retry_s, options.delivery_retry_max_s),
            )
            teardown.callback(_report_waiting, store, couriers, terminal)
            teardown.callback(couriers.close)  # which closes the destinations
        metrics = MetricsSink() if options.metrics_port is not None else None
        if metrics is not None and options.metrics_port is not None:
            server = MetricsServer(
                metrics.registry, host=options.metrics_host, port=options.metrics_port
            )
            teardown.callback(server.close)
        level_meter = LevelMeter() if options.serve else None
        dashboard = None
        if store is not None and level_meter is not None:
            # FastAPI and uvicorn load only for --serve: listen starts in half the time.
            from miserymeter.wiring.dashboard import listener_dashboard

            dashboard = listener_dashboard(
                store,
                settings.room,
                level_meter,
                clips_dir=_clips_dir(options),
                classifier=classifier,
                detection=settings.detection,
                gate_db=settings.gate_db,
                host=options.serve_host,
                port=options.serve_port,
                config=config,
                on_error=lambda message: on_delivery_event("dashboard_failed", message),
                terminal=terminal,
            )
        if store is not None and isinstance(source, FileSource) and source.is_dated:
            _refuse_a_replay_over_stored_time(store, options.room, source)
        sinks: list[RecordSink] = [
            JsonLinesSink(terminal) if options.as_json else ConsoleSink(terminal)
        ]
        store_sink = None
        if store is not None:
            store_sink = StoreSink(
                store,
                destinations=destinations,
                dashboard_url=options.dashboard_url,
                on_queued=couriers.wake,
                on_event=on_delivery_event,
            )
            teardown.callback(store_sink.finish)
            sinks.append(store_sink)
            couriers.start()
        if metrics is not None:
            sinks.append(metrics)
        # A destination may also take the live state of every second (MQTT's retained topics).
        sinks += [d.state_sink for d in destinations if isinstance(d, WithLiveState)]
        scorer = classifier if metrics is None else metrics.timed(classifier)
        listener = Listener(source, scorer, settings, sinks=sinks, level_meter=level_meter)
        if left_open is not None:
            _close_what_the_last_run_left_open(left_open, settings, listener)
        listening.set()
        teardown.callback(listening.clear)  # later delivery events are printed, not stored
        if store_sink is not None:
            for digest in _morning_digests(store_sink, settings.room, listener):
                teardown.callback(digest.close)
        if dashboard is not None:
            dashboard.start()
            teardown.callback(dashboard.close)
        summary = listener.run(stop)
    unstored = store_sink.unstored() if store_sink is not None else None
    if unstored is not None:
        raise unstored
    _say_summary(terminal, summary, settings.hop_s)
    if isinstance(source, MicrophoneSource) and source.live_input.n_stuck_streams:
        # PortAudio's exit handler would wait forever for the stream the driver holds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _refuse_a_replay_over_stored_time(store: Store, room: str, source: FileSource) -> None:
    """A dated recording (its own time, or --start) whose time the room already has in the
    store was listened to before (or overlaps what was): its episodes would be counted twice,
    so it needs another --db or --room. Checked by the minutes stored in its span and the
    seconds of its first minute."""
    first_minute_end = min(source.end, source.start + timedelta(minutes=1))
    if not (
        store.n_minutes(room, source.start, source.end)
        or store.seconds(room, source.start, first_minute_end)
    ):
        return
    zone = local_zone()
    start, end = source.start.astimezone(zone), source.end.astimezone(zone)
    raise ConfigError(
        f"{store.name} already holds room {room!r} between {start:%Y-%m-%d %H:%M} and "
        f"{end:%H:%M}, when {source.name} was recorded: it was listened to before, and its "
        f"episodes would count twice; listen into another --db, or as another --room "
        f"(e.g. --room {room}-again) to compare"
    )


def _close_what_the_last_run_left_open(
    episode: Episode, settings: ListenSettings, listener: Listener
) -> None:
    """The room's last run was killed mid-`episode`: finish it now (stored, and its
    crying_stopped sent), ending where its crying last did."""
    listener.hand_over(
        [
            episode,
            ListenerEvent(
                settings.room,
                utc_now(),
                "episode_closed",
                f"the last run stopped without a word during the crying that started at "
                f"{episode.start:%H:%M:%S}: that episode ends at {episode.end:%H:%M:%S}, "
                "the last crying it heard",
            ),
        ]
    )


def listen_settings(options: ListenOptions) -> ListenSettings:
    """The listener's settings of `options`."""
    return ListenSettings(
        room=options.room,
        detector=options.detector,
        hop_s=options.hop_s,
        crying_label=options.label,
        gate_db=options.listener_gate_db,
        max_lag_s=options.max_lag_s,
        duration_s=options.duration_s,
        detection=options.detection,
        clips=None
        if options.no_clips
        else ClipSettings(
            _clips_dir(options), pre_roll_s=options.pre_roll_s, post_roll_s=options.post_roll_s
        ),
    )


def audio_source(
    options: ListenOptions, model_rate_hz: int, on_event: Callable[[str, str], None]
) -> AudioSource:
    """Where `options` say the audio comes from: a file, stdin, or a microphone."""
    sample_rate = options.sample_rate or model_rate_hz
    if options.input == "-":
        return StdinSource(sample_rate_hz=sample_rate, n_channels=options.channels, clock=utc_now)
    if options.input is not None:
        return FileSource(Path(options.input), clock=utc_now, start=options.start_time)
    require_a_microphone(
        options.device,
        or_else="listen to a recording with --input night.flac (`make demo` plays an example "
        "night)",
    )
    config = LiveInputConfig(
        device=parse_device(options.device),
        sample_rate_hz=sample_rate,
        n_channels=options.channels,
        no_frames_s=options.no_frames_s,
        flat_s=options.flat_s,
        max_frames=None if options.duration_s is None else round(options.duration_s * sample_rate),
    )
    return MicrophoneSource(config, on_event=on_event, clock=utc_now)


def _clips_dir(options: ListenOptions) -> Path:
    return options.clips or data_dir() / "clips"


def _morning_digests(store_sink: StoreSink, room: str, listener: Listener) -> list[DigestScheduler]:
    """Started schedulers of the morning digests the notify destinations ask for; each digest
    goes through the outbox like any event."""
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


def _report_waiting(store: Store, couriers: Couriers, terminal: Terminal) -> None:
    """Say what is left in the outbox (sent by the next `listen` of this room)."""
    for name, courier in couriers.couriers.items():
        try:
            counts = store.outbox_counts(name, room=couriers.room)
        except StorageError:
            continue  # the store sink says why the database fails
        if counts.n_pending:
            why = courier.down_when_closed  # a run over before its broker answered: why
            terminal.say(
                f"{counts.n_pending} event(s) wait in the outbox for {name}"
                + (f" ({why})" if why else "")
                + ": they are sent when listen runs again"
            )
        if counts.n_rejected:
            terminal.say(
                f"{counts.n_rejected} event(s) were refused by {name} (kept in the outbox)"
            )


def _say_summary(terminal: Terminal, summary: ListenSummary, hop_s: float) -> None:
    terminal.say(
        f"listened to {summary.n_hops * hop_s:.0f} s: {summary.n_episodes} episode(s); "
        f"{summary.n_scored} window(s) scored, {summary.n_gated} skipped as quiet, "
        f"{summary.n_dropped} dropped to keep up"
    )
