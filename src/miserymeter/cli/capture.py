"""`miserymeter record` and `miserymeter devices`: continuous capture into an archive."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import typer
from rich.table import Table

from miserymeter import constants
from miserymeter.cli._app import app, console, print_event, reports_errors
from miserymeter.cli.stopping import set_on_stop_signals
from miserymeter.errors import ConfigError, StorageError

BYTES_PER_GB = 1e9


@app.command()
@reports_errors
def devices(
    test: bool = typer.Option(
        False, "--test", help="Record 3 s from --device and print its level."
    ),
    device: str | None = typer.Option(
        None, "--device", help="Device index or (part of its) name; default: the default input."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_CAPTURE_SAMPLE_RATE_HZ, "--sample_rate", "--sample-rate"
    ),
) -> None:
    """List the microphones, or check that one works (--test)."""
    from miserymeter.capture.level_check import check_level
    from miserymeter.capture.microphone import input_devices, parse_device

    if test:
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


@app.command()
@reports_errors
def record(
    out: Path | None = typer.Option(
        None, "--out", help="Archive folder; default: ~/.local/share/miserymeter/archive."
    ),
    device: str | None = typer.Option(
        None, "--device", help="Device index or (part of its) name; default: the default input."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_CAPTURE_SAMPLE_RATE_HZ, "--sample_rate", "--sample-rate", help="Hz."
    ),
    channels: int = typer.Option(1, "--channels", help="Channels to record."),
    segment_s: float = typer.Option(
        constants.DEFAULT_SEGMENT_S, "--segment_s", "--segment-s", help="Segment length (s)."
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
        constants.DEFAULT_NO_FRAMES_S,
        "--no_frames_s",
        "--no-frames-s",
        help="Restart the capture when no audio arrives for this long (s).",
    ),
    flat_s: float = typer.Option(
        constants.DEFAULT_FLAT_S,
        "--flat_s",
        "--flat-s",
        help="Restart the capture after this long (s) of flat digital silence.",
    ),
) -> None:
    """Record continuously into timestamped FLAC segments, until stopped (Ctrl-C, SIGTERM)."""
    from miserymeter.capture.microphone import parse_device, sounddevice
    from miserymeter.capture.recorder import RecordConfig, Recorder, RecorderEvent
    from miserymeter.capture.retention import RetentionLimits
    from miserymeter.paths import default_archive_dir

    if channels <= 0:
        raise ConfigError(f"--channels must be positive, not {channels}")
    if sample_rate < constants.MIN_SAMPLE_RATE_HZ:
        raise ConfigError(
            f"--sample_rate {sample_rate}: a microphone records at "
            f"{constants.MIN_SAMPLE_RATE_HZ} Hz or more (16000, 22050, 44100, 48000); "
            "pass the rate it records at"
        )
    positive = {
        "--segment_s": segment_s,
        "--no_frames_s": no_frames_s,
        "--flat_s": flat_s,
        "--keep-days": keep_days,
        "--max-gb": max_gb,
        "--duration_s": duration_s,
    }
    for name, number in positive.items():
        if number is not None and number <= 0:
            raise ConfigError(f"{name} must be positive, not {number}")
    sounddevice()  # a missing PortAudio is an error now, not a retry loop
    config = RecordConfig(
        archive_dir=out or default_archive_dir(),
        device=parse_device(device),
        sample_rate_hz=sample_rate,
        n_channels=channels,
        segment_s=segment_s,
        limits=RetentionLimits(
            keep_days=keep_days,
            max_bytes=None if max_gb is None else int(max_gb * BYTES_PER_GB),
        ),
        no_frames_s=no_frames_s,
        flat_s=flat_s,
        duration_s=duration_s,
    )

    def log(event: RecorderEvent) -> None:
        print_event(event.at, event.kind, event.message)

    stop = threading.Event()
    set_on_stop_signals(stop)
    recorder = Recorder(config, on_event=log)
    summary = recorder.run(stop)
    console.print(
        f"recorded {summary.n_frames / sample_rate:.1f} s ({summary.n_frames} frames) "
        f"into {config.archive_dir}: "
        f"{summary.n_segments_written} segment(s), {len(summary.gaps)} gap(s), "
        f"{summary.n_restarts} restart(s), {summary.n_frames_dropped / sample_rate:.1f} s dropped",
        markup=False,
    )
    if summary.n_frames_unwritten:
        raise StorageError(
            f"{config.archive_dir}: {summary.n_frames_unwritten / sample_rate:.1f} s of audio "
            "could not be written; free space on the disk or fix the folder"
        )
    if recorder.n_stuck_streams:
        # PortAudio's exit handler would wait forever for the stream the driver holds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
