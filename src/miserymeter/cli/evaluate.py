"""`miserymeter evaluate`: how well a model does, on labelled clips or on a night with truth."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from miserymeter.cli._app import app, console, error_console, reports_errors
from miserymeter.delivery.notify.messages import duration_text

if TYPE_CHECKING:
    from miserymeter.evaluation.clips import ClipEvaluation
    from miserymeter.evaluation.event_scores import EventScores
    from miserymeter.evaluation.truth import TruthEvent
    from miserymeter.inference.model import Classifier

DETECTORS = ("model", "rms")


@app.command(short_help="Score a model on labelled clips, or on a night with known truth.")
@reports_errors
def evaluate(
    data_dir: Path | None = typer.Option(
        None, "--data_dir", help="Clip level: a folder of clips per label (data/<label>/*.wav)."
    ),
    night: Path | None = typer.Option(
        None, "--night", help="Event level: a long recording, detected as `listen` would."
    ),
    truth: Path | None = typer.Option(
        None,
        "--truth",
        help="The night's truth CSV: start_s,end_s,kind (crying, or the kind of another sound), "
        "or the start,end,label episodes you noted by the clock (see --start).",
    ),
    start: str | None = typer.Option(
        None,
        "--start",
        help="With noted episodes: when the night began, 2026-11-25 21:00 (local time) or "
        "with an offset; default: the time the recording carries (its FLAC/WAV date tag).",
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", help="Time zone of noted local times, e.g. Europe/Berlin."
    ),
    model: Path | None = typer.Option(
        None, "--model", help="An exported .onnx model; default: the bundled one."
    ),
    wanted_word: str | None = typer.Option(
        None,
        "--wanted_word",
        help="The label that means crying (default: crying, or the model's only word label).",
    ),
    threshold: float = typer.Option(
        0.5, "--threshold", help="Clip level: flag a clip whose best window scores at least this."
    ),
    target_fpr: float = typer.Option(
        0.01, "--target_fpr", help="Clip level: report the threshold for this false-positive rate."
    ),
    plots: Path | None = typer.Option(
        None, "--plots", help="Clip level: write roc.png and scores.png into this folder."
    ),
    skip_trained: bool = typer.Option(
        False,
        "--skip_trained",
        help="Clip level: leave out the clips the model was trained on (its export lists "
        "them), e.g. to score its testing split in its own training folder.",
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of tables."),
) -> None:
    """Score a model: on clips (ROC-AUC, confusion matrix, threshold for a false-positive rate)
    or on a night with known truth (episodes found, false alarms per hour, latency)."""
    from miserymeter.errors import ConfigError
    from miserymeter.inference.bundled import DEFAULT_MODEL_PATH

    if (data_dir is None) == (night is None):
        raise ConfigError("evaluate needs either --data_dir (clips) or --night with --truth")
    if night is not None and truth is None:
        raise ConfigError(f"{night}: --night needs its --truth CSV (start_s,end_s,kind)")
    if data_dir is not None and truth is not None:
        raise ConfigError(f"{truth}: --truth goes with --night, not with --data_dir")
    if data_dir is None and plots is not None:
        raise ConfigError(f"{plots}: --plots draws clip-level plots; use it with --data_dir")
    if data_dir is None and skip_trained:
        raise ConfigError("--skip_trained leaves out training clips; use it with --data_dir")
    model_path = model or DEFAULT_MODEL_PATH
    if data_dir is not None:
        _evaluate_clips(
            data_dir,
            model_path,
            wanted_word=wanted_word or "crying",
            threshold=threshold,
            target_fpr=target_fpr,
            plots=plots,
            skip_trained=skip_trained,
            as_json=as_json,
        )
    elif night is not None and truth is not None:
        from miserymeter.evaluation.truth import read_night_truth
        from miserymeter.prepare.noted_episodes import parse_timezone
        from miserymeter.written_time import parse_written_time

        zone = parse_timezone(timezone)
        began = None if start is None else parse_written_time(start, where="--start", zone=zone)
        duration_s, events = read_night_truth(night, truth, start=began, timezone=zone)
        _evaluate_night(
            night, truth, duration_s, events, model_path, wanted_word=wanted_word, as_json=as_json
        )


def _evaluate_clips(
    data_dir: Path,
    model_path: Path,
    *,
    wanted_word: str,
    threshold: float,
    target_fpr: float,
    plots: Path | None,
    skip_trained: bool,
    as_json: bool,
) -> None:
    from miserymeter.errors import ConfigError
    from miserymeter.evaluation.clips import (
        check_wanted_word,
        dataset_clips,
        evaluate_clips,
        score_clips,
    )
    from miserymeter.inference.model import Classifier
    from miserymeter.prepare.layout import left_out_warning

    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold {threshold:g}: a probability, from 0 to 1")
    if not 0.0 < target_fpr < 1.0:
        raise ConfigError(f"--target_fpr {target_fpr:g}: a rate between 0 and 1, e.g. 0.01")
    if plots is not None:
        from miserymeter.paths import writable_folder
        from miserymeter.train import evaluation_plots  # fails early without matplotlib

        writable_folder(plots, option="--plots")
    clips = dataset_clips(data_dir)
    if warning := left_out_warning(data_dir):
        error_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    classifier = Classifier(model_path)
    check_wanted_word(
        clips, wanted_word, labels=classifier.info.labels, data_dir=data_dir, model=model_path
    )
    clips = _leaving_out_trained(
        clips, classifier, data_dir, model_path, wanted_word=wanted_word, skip=skip_trained
    )
    evaluation = evaluate_clips(
        score_clips(classifier, clips),
        wanted_word=wanted_word,
        threshold=threshold,
        target_fpr=target_fpr,
    )
    written = evaluation_plots.plot_evaluation(evaluation, plots) if plots is not None else []
    if as_json:
        print(json.dumps(_clips_json(evaluation, data_dir, model_path)), flush=True)
        return
    _print_clips(evaluation, data_dir, model_path)
    for path in written:
        console.print(f"wrote {escape(str(path))}", highlight=False)


def _leaving_out_trained(
    clips: list[tuple[Path, str]],
    classifier: Classifier,
    data_dir: Path,
    model_path: Path,
    *,
    wanted_word: str,
    skip: bool,
) -> list[tuple[Path, str]]:
    """`clips` without those the model was trained on with --skip_trained; without it, all of
    them, and a warning when some were trained on: figures on them flatter the model."""
    from miserymeter.errors import DatasetError, ModelError
    from miserymeter.evaluation.clips import trained_on

    trained = trained_on(clips, classifier.info, model=model_path)
    if skip:
        if trained is None:
            raise ModelError(
                f"{model_path}: records no list of the clips it was trained on (the bundled "
                "model and those trained by an earlier version have none); leave out "
                "--skip_trained"
            )
        unheard = [clip for clip in clips if clip[0] not in trained]
        if not unheard:
            raise DatasetError(
                f"{data_dir}: {model_path.name} was trained on every clip; score clips it "
                "never heard (another night's)"
            )
        _check_both_sides_left(unheard, wanted_word, data_dir, model_path)
        return unheard
    if trained:
        n_other = len(clips) - len(trained)
        how = (
            f"add --skip_trained to score only the other {n_other} (e.g. its testing split)"
            if n_other
            else "score clips it never heard (another night's)"
        )
        error_console.print(
            f"[yellow]warning:[/yellow] {len(trained)} of {len(clips)} clips in "
            f"{escape(str(data_dir))} are ones {escape(model_path.name)} was trained on: its "
            f"figures on them flatter it; {how}"
        )
    return clips


def _check_both_sides_left(
    unheard: list[tuple[Path, str]], wanted_word: str, data_dir: Path, model_path: Path
) -> None:
    """A DatasetError when the model was trained on all the clips of `wanted_word`, or on all
    the others: --skip_trained left none of them to score."""
    from miserymeter.errors import DatasetError

    n_wanted = sum(folder == wanted_word for _, folder in unheard)
    if 0 < n_wanted < len(unheard):
        return
    side = f"'{wanted_word}'" if n_wanted == 0 else f"other (not '{wanted_word}')"
    raise DatasetError(
        f"{data_dir}: {model_path.name} was trained on all its {side} clips, so "
        f"--skip_trained leaves none of them to score; add {side} clips it never heard "
        "(another night's)"
    )


def _print_clips(evaluation: ClipEvaluation, data_dir: Path, model_path: Path) -> None:
    word, point = evaluation.wanted_word, evaluation.at_target_fpr
    n_wanted = int(evaluation.positive.sum())
    console.print(
        f"[bold]{escape(str(data_dir))}[/bold]: {evaluation.n_clips} clips "
        f"({n_wanted} {escape(word)}), scored by {escape(model_path.name)}; a clip's score is "
        f"its highest window's {escape(word)} probability",
        highlight=False,
    )
    console.print(f"{escape(word)} ROC-AUC {_number(evaluation.roc_auc)}", highlight=False)
    console.print(
        f"at threshold {evaluation.threshold:g}: precision "
        f"{_number(evaluation.precision[word])}, recall {_number(evaluation.recall[word])}",
        highlight=False,
    )
    console.print(
        f"for {evaluation.target_fpr * 100:g} % false positives: threshold {point.threshold:.4f} "
        f"(false-positive rate {point.false_positive_rate:.1%}, recall {point.recall:.1%})",
        highlight=False,
    )
    folders = Table(box=box.SIMPLE_HEAD)
    for column in ("folder", "clips", f"flagged {word}"):
        folders.add_column(escape(column), justify="left" if column == "folder" else "right")
    for folder, n_clips, n_flagged in evaluation.flagged_by_folder:
        folders.add_row(escape(folder), str(n_clips), str(n_flagged))
    console.print(folders)
    matrix = Table(title="confusion matrix (true ↓, predicted →)", title_justify="left")
    matrix.box = box.SIMPLE_HEAD
    matrix.add_column("")
    for label in evaluation.labels:
        matrix.add_column(escape(label), justify="right")
    matrix.add_column("precision", justify="right")
    matrix.add_column("recall", justify="right")
    for label, row in zip(evaluation.labels, evaluation.matrix, strict=True):
        matrix.add_row(
            escape(label),
            *(str(n) for n in row),
            _number(evaluation.precision[label]),
            _number(evaluation.recall[label]),
        )
    console.print(matrix)


def _clips_json(evaluation: ClipEvaluation, data_dir: Path, model_path: Path) -> dict[str, Any]:
    point = evaluation.at_target_fpr
    return {
        "data_dir": str(data_dir),
        "model": str(model_path),
        "wanted_word": evaluation.wanted_word,
        "n_clips": evaluation.n_clips,
        "n_wanted": int(evaluation.positive.sum()),
        "roc_auc": _finite(evaluation.roc_auc),
        "threshold": evaluation.threshold,
        "labels": list(evaluation.labels),
        "confusion_matrix": evaluation.matrix.tolist(),
        "precision": {k: _finite(v) for k, v in evaluation.precision.items()},
        "recall": {k: _finite(v) for k, v in evaluation.recall.items()},
        "flagged_by_folder": {
            folder: {"clips": n_clips, "flagged": n_flagged}
            for folder, n_clips, n_flagged in evaluation.flagged_by_folder
        },
        "target_fpr": evaluation.target_fpr,
        "at_target_fpr": {
            "threshold": point.threshold,
            "false_positive_rate": point.false_positive_rate,
            "recall": _finite(point.recall),
        },
    }


def _evaluate_night(
    night: Path,
    truth: Path,
    duration_s: float,
    events: tuple[TruthEvent, ...],
    model_path: Path,
    *,
    wanted_word: str | None,
    as_json: bool,
) -> None:
    from miserymeter.evaluation.event_scores import score_events
    from miserymeter.inference.labels import crying_label
    from miserymeter.inference.model import Classifier
    from miserymeter.pipeline import detect_file  # the listener: after the cheap checks

    classifier = Classifier(model_path)
    label = crying_label(classifier.info.labels, wanted_word, option="--wanted_word")
    scores = {
        detector: score_events(
            detect_file(night, classifier=classifier, detector=detector, crying_label=label),
            events,
            duration_s=duration_s,
        )
        for detector in DETECTORS
    }
    if as_json:
        print(
            json.dumps(
                {
                    "night": str(night),
                    "truth": str(truth),
                    "model": str(model_path),
                    "duration_s": duration_s,
                    "detectors": {name: s.to_dict() for name, s in scores.items()},
                }
            ),
            flush=True,
        )
        return
    n_episodes = next(iter(scores.values())).n_episodes
    crying_s = next(iter(scores.values())).crying_s
    console.print(
        f"[bold]{escape(str(night))}[/bold]: {duration_s / 60:.1f} min, {n_episodes} crying "
        f"episode{'' if n_episodes == 1 else 's'} ({duration_text(crying_s)} of crying) in "
        f"{escape(str(truth))}; model "
        f"{escape(model_path.name)}",
        highlight=False,
    )
    console.print(_events_table(scores))


def _events_table(scores: dict[str, EventScores]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("")
    for name in scores:
        table.add_column(name, justify="right")
    rows = {
        "episodes found": lambda s: f"{s.n_found}/{s.n_episodes}",
        "missed": lambda s: str(s.n_missed),
        "detections": lambda s: str(s.n_detections),
        "false alarms": lambda s: str(s.n_false_alarms),
        "false alarms per hour": lambda s: f"{s.false_alarms_per_hour:.1f}",
        "latency median (s)": lambda s: _number(s.latency_median_s, digits=1),
        "latency p90 (s)": lambda s: _number(s.latency_p90_s, digits=1),
        "precision": lambda s: _number(s.precision),
        "recall": lambda s: _number(s.recall),
        "false alarms from": lambda s: _kinds(s.false_alarms_by_kind),
        "time flagged as crying": lambda s: duration_text(s.flagged_s),
        "of it, with no crying": lambda s: duration_text(s.flagged_not_crying_s),
        "longest episode": lambda s: duration_text(s.longest_detection_s),
    }
    for name, cell in rows.items():
        table.add_row(name, *(cell(s) for s in scores.values()))
    return table


def _kinds(counts: tuple[tuple[str, int], ...], *, n_shown: int = 3) -> str:
    shown = ", ".join(f"{kind} {n}" for kind, n in counts[:n_shown])
    return shown + (", ..." if len(counts) > n_shown else "") if counts else "-"


def _number(value: float, *, digits: int = 3) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value
