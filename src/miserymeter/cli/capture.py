"""`miserymeter record` and `miserymeter devices`: continuous capture into an archive."""

from __future__ import annotations

import threading
from pathlib import Path

import typer
from rich.table import Table

from miserymeter import constants
from miserymeter.cli._app import app, console, reports_errors, terminal
from miserymeter.cli.options import merged_options
from miserymeter.cli.stopping import set_on_stop_signals
from miserymeter.wiring.record_options import RecordOptions

RECORD = RecordOptions()


@app.command(short_help="List the microphones, or check that one works (--test).")
@reports_errors
def devices(
    test: bool = typer.Option(
        False, "--test", help="Record 3 s from --device and print its level."
    ),
    device: str | None = typer.Option(
        None, "--device", help="Device index or (part of its) name; default: the default input."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_CAPTURE_SAMPLE_RATE_HZ,
        "--sample_rate",
        "--sample-rate",
        help="Rate (Hz) to record the test at.",
    ),
) -> None:
    """List the microphones, or check that one works (--test)."""
    from miserymeter.capture.level_check import check_level
    from miserymeter.capture.microphone import input_devices, parse_device, require_a_microphone

    if test:
        require_a_microphone(device, or_else="name the one to test with --device")
        check = check_level(parse_device(device), duration_s=3.0, sample_rate_hz=sample_rate)
        console.print(
            f"recorded {check.duration_s:.1f} s: level {check.rms_dbfs:.1f} dBFS RMS, "
            f"peak {check.peak_dbfs:.1f} dBFS — {check.verdict}",
            markup=False,
        )
        if not check.ok:
            raise typer.Exit(1)
        return
    found = input_devices()
    if not found:
        console.print(
            "no microphones found: plug one in (check with `arecord -l`), "
            "or record from a file-backed ALSA device",
            markup=False,
        )
        return
    table = Table("index", "name", "host API", "inputs", "default rate (Hz)", "")
    for d in found:
        table.add_row(
            str(d.index),
            d.name,
            d.host_api,
            str(d.max_input_channels),
            f"{d.default_sample_rate_hz:.0f}",
            "default" if d.is_default else "",
        )
    console.print(table)


@app.command(short_help="Record the room without a break into dated FLAC segments.")
@reports_errors
def record(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", help="Archive folder; default: ~/.local/share/miserymeter/archive."
    ),
    device: str | None = typer.Option(
        None, "--device", help="Device index or (part of its) name; default: the default input."
    ),
    sample_rate: int = typer.Option(
        RECORD.sample_rate, "--sample_rate", "--sample-rate", help="Rate (Hz) to record at."
    ),
    channels: int = typer.Option(RECORD.channels, "--channels", help="Channels to record."),
    segment_s: float = typer.Option(
        RECORD.segment_s, "--segment_s", "--segment-s", help="Segment length (s)."
    ),
    keep_days: float | None = typer.Option(
        None, "--keep-days", "--keep_days", help="Delete segments older than this many days."
    ),
    max_gb: float | None = typer.Option(
        None, "--max-gb", "--max_gb", help="Keep the archive under this many GB (oldest go)."
    ),
    duration_s: float | None = typer.Option(
        None, "--duration_s", "--duration-s", help="Stop after this much audio (s)."
    ),
    no_frames_s: float = typer.Option(
        RECORD.no_frames_s,
        "--no_frames_s",
        "--no-frames-s",
        help="Restart the capture when no audio arrives for this long (s).",
    ),
    flat_s: float = typer.Option(
        RECORD.flat_s,
        "--flat_s",
        "--flat-s",
        help="Restart the capture after this long (s) of flat digital silence.",
    ),
    config: Path | None = typer.Option(
        None, "--config", help="A TOML file whose [record] keys are these options' names."
    ),
) -> None:
    """Record continuously into timestamped FLAC segments, until stopped (Ctrl-C, SIGTERM)."""
    from miserymeter.wiring.record import run_record

    options = merged_options(ctx, RecordOptions, config=config)
    stop = threading.Event()
    set_on_stop_signals(stop)
    run_record(options, terminal=terminal, stop=stop)
