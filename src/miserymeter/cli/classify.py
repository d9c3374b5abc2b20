"""`miserymeter classify`: the tutorial's label_wav, on any file and length."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from miserymeter.cli._app import EXIT_ERROR, app, console, error_console, reports_errors


@app.command(short_help="Rank a model's labels for each audio file.")
@reports_errors
def classify(
    files: list[Path] = typer.Argument(
        None,
        metavar="FILE",
        help="Audio files (WAV, FLAC, OGG, Opus, MP3, AIFF), any rate and length, or folders "
        "of them.",
        readable=False,  # an unreadable file is one error line from the reader, not a usage box
    ),
    model: Path | None = typer.Option(
        None, "--model", help="An exported .onnx model; default: the bundled one."
    ),
    examples: bool = typer.Option(
        False, "--examples", help="Classify the example clips shipped with Misery Meter."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, per line."),
    windows: bool = typer.Option(False, "--windows", help="Also print every window's top label."),
) -> None:
    """Rank the labels of each file (the tutorial's label_wav), scoring long files in windows.

    A file that cannot be read is one error line; the others are still classified."""
    from miserymeter.errors import AudioError, ConfigError
    from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, example_clips
    from miserymeter.inference.classify import classify_file
    from miserymeter.inference.model import Classifier
    from miserymeter.prepare.layout import (
        describe_left_out,
        files_and_folders,
        unreadable_audio_files,
    )

    paths = files_and_folders(files or []) + (example_clips() if examples else [])
    for folder in (path for path in files or [] if path.is_dir()):  # a phone's .m4a, as slice
        if warning := describe_left_out(unreadable_audio_files(folder), root=folder):
            error_console.print(f"warning: {warning}", markup=False)
    if not paths:
        raise ConfigError("no files to classify: name some files, or pass --examples")
    classifier = Classifier(model or DEFAULT_MODEL_PATH)
    n_failed = 0
    for path in paths:
        try:
            scores = classify_file(classifier, path)
        except AudioError as e:  # one line for this file, then the next file
            error_console.print(f"error: {e}", markup=False)
            n_failed += 1
            continue
        if as_json:
            print(json.dumps(_scores_json(scores)), flush=True)
            continue
        name = escape(str(path))  # a file name may hold [brackets] that rich reads as markup
        console.print(
            f"[bold]{name}[/bold]  {scores.duration_s:.1f} s, {len(scores.windows)} window(s)",
            highlight=False,
        )
        for label, probability in scores.ranked():
            console.print(
                f"  {label:<12} {probability:.3f}  (peak {scores.peak[label]:.3f})", highlight=False
            )
        if windows:
            for window in scores.windows:
                top = max(window.probabilities, key=window.probabilities.__getitem__)
                console.print(
                    f"    {window.start_s:7.2f} s  {top} {window.probabilities[top]:.3f}",
                    highlight=False,
                )
    if n_failed:
        raise typer.Exit(EXIT_ERROR)


def _scores_json(scores: Any) -> dict[str, Any]:
    ranked = scores.ranked()
    return {
        "file": str(scores.path),
        "duration_s": round(scores.duration_s, 3),
        "top_label": ranked[0][0],
        "probabilities": dict(ranked),
        "peak": scores.peak,
        "windows": [
            {"start_s": w.start_s, "probabilities": w.probabilities} for w in scores.windows
        ],
    }
