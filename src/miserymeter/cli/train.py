"""`miserymeter train` and `export` (alias `freeze`): the tutorial's train.py and freeze.py."""

from __future__ import annotations

from pathlib import Path

import typer

from miserymeter import constants
from miserymeter.cli._app import app, console, reports_errors


@app.command(short_help="Train a cry detector on a folder of labelled clips.")
@reports_errors
def train(
    data_dir: Path = typer.Option(
        ..., "--data_dir", help="Folder with one sub-folder of clips per label."
    ),
    wanted_words: str = typer.Option(
        "",
        "--wanted_words",
        help="Labels to learn, comma-separated (required, e.g. crying); other folders become "
        "_unknown_.",
    ),
    train_dir: Path = typer.Option(
        Path("training"), "--train_dir", help="Where checkpoints, TensorBoard logs and plots go."
    ),
    sample_rate: int = typer.Option(
        constants.DEFAULT_SAMPLE_RATE_HZ,
        "--sample_rate",
        help="Sample rate (Hz) the model hears; files are resampled to it.",
    ),
    clip_duration_ms: int = typer.Option(
        constants.DEFAULT_CLIP_DURATION_MS,
        "--clip_duration_ms",
        help="Window length (ms) the model is trained on (>= 1000).",
    ),
    window_size_ms: float = typer.Option(
        constants.DEFAULT_WINDOW_SIZE_MS, "--window_size_ms", help="STFT window (ms)."
    ),
    window_stride_ms: float = typer.Option(
        constants.DEFAULT_WINDOW_STRIDE_MS, "--window_stride_ms", help="STFT hop (ms)."
    ),
    feature_bin_count: int = typer.Option(
        constants.DEFAULT_FEATURE_BIN_COUNT, "--feature_bin_count", help="Number of mel bands."
    ),
    min_frequency_hz: float = typer.Option(
        constants.DEFAULT_MIN_FREQUENCY_HZ, "--min_frequency_hz", help="Lowest mel band edge (Hz)."
    ),
    max_frequency_hz: float = typer.Option(
        constants.DEFAULT_MAX_FREQUENCY_HZ,
        "--max_frequency_hz",
        help="Highest mel band edge (Hz), capped at half the sample rate.",
    ),
    how_many_training_steps: str = typer.Option(
        "1000,200", "--how_many_training_steps", help="Steps of each phase, comma-separated."
    ),
    learning_rate: str = typer.Option(
        "0.001,0.0001", "--learning_rate", help="Learning rate of each phase, comma-separated."
    ),
    batch_size: int = typer.Option(64, "--batch_size", help="Windows per training step."),
    validation_percentage: float = typer.Option(
        10.0, "--validation_percentage", help="Percent of files (by name hash) for validation."
    ),
    testing_percentage: float = typer.Option(
        10.0, "--testing_percentage", help="Percent of files (by name hash) for testing."
    ),
    silence_percentage: float = typer.Option(
        10.0, "--silence_percentage", help="_silence_ windows, as a percent of wanted clips."
    ),
    unknown_percentage: float = typer.Option(
        10.0, "--unknown_percentage", help="_unknown_ windows, as a percent of wanted clips."
    ),
    unknown_mix_frequency: float = typer.Option(
        0.0,
        "--unknown_mix_frequency",
        help="Fraction of wanted windows with an _unknown_ clip mixed under them (0-1).",
    ),
    background_frequency: float = typer.Option(
        0.8, "--background_frequency", help="Fraction of windows with background noise mixed in."
    ),
    background_volume: float = typer.Option(
        0.1, "--background_volume", help="Largest background amplitude factor."
    ),
    time_shift_ms: float = typer.Option(
        100.0, "--time_shift_ms", help="Largest random time shift (ms)."
    ),
    eval_step_interval: int = typer.Option(
        400, "--eval_step_interval", help="Validate every this many steps."
    ),
    save_step_interval: int = typer.Option(
        100, "--save_step_interval", help="Save a checkpoint every this many steps."
    ),
    start_checkpoint: Path | None = typer.Option(
        None, "--start_checkpoint", help="Resume from this checkpoint."
    ),
    model_architecture: str = typer.Option(
        constants.DEFAULT_ARCHITECTURE,
        "--model_architecture",
        metavar="tcresnet|cnn2d|conv",
        help="tcresnet (default), cnn2d or conv (the tutorial's).",
    ),
    seed: int = typer.Option(59185, "--seed", help="Seed of every random choice."),
    ema_decay: float = typer.Option(
        0.0,
        "--ema_decay",
        help="Validate, test and export a moving average of the weights that keeps this much "
        "of itself each step (e.g. 0.995); 0: the last step's weights.",
    ),
) -> None:
    """Train a classifier on a folder of labelled clips (the tutorial's train.py)."""
    from miserymeter.train import require_torch
    from miserymeter.train.threads import let_waiting_threads_sleep

    let_waiting_threads_sleep()
    require_torch()
    from miserymeter.train.allocator import keep_freed_memory
    from miserymeter.train.config import TrainConfig, parse_positive_list
    from miserymeter.train.loop import train as run_training

    keep_freed_memory()

    config = TrainConfig(
        data_dir=data_dir,
        train_dir=train_dir,
        wanted_words=tuple(w.strip() for w in wanted_words.split(",") if w.strip()),
        sample_rate=sample_rate,
        clip_duration_ms=clip_duration_ms,
        window_size_ms=window_size_ms,
        window_stride_ms=window_stride_ms,
        feature_bin_count=feature_bin_count,
        min_frequency_hz=min_frequency_hz,
        max_frequency_hz=max_frequency_hz,
        how_many_training_steps=parse_positive_list(
            how_many_training_steps, flag="--how_many_training_steps", kind=int, example="1000,200"
        ),
        learning_rate=parse_positive_list(
            learning_rate, flag="--learning_rate", kind=float, example="0.001,0.0001"
        ),
        batch_size=batch_size,
        validation_percentage=validation_percentage,
        testing_percentage=testing_percentage,
        silence_percentage=silence_percentage,
        unknown_percentage=unknown_percentage,
        unknown_mix_frequency=unknown_mix_frequency,
        background_frequency=background_frequency,
        background_volume=background_volume,
        time_shift_ms=time_shift_ms,
        eval_step_interval=eval_step_interval,
        save_step_interval=save_step_interval,
        start_checkpoint=start_checkpoint,
        model_architecture=model_architecture,
        seed=seed,
        ema_decay=ema_decay,
    )
    result = run_training(config, console=console)
    console.print(
        f"test accuracy {result.test.accuracy:.1%}; final checkpoint {result.checkpoint}\n"
        f"export it with: miserymeter export --start_checkpoint={result.checkpoint} "
        f"--output_file={result.checkpoint.parent / 'model.onnx'}",
        markup=False,
    )


