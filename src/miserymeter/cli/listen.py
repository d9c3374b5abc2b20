"""`miserymeter listen`: hear crying live (or in a file) and report episodes as they end."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from miserymeter.cli._app import app, reports_errors, terminal
from miserymeter.cli.options import merged_options
from miserymeter.cli.stopping import set_on_stop_signals
from miserymeter.wiring.listen_options import ListenOptions

LISTEN = ListenOptions()


@app.command(short_help="Listen for crying all night: episodes, events, pushes, audio.")
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
    start: str | None = typer.Option(
        None,
        "--start",
        help='With --input FILE: when its first sample was heard, "2026-12-05 21:00" (local '
        "time) or with an offset, so a recording replays onto its night. Default: the time "
        "the file carries (a `record` archive segment's name, or a FLAC/WAV date tag with a "
        "time of day), else so that it ended now.",
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
        LISTEN.channels,
        "--channels",
        help="Channels of the microphone or of stdin PCM (mixed to mono).",
    ),
    model: Path | None = typer.Option(
        None, "--model", help="An exported .onnx model; default: the bundled one."
    ),
    label: str | None = typer.Option(
        None, "--label", help="The model's label that means crying; default: 'crying'."
    ),
    room: str = typer.Option(
        LISTEN.room,
        "--room",
        help="Name of the room, stored with records: 1 to 64 characters, no space at either end.",
    ),
    detector: str = typer.Option(
        LISTEN.detector,
        "--detector",
        metavar="model|rms",
        help="'model', or 'rms' for the loudness-threshold baseline.",
    ),
    hop_s: float = typer.Option(
        LISTEN.hop_s, "--hop_s", "--hop-s", help="Score every this many s."
    ),
    on_probability: float = typer.Option(
        LISTEN.on_probability,
        "--on_probability",
        "--on-probability",
        help="Smoothed crying probability that starts an episode (0-1).",
    ),
    off_probability: float = typer.Option(
        LISTEN.off_probability,
        "--off_probability",
        "--off-probability",
        help="Smoothed probability below which an episode ends (0-1, at most --on_probability).",
    ),
    smoothing_s: float = typer.Option(
        LISTEN.smoothing_s,
        "--smoothing_s",
        "--smoothing-s",
        help="Scores are averaged over this many seconds.",
    ),
    min_duration_s: float = typer.Option(
        LISTEN.min_duration_s,
        "--min_duration_s",
        "--min-duration-s",
        help="An episode is reported once it has lasted this long (s).",
    ),
    merge_gap_s: float = typer.Option(
        LISTEN.merge_gap_s,
        "--merge_gap_s",
        "--merge-gap-s",
        help="Episodes closer than this (s) are one.",
    ),
    rms_threshold_dbfs: float = typer.Option(
        LISTEN.rms_threshold_dbfs,
        "--rms_threshold_dbfs",
        "--rms-threshold-dbfs",
        help="The rms baseline calls a second crying at this loudness (dBFS).",
    ),
    gate_db: float = typer.Option(
        LISTEN.gate_db,
        "--gate_db",
        "--gate-db",
        help="Skip the model while the room is within this many dB of its noise floor.",
    ),
    no_gate: bool = typer.Option(False, "--no-gate", help="Run the model on every window."),
    max_lag_s: float = typer.Option(
        LISTEN.max_lag_s,
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
        LISTEN.pre_roll_s,
        "--pre_roll_s",
        "--pre-roll-s",
        help="Audio kept before each episode (s).",
    ),
    post_roll_s: float = typer.Option(
        LISTEN.post_roll_s,
        "--post_roll_s",
        "--post-roll-s",
        help="Audio kept after each episode (s).",
    ),
    duration_s: float | None = typer.Option(
        None, "--duration_s", "--duration-s", help="Stop after this much audio (s)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object per episode, as it ends."
    ),
    no_frames_s: float = typer.Option(
        LISTEN.no_frames_s,
        "--no_frames_s",
        "--no-frames-s",
        help="Restart the microphone when no audio arrives for this long (s).",
    ),
    flat_s: float = typer.Option(
        LISTEN.flat_s,
        "--flat_s",
        "--flat-s",
        help="Restart the microphone after this long (s) of flat digital silence.",
    ),
    webhook: list[str] | None = typer.Option(
        None,
        "--webhook",
        metavar="URL",
        help="POST every event as JSON to this URL (repeatable); headers, secret and more "
        "in the config file's [[webhook]] tables.",
    ),
    dashboard_url: str | None = typer.Option(
        None,
        "--dashboard_url",
        "--dashboard-url",
        help="The dashboard's address, for links to episodes in events; default: no links.",
    ),
    delivery_retry_s: float = typer.Option(
        LISTEN.delivery_retry_s,
        "--delivery_retry_s",
        "--delivery-retry-s",
        help="First wait (s) before sending again to a destination that is down; it doubles.",
    ),
    delivery_retry_max_s: float = typer.Option(
        LISTEN.delivery_retry_max_s,
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
        LISTEN.metrics_host,
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
        LISTEN.serve_host,
        "--serve_host",
        "--serve-host",
        help="Address of --serve; any but loopback needs the [serve] password_hash "
        "of --config (`miserymeter hash-password`).",
    ),
    serve_port: int = typer.Option(
        LISTEN.serve_port, "--serve_port", "--serve-port", help="Port of --serve."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="A TOML file whose [listen] keys are these options' names; its [[webhook]], "
        "[mqtt] and [notify] tables add destinations, and [serve] holds the password_hash.",
    ),
) -> None:
    """Listen for crying: score every second, report episodes, keep their audio."""
    from miserymeter.wiring.listen import run_listen

    options = merged_options(ctx, ListenOptions, config=config)
    stop = threading.Event()
    set_on_stop_signals(stop)
    run_listen(options, config=config, terminal=terminal, stop=stop)
