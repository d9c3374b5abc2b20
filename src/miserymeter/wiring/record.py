"""`record`, wired: the recorder built from `RecordOptions`, run until stopped, summed up."""

from __future__ import annotations

import os
import sys
import threading

from miserymeter.capture.microphone import parse_device, require_a_microphone, sounddevice
from miserymeter.capture.recorder import RecordConfig, Recorder, RecorderEvent
from miserymeter.capture.retention import RetentionLimits
from miserymeter.errors import StorageError
from miserymeter.paths import default_archive_dir
from miserymeter.sinks.console import Terminal
from miserymeter.wiring.record_options import RecordOptions

BYTES_PER_GB = 1e9


def run_record(options: RecordOptions, *, terminal: Terminal, stop: threading.Event) -> None:
    """Record as `options` say until `stop` is set (or --duration_s); audio that could not be
    written is a StorageError once the summary is said."""
    sounddevice()  # a missing PortAudio is an error now, not a retry loop
    require_a_microphone(
        options.device, or_else="name the one to wait for with --device (it is retried)"
    )
    config = RecordConfig(
        archive_dir=options.out or default_archive_dir(),
        device=parse_device(options.device),
        sample_rate_hz=options.sample_rate,
        n_channels=options.channels,
        segment_s=options.segment_s,
        limits=RetentionLimits(
            keep_days=options.keep_days,
            max_bytes=None if options.max_gb is None else int(options.max_gb * BYTES_PER_GB),
        ),
        no_frames_s=options.no_frames_s,
        flat_s=options.flat_s,
        duration_s=options.duration_s,
    )

    def log(event: RecorderEvent) -> None:
        terminal.event(event.at, event.kind, event.message)

    recorder = Recorder(config, on_event=log)
    summary = recorder.run(stop)
    rate = options.sample_rate
    terminal.out.print(
        f"recorded {summary.n_frames / rate:.1f} s ({summary.n_frames} frames) "
        f"into {config.archive_dir}: "
        f"{summary.n_segments_written} segment(s), {len(summary.gaps)} gap(s), "
        f"{summary.n_restarts} restart(s), {summary.n_frames_dropped / rate:.1f} s dropped",
        markup=False,
    )
    if summary.n_frames_unwritten:
        raise StorageError(
            f"{config.archive_dir}: {summary.n_frames_unwritten / rate:.1f} s of audio "
            "could not be written; free space on the disk or fix the folder"
        )
    if recorder.n_stuck_streams:
        # PortAudio's exit handler would wait forever for the stream the driver holds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
