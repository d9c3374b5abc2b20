"""`miserymeter slice`, `label` and `dataset stats`: from recordings to a labelled dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from miserymeter import constants
from miserymeter.cli._app import app, console, reports_errors

if TYPE_CHECKING:
    from datetime import tzinfo

    from miserymeter.audio.archive import Segment
    from miserymeter.prepare.labelling import LabelPlan
    from miserymeter.prepare.slicing import SliceResult
    from miserymeter.prepare.stats import DatasetStats, LabelStats

dataset_app = typer.Typer(
    help="Look at a folder-per-label dataset before training on it.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")


@app.command("slice", short_help="Cut recordings into clips for training (sox's step).")
@reports_errors
def slice_command(
    inputs: list[Path] = typer.Argument(
        ...,
        metavar="INPUT",
        help="Recordings (WAV, FLAC, OGG, Opus, MP3, AIFF) or folders of them.",
        show_default=False,
        readable=False,  # an unreadable file is one error line from the reader, not a usage box
    ),
    out: Path = typer.Option(..., "--out", help="Folder for the clips (created if missing)."),
    clip_duration_ms: int = typer.Option(
        5_000, "--clip_duration_ms", help="Length of each clip (ms)."
    ),
    hop_ms: int | None = typer.Option(
        None, "--hop_ms", help="Start a clip every this many ms; default: back to back."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_SAMPLE_RATE_HZ, "--sample_rate", help="Sample rate of the clips (Hz)."
    ),
    gain_db: float = typer.Option(
        0.0, "--gain_db", help="Fixed gain (dB), like sox's `vol 45 dB`; clipping is reported."
    ),
    normalize: bool = typer.Option(
        False, "--normalize", help="Bring each recording to --target_dbfs (one gain per file)."
    ),
    target_dbfs: float = typer.Option(
        -20.0, "--target_dbfs", help="RMS level (dBFS) --normalize aims for."
    ),
) -> None:
    """Cut recordings into mono clips named <recording>_nohash_<offset>ms.wav (sox's step)."""
    from miserymeter.errors import ConfigError
    from miserymeter.prepare.layout import describe_left_out, unreadable_audio_files
    from miserymeter.prepare.output import ClipWriter
    from miserymeter.prepare.slicing import (
        SliceSettings,
        find_sources,
        refuse_sliced_before,
        slice_recording,
    )

    settings = SliceSettings(
        clip_duration_ms=clip_duration_ms,
        sample_rate_hz=sample_rate,
        hop_ms=hop_ms,
        gain_db=gain_db,
        normalize_to_dbfs=target_dbfs if normalize else None,
    )
    sources = find_sources(inputs)
    refuse_sliced_before(sources, out_dir=out)
    for folder in (path for path in inputs if path.is_dir()):
        if warning := describe_left_out(unreadable_audio_files(folder), root=folder):
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    results = []
    with ClipWriter(sample_rate_hz=sample_rate) as writer:
        for source in sources:
            result = slice_recording(source, out_dir=out, settings=settings, writer=writer)
            results.append(result)
            console.print(_slice_line(result), highlight=False)
    n_clips = sum(len(r.clips) for r in results)
    if n_clips == 0:
        shortest_s = min(r.source.duration_s for r in results)
        raise ConfigError(
            f"no clip written: {'the recording is' if len(results) == 1 else 'the recordings are'}"
            f" shorter than --clip_duration_ms {clip_duration_ms} (from {shortest_s:.1f} s); "
            "pass a shorter --clip_duration_ms"
        )
    console.print(
        f"wrote {plural(n_clips, 'clip')} of {clip_duration_ms} ms at {sample_rate} Hz "
        f"to {escape(str(out))}",
        highlight=False,
    )
    n_clipped = sum(r.n_clipped for r in results)
    if n_clipped:
        n_clipped_clips = sum(1 for r in results for c in r.clips if c.n_clipped)
        console.print(
            f"[yellow]warning:[/yellow] {n_clipped} samples in {plural(n_clipped_clips, 'clip')} "
            "were clipped at full scale; lower --gain_db or --target_dbfs",
            highlight=False,
        )


def _slice_line(result: SliceResult) -> str:
    source = result.source
    notes = [f"{source.duration_s:.1f} s at {source.sample_rate_hz} Hz"]
    if source.n_channels > 1:
        notes.append(f"{source.n_channels} channels mixed down")
    if result.source_level_dbfs is not None:
        notes.append(f"level {result.source_level_dbfs:.1f} dBFS")
    if result.gain_db:
        notes.append(f"gain {result.gain_db:+.1f} dB")
    if result.n_clipped:
        notes.append(f"[yellow]{result.n_clipped} samples clipped[/yellow]")
    if result.left_out_s > 0:
        notes.append(f"last {result.left_out_s:.2f} s left out")
    clips = plural(len(result.clips), "clip")
    return f"{escape(str(source.path))}: {clips} ({', '.join(notes)})"


def _recorded(
    archive: Path | None, recording: Path | None, start: str | None, *, timezone: tzinfo | None
) -> list[Segment]:
    """The audio `label` cuts: the archive's segments, or one recording from its start."""
    from datetime import UTC

    from miserymeter.audio.archive import Segment, list_segments
    from miserymeter.audio.recorded_time import recorded_start
    from miserymeter.audio.stream import inspect_source
    from miserymeter.errors import AudioError, ConfigError
    from miserymeter.written_time import FORMS, parse_written_time

    if archive is not None and recording is None:
        if start is not None:
            raise ConfigError("--start goes with --recording: an archive's segments carry times")
        segments = list_segments(archive)
        if not segments:
            raise AudioError(
                f"{archive}: holds no archive segments (<date>/<time>Z.flac); record into it "
                "with `miserymeter record --out` first, or label one file with --recording"
            )
        return segments
    if recording is not None and archive is None:
        info = inspect_source(recording)
        if start is not None:
            began = parse_written_time(start, where="--start", zone=timezone)
        elif (carried := recorded_start(recording)) is not None:
            began = carried.astimezone(UTC)
        else:
            raise ConfigError(f"{recording}: carries no time it began; pass --start as {FORMS}")
        return [Segment(recording, began, info.n_frames, info.sample_rate_hz)]
    raise ConfigError(
        "label needs either --archive (the folder `miserymeter record` fills) or --recording FILE"
    )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app.command("label", short_help="Cut record's archive into clips labelled from noted episodes.")
@reports_errors
def label_command(
    episodes: Path = typer.Option(
        ..., "--episodes", help="CSV with start,end,label rows (times as --start takes them)."
    ),
    archive: Path | None = typer.Option(
        None, "--archive", help="The folder `miserymeter record` fills."
    ),
    recording: Path | None = typer.Option(
        None,
        "--recording",
        metavar="FILE",
        help="Or one recording made elsewhere (a phone, another recorder).",
    ),
    start: str | None = typer.Option(
        None,
        "--start",
        help="When --recording began: 2026-11-25 21:00 (local time) or with an offset; "
        "default: the time the file carries (a FLAC/WAV date tag).",
    ),
    out: Path = typer.Option(..., "--out", help="Dataset folder: clips go to OUT/<label>/."),
    default_label: str = typer.Option(
        "silence", "--default_label", help="Label of everything outside the episodes."
    ),
    margin_s: float = typer.Option(
        5.0, "--margin_s", help="Seconds left out on both sides of every episode edge."
    ),
    clip_duration_ms: int = typer.Option(
        5_000, "--clip_duration_ms", help="Length of each clip (ms)."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_SAMPLE_RATE_HZ, "--sample_rate", help="Sample rate of the clips (Hz)."
    ),
    gain_db: float = typer.Option(0.0, "--gain_db", help="Fixed gain (dB); clipping is reported."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="Time zone of naive times, e.g. Europe/Berlin; default: system."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only print what would be written, per label."
    ),
) -> None:
    """Cut the archive (or one recording) into labelled clips: inside an episode its label,
    outside the default."""
    from miserymeter.prepare.labelling import LabelSettings, plan_labelling, write_labelled
    from miserymeter.prepare.noted_episodes import misspelt_labels, parse_timezone, read_episodes
    from miserymeter.prepare.output import ClipWriter, refuse_existing

    settings = LabelSettings(
        clip_duration_ms=clip_duration_ms,
        sample_rate_hz=sample_rate,
        default_label=default_label,
        margin_s=margin_s,
        gain_db=gain_db,
    )
    zone = parse_timezone(timezone)
    segments = _recorded(archive, recording, start, timezone=zone)
    noted = read_episodes(episodes, timezone=zone)
    plan = plan_labelling(segments, noted, settings=settings, episodes_path=episodes, timezone=zone)
    if not dry_run:
        refuse_existing(
            (out / name for name in plan.clip_names()),
            fix="labelled into this folder before? remove those clips or choose another --out",
        )
    n_gaps = len(plan.runs) - 1
    console.print(
        f"{escape(str(archive or recording))}: {plan.recorded_s / 60:.1f} min recorded in "
        f"{plural(len(plan.runs), 'run')} ({plural(n_gaps, 'gap')}); "
        f"{plural(len(noted), 'episode')} in {escape(str(episodes))}",
        highlight=False,
    )
    folders = {p.name for p in out.iterdir() if p.is_dir()} if out.is_dir() else set()
    known = {"crying", default_label} | folders
    for warning in [*misspelt_labels(noted, known=known, path=episodes), *plan.warnings]:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    console.print(_counts_table(plan, title="would write" if dry_run else "writing"))
    if dry_run:
        console.print("dry run: nothing written", highlight=False)
        return
    with ClipWriter(sample_rate_hz=sample_rate) as writer:
        result = write_labelled(plan, out_dir=out, writer=writer)
    console.print(
        f"wrote {plural(len(writer.written), 'clip')} of {clip_duration_ms} ms at "
        f"{sample_rate} Hz to {escape(str(out))}",
        highlight=False,
    )
    if result.n_clipped:
        console.print(
            f"[yellow]warning:[/yellow] {result.n_clipped} samples in "
            f"{plural(result.n_clipped_clips, 'clip')} were clipped at full scale; "
            "lower --gain_db",
            highlight=False,
        )


def _counts_table(plan: LabelPlan, *, title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("label", "clips", "minutes", "groups"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for count in plan.counts():
        table.add_row(
            escape(count.label), str(count.n_clips), f"{count.duration_s / 60:.1f}",
            str(count.n_groups),
        )  # fmt: skip
    return table


@dataset_app.command(
    "stats", short_help="Clips, minutes, split and loudness per label, and warnings."
)
@reports_errors
def stats_command(
    data_dir: Path = typer.Argument(
        ..., metavar="DATA_DIR", help="Dataset folder: one sub-folder of clips per label."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of tables."),
    validation_percentage: float = typer.Option(
        10.0, "--validation_percentage", help="As for `train`: percent of groups for validation."
    ),
    testing_percentage: float = typer.Option(
        10.0, "--testing_percentage", help="As for `train`: percent of groups for testing."
    ),
) -> None:
    """Per label: clips, minutes, groups, split, rates, channels, durations, loudness; warnings."""
    from miserymeter.errors import DatasetError
    from miserymeter.prepare.stats import dataset_stats

    stats = dataset_stats(
        data_dir,
        validation_percentage=validation_percentage,
        testing_percentage=testing_percentage,
    )
    if as_json:
        print(json.dumps(_stats_json(stats)), flush=True)
    else:
        console.print(_overview_table(stats))
        console.print(_audio_table(stats))
        for warning in stats.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        if not stats.warnings and not stats.unreadable:
            console.print("no warnings", highlight=False)
    if stats.unreadable:
        first = stats.unreadable[0]
        more = f" (and {len(stats.unreadable) - 1} more unreadable files)"
        raise DatasetError(
            f"{first.path}: {first.reason}{more if len(stats.unreadable) > 1 else ''}; "
            "re-export them as WAV or FLAC, or remove them"
        )


def _overview_table(stats: DatasetStats) -> Table:
    table = Table(title=str(stats.data_dir), title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("label", "clips", "minutes", "groups", "train", "val", "test", "Hz"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for s in stats.labels:
        splits = [str(n) for _, n in s.splits]
        rates = ",".join(str(rate) for rate, _ in s.sample_rates_hz)
        table.add_row(
            escape(s.label),
            str(s.n_clips),
            f"{s.total_s / 60:.1f}",
            str(s.n_groups),
            *splits,
            rates,
        )
    return table


def _audio_table(stats: DatasetStats) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    columns = (
        "label",
        "channels",
        "seconds",
        "dBFS p10",
        "median",
        "p90",
        "quiet",
        "clipped",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "label" else "right")
    for s in stats.labels:
        d, level = s.duration_s, s.level_dbfs
        table.add_row(
            escape(s.label),
            ",".join(str(n) for n, _ in s.channels),
            f"{d.min:g}" if d.min == d.max else f"{d.min:g}-{d.max:g}",
            f"{level.p10:.0f}",
            f"{level.median:.0f}",
            f"{level.p90:.0f}",
            str(s.n_quiet),
            str(s.n_clipped),
        )
    return table


def _stats_json(stats: DatasetStats) -> dict[str, Any]:
    def label_json(s: LabelStats) -> dict[str, Any]:
        return {
            **dataclasses.asdict(s),
            "splits": dict(s.splits),
            "sample_rates_hz": {str(rate): n for rate, n in s.sample_rates_hz},
            "channels": {str(n): count for n, count in s.channels},
        }

    return {
        "data_dir": str(stats.data_dir),
        "labels": [label_json(s) for s in stats.labels],
        "warnings": list(stats.warnings),
        "identical": [[str(path) for path in group] for group in stats.identical],
        "unreadable": [{"path": str(u.path), "reason": u.reason} for u in stats.unreadable],
    }