def _export(
    start_checkpoint: Path = typer.Option(
        ..., "--start_checkpoint", help="Checkpoint (.pt) from `miserymeter train`."
    ),
    output_file: Path = typer.Option(
        Path("model.onnx"), "--output_file", help="Where to write the ONNX model."
    ),
    second_opinion: str = typer.Option(
        "auto",
        "--second_opinion",
        metavar="auto|yamnet|none",
        help="yamnet: YAMNet (shipped with miserymeter) decides crying at run time through the "
        "head `train` fitted on its embedding, so laughter, babble and pets are not taken for "
        "it; none: the network alone; auto: yamnet for a 16 kHz `crying` model whose "
        "checkpoint has that head (the last one of a finished run).",
    ),
) -> None:
    """Export a checkpoint to one self-contained ONNX file (alias: freeze)."""
    from miserymeter.train import require_torch

    require_torch()
    from miserymeter.train.export import export_checkpoint

    exported = export_checkpoint(start_checkpoint, output_file, second_opinion=second_opinion)
    metadata = exported.metadata
    size_kb = output_file.stat().st_size / 1024
    confirmed = metadata.get(constants.SECOND_OPINION_LABEL_KEY)
    console.print(
        f"wrote {output_file} ({size_kb:.0f} KB): labels {metadata['labels']}, "
        f"{metadata['sample_rate']} Hz, {metadata['clip_duration_ms']} ms windows"
        + (f"; YAMNet confirms '{confirmed}'" if confirmed else ""),
        markup=False,
    )
    if exported.alone_because:
        console.print(f"the network alone, without YAMNet: {exported.alone_because}", markup=False)


app.command("export", short_help="Export a training checkpoint to one ONNX file.")(
    reports_errors(_export)
)
app.command("freeze", help="Alias of export.")(reports_errors(_export))
