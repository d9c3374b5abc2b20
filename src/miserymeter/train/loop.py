"""The training run: the tutorial's train.py, on a laptop CPU in minutes."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column
from torch.utils.tensorboard import SummaryWriter

from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import DatasetError, ModelError, RunInterrupted
from miserymeter.frontend.melspec import FrontEndConfig, used_bin_frequencies_hz
from miserymeter.inference.bundled import YAMNET_MODEL_PATH
from miserymeter.inference.second_opinion import EmbeddingHead, SecondOpinion
from miserymeter.paths import writable_folder
from miserymeter.prepare.fingerprints import fingerprints_text
from miserymeter.prepare.layout import left_out_warning, nearly_one_of
from miserymeter.prepare.split import SPLITS, Split
from miserymeter.train import tables
from miserymeter.train.augment import AugmentConfig, augment_batch, noise_bank
from miserymeter.train.averaging import average_state, evaluated, weight_average
from miserymeter.train.batches import BatchSampler, ClipSet, fixed_eval_set
from miserymeter.train.checkpoint import Checkpoint, checkpoint_path, load_checkpoint
from miserymeter.train.config import TrainConfig, check
from miserymeter.train.dataset import (
    ConversionReport,
    DatasetIndex,
    data_sha256,
    load_clips,
    scan_dataset,
    thin_split_warnings,
)
from miserymeter.train.embedding_head import (
    HeardClips,
    confirmed_label,
    fit_embedding_head,
    hear_clips,
    why_unconfirmed,
)
from miserymeter.train.evaluation import EvalResult, clip_peaks, predict, summarise
from miserymeter.train.models import ModelConfig, build_model
from miserymeter.train.plots import plot_confusion_matrix, plot_training_curves

# Ctrl-C, or a shutdown / `kill` / a service manager stopping the run.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class TrainResult:
    """Where the final checkpoint is and how it did on the test split."""

    checkpoint: Path
    test: EvalResult
    steps: int


@dataclass(frozen=True)
class _SplitData:
    clip_set: ClipSet
    n_silence: int
    windows: np.ndarray
    truth: np.ndarray


@dataclass
class _Run:
    """Everything one training run holds: its data, its model and how it learns."""

    config: TrainConfig
    index: DatasetIndex
    model_config: ModelConfig
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    average: torch.optim.swa_utils.AveragedModel | None
    splits: dict[Split, _SplitData]
    sampler: BatchSampler
    augment: AugmentConfig
    backgrounds: list[torch.Tensor]
    bank: torch.Tensor
    response_freqs_hz: torch.Tensor
    rng: np.random.Generator
    augment_rng: torch.Generator
    data_hash: str
    training_clips: str  # the training split's fingerprints, for `evaluate` to recognise
    writer: SummaryWriter
    step: int
    history: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ("step", "loss", "acc", "eval_step", "eval_acc")}
    )


def train(config: TrainConfig, *, console: Console) -> TrainResult:
    """Train a network as `config` says, reporting progress on `console`."""
    run = _set_up(config, console)
    progress = Progress(
        TextColumn("[bold]training"),
        BarColumn(bar_width=None),  # the bar gives way at 80 columns, not the step count
        MofNCompleteColumn(table_column=Column(no_wrap=True)),
        TextColumn("{task.fields[stats]}", table_column=Column(no_wrap=True)),
        TimeElapsedColumn(table_column=Column(no_wrap=True)),
        console=console,
    )
    run.model.train()
    with _ctrl_c_requests_stop() as stop:
        try:
            with progress:
                task = progress.add_task(
                    "train", total=config.total_steps, completed=run.step, stats=""
                )
                while run.step < config.total_steps and not stop.requested.is_set():
                    rate, accuracy, loss = _step(run)
                    progress.update(
                        task,
                        advance=1,
                        stats=f"rate {rate:g} accuracy {accuracy:.1%} cross-entropy {loss:.3f}",
                    )
                    if run.step % config.eval_step_interval == 0 or run.step == config.total_steps:
                        _validate(run, progress.console)
                    if run.step % config.save_step_interval == 0:
                        _save(run)
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, mid-step
            pass
        stop.second_interrupts = False  # a Ctrl-C now waits for the checkpoint, written whole
        path = _save(run)  # before the slow end too: a stop while YAMNet learns loses no step
    run.writer.close()
    if run.step < config.total_steps:
        raise RunInterrupted(
            f"training interrupted at step {run.step}; resume with --start_checkpoint={path}"
        )
    if stop.requested.is_set():  # in the last step, or while its checkpoint was written
        raise _interrupted_before_test(run.step, path)
    try:
        return _finish(run, console)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while fitting YAMNet's head or testing
        raise _interrupted_before_test(run.step, path) from None


def _interrupted_before_test(step: int, path: Path) -> RunInterrupted:
    """A stop after the last step: its checkpoint `path` is kept, and resuming finishes."""
    return RunInterrupted(
        f"training interrupted at step {step}, before its test; resume with "
        f"--start_checkpoint={path} to finish it"
    )


def _set_up(config: TrainConfig, console: Console) -> _Run:
    """The dataset scanned and loaded, the model built (or resumed), the run's random streams."""
    check(config)
    index = scan_dataset(
        config.data_dir,
        wanted_words=list(config.wanted_words),
        validation_percentage=config.validation_percentage,
        testing_percentage=config.testing_percentage,
    )
    training_labels = {index.labels[e.label_index] for e in index.in_split("training")}
    if missing := [w for w in config.wanted_words if w not in training_labels]:
        raise DatasetError(
            f"{config.data_dir / missing[0]}: no clip of it falls in the training split; add "
            "clips or lower --validation_percentage/--testing_percentage"
        )
    if len(training_labels) == 1:
        (only,) = training_labels
        raise DatasetError(
            f"{config.data_dir}: only {only} clips: the model would take every sound for "
            f"{only}; add a folder of other sounds beside it ({config.data_dir / 'other'}/...: "
            "laughter, talk, the TV, the cat), see docs/training.md"
        )
    model_config = ModelConfig(
        architecture=config.model_architecture,
        labels=index.labels,
        clip_duration_ms=config.clip_duration_ms,
        frontend=FrontEndConfig(
            sample_rate_hz=config.sample_rate,
            window_size_ms=config.window_size_ms,
            window_stride_ms=config.window_stride_ms,
            n_mels=config.feature_bin_count,
            min_frequency_hz=config.min_frequency_hz,
            max_frequency_hz=config.max_frequency_hz,
        ),
    )
    resumed = _resume(config, model_config)
    torch.manual_seed(config.seed)  # the initial weights too: one seed, one model
    model = build_model(model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate[0])
    start_step = 0
    if resumed is not None:
        model.load_state_dict(resumed.model_state)
        optimizer.load_state_dict(resumed.optimizer_state)
        start_step = resumed.step
        console.print(f"resuming from {config.start_checkpoint} at step {start_step}", markup=False)
        if resumed.average_state is not None and config.ema_decay == 0.0:
            console.print(
                f"{config.start_checkpoint} holds a weight average that --ema_decay=0 drops: "
                "new checkpoints and their export use the last step's weights; pass the "
                "first run's --ema_decay (e.g. 0.995) to go on averaging",
                markup=False,
            )

    augment = AugmentConfig(
        sample_rate_hz=config.sample_rate,
        background_frequency=config.background_frequency,
        background_volume=config.background_volume,
        time_shift_samples=round(config.time_shift_ms * config.sample_rate / 1000),
    )
    conversions = ConversionReport()
    backgrounds = [
        torch.from_numpy(clip)
        for clip in load_clips(
            list(index.background_paths),
            sample_rate_hz=config.sample_rate,
            n_window=model_config.n_window,
            report=ConversionReport(),
        )
    ]
    splits: dict[Split, _SplitData] = {
        split: _load_split(index, split, config, model_config, augment, backgrounds, conversions)
        for split in SPLITS
    }
    if not splits["training"].clip_set.clips:
        raise DatasetError(
            f"{config.data_dir}: no file falls in the training split; add clips or lower "
            "--validation_percentage/--testing_percentage"
        )
    if not (splits["validation"].clip_set.clips or splits["testing"].clip_set.clips):
        raise DatasetError(
            f"{config.data_dir}: no file falls in the testing or validation split; add "
            "clips or raise --testing_percentage"
        )
    console.print(
        tables.split_table(
            index.labels, index.counts(), {s: d.n_silence for s, d in splits.items()}
        )
    )
    for line in thin_split_warnings(index.counts(), config.wanted_words):
        console.print(f"[yellow]warning:[/yellow] {escape(line)}", highlight=False)
    if index.unknown_folders:
        console.print(f"trained as _unknown_: {', '.join(index.unknown_folders)}", markup=False)
    for folder in index.unknown_folders:
        if meant := nearly_one_of(folder, config.wanted_words):
            console.print(
                f"[yellow]warning:[/yellow] {escape(str(config.data_dir / folder))}: not "
                f"{escape(meant)}, so its clips train as _unknown_; rename it {escape(meant)} "
                "if they are",
                highlight=False,
            )
    if not index.background_paths:
        console.print(f"no {BACKGROUND_NOISE_DIR}/ folder: `_silence_` is synthetic room tone")
    if warning := left_out_warning(config.data_dir):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    for line in conversions.lines(
        sample_rate_hz=config.sample_rate, clip_duration_ms=config.clip_duration_ms
    ):
        console.print(f"converted: {line}")
    data_hash = data_sha256(index)

    if config.start_checkpoint is None and (earlier := _earlier_checkpoints(config.train_dir)):
        exported = config.train_dir / "model.onnx"
        stale = (
            f", and {escape(str(exported))} is the earlier run's until you export again"
            if exported.is_file()
            else ""
        )
        console.print(
            f"[yellow]warning:[/yellow] {escape(str(config.train_dir))} holds an earlier run "
            f"({escape(earlier[-1].name)}): this run writes over its checkpoints, logs and "
            f"plots{stale}; pass another --train_dir to keep them",
            highlight=False,
        )
    writable_folder(config.train_dir, option="--train_dir")  # made once the dataset is good
    writer = SummaryWriter(log_dir=str(config.train_dir / "logs"))
    sampler = BatchSampler(
        splits["training"].clip_set,
        labels=index.labels,
        n_window=model_config.n_window,
        silence_percentage=config.silence_percentage,
        unknown_percentage=config.unknown_percentage,
        unknown_mix_frequency=config.unknown_mix_frequency,
    )
    average = weight_average(
        model, config.ema_decay, resumed.average_state if resumed is not None else None
    )
    rng = np.random.default_rng([config.seed, start_step])
    augment_rng = torch.Generator().manual_seed(config.seed + start_step)
    torch.manual_seed(config.seed + start_step)
    bank = noise_bank(model_config.n_window, augment_rng)
    response_freqs_hz = torch.from_numpy(used_bin_frequencies_hz(model_config.frontend)).float()
    return _Run(
        config=config,
        index=index,
        model_config=model_config,
        model=model,
        optimizer=optimizer,
        average=average,
        splits=splits,
        sampler=sampler,
        augment=augment,
        backgrounds=backgrounds,
        bank=bank,
        response_freqs_hz=response_freqs_hz,
        rng=rng,
        augment_rng=augment_rng,
        data_hash=data_hash,
        training_clips=fingerprints_text(e.path for e in index.in_split("training")),
        writer=writer,
        step=start_step,
    )


def _step(run: _Run) -> tuple[float, float, float]:
    """One step on an augmented batch; its learning rate, accuracy and cross-entropy."""
    config = run.config
    rate = config.learning_rate_at(run.step + 1)
    for group in run.optimizer.param_groups:
        group["lr"] = rate
    windows, truth, is_silence = run.sampler.sample(config.batch_size, run.rng)
    augmented = augment_batch(
        torch.from_numpy(windows),
        torch.from_numpy(is_silence),
        run.augment_rng,
        config=run.augment,
        backgrounds=run.backgrounds,
        bank=run.bank,
        response_freqs_hz=run.response_freqs_hz,
    )
    logits = run.model(augmented.waveform, augmented.power_response)
    loss = F.cross_entropy(logits, torch.from_numpy(truth))
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    if run.average is not None:
        run.average.update_parameters(run.model)
    run.step += 1

    accuracy = float((logits.argmax(dim=1).numpy() == truth).mean())
    run.history["step"].append(run.step)
    run.history["loss"].append(loss.item())
    run.history["acc"].append(accuracy)
    run.writer.add_scalar("train/cross_entropy", loss.item(), run.step)
    run.writer.add_scalar("train/accuracy", accuracy, run.step)
    run.writer.add_scalar("train/learning_rate", rate, run.step)
    return rate, accuracy, loss.item()


def _validate(run: _Run, console: Console) -> None:
    """The validation split's confusion matrix now, logged and shown."""
    result = _evaluate(
        evaluated(run.model, run.average), run.splits["validation"], run.index.labels
    )
    if result is None:
        return
    run.writer.add_scalar("validation/accuracy", result.accuracy, run.step)
    run.writer.add_scalar("validation/cross_entropy", result.cross_entropy, run.step)
    run.history["eval_step"].append(run.step)
    run.history["eval_acc"].append(result.accuracy)
    console.print(tables.confusion_table(result, title=f"Step {run.step} validation"))


def _save(run: _Run, *, embedding_head: EmbeddingHead | None = None) -> Path:
    """A checkpoint of the run at its current step (the last one with YAMNet's head)."""
    config = run.config
    path = checkpoint_path(config.train_dir, config.model_architecture, run.step)
    Checkpoint(
        model_config=run.model_config,
        model_state=run.model.state_dict(),
        optimizer_state=run.optimizer.state_dict(),
        step=run.step,
        data_sha256=run.data_hash,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        average_state=average_state(run.average),
        embedding_head=None if embedding_head is None else embedding_head.to_json(),
        training_clips=run.training_clips,
    ).save(path)
    return path


def _earlier_checkpoints(train_dir: Path) -> list[Path]:
    """The checkpoints a run left in `train_dir` (`<architecture>.ckpt-<step>.pt`), by step."""
    found = [p for p in train_dir.glob("*.ckpt-*.pt") if p.stem.rpartition("-")[2].isdigit()]
    return sorted(found, key=lambda p: int(p.stem.rpartition("-")[2]))


def _finish(run: _Run, console: Console) -> TrainResult:
    """The final checkpoint, its test split's scores, the plots and test_metrics.json."""
    config, labels = run.config, run.index.labels
    final_path = _save(run, embedding_head=_embedding_head(run, console))
    final = evaluated(run.model, run.average)
    test = _evaluate(final, run.splits["testing"], labels) or _evaluate(
        final, run.splits["validation"], labels
    )
    assert test is not None  # _set_up refuses a dataset with neither split
    console.print(tables.confusion_table(test, title="Final test"))
    console.print(tables.metrics_table(test))
    if reason := test.no_better_than_guessing():
        console.print(
            f"[yellow]warning:[/yellow] this model has not learned: {escape(reason)}; train "
            "longer (--how_many_training_steps), with more clips, or with the clips' own "
            "length (--clip_duration_ms), before you export it",
            highlight=False,
        )
    plot_confusion_matrix(test.matrix, labels, config.train_dir / "confusion_matrix.png")
    history = run.history
    plot_training_curves(
        history["step"],
        history["loss"],
        history["acc"],
        history["eval_step"],
        history["eval_acc"],
        config.train_dir / "training_curves.png",
    )
    (config.train_dir / "test_metrics.json").write_text(
        json.dumps({**test.to_dict(), "steps": run.step, "data_sha256": run.data_hash}, indent=2)
    )
    return TrainResult(checkpoint=final_path, test=test, steps=run.step)


def _embedding_head(run: _Run, console: Console) -> EmbeddingHead | None:
    """YAMNet's head for the label it confirms, fitted on the training split (and the
    background noise) and calibrated on the validation split; None for a model it cannot
    confirm (see `train.embedding_head`)."""
    labels, n_window = run.index.labels, run.model_config.n_window
    label = confirmed_label(labels, run.config.sample_rate)
    if not label:
        reason = why_unconfirmed(labels, run.config.sample_rate)
        console.print(f"no YAMNet second opinion: {reason}", markup=False)
        return None
    if uncalibrated := _why_no_head_calibration(run, label):
        console.print(
            f"[yellow]warning:[/yellow] no YAMNet second opinion: {escape(uncalibrated)}",
            highlight=False,
        )
        return None
    console.print(f"teaching YAMNet's embedding what '{label}' is …", markup=False)
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)

    def heard(split: Split, extra_others: list[np.ndarray]) -> HeardClips:
        clip_set = run.splits[split].clip_set
        is_target = [labels[i] == label for i in clip_set.label_indices]
        clips = list(clip_set.clips) + extra_others
        return hear_clips(
            clips, is_target + [False] * len(extra_others), n_window=n_window, yamnet=yamnet
        )

    backgrounds = [b.numpy() for b in run.backgrounds]
    return fit_embedding_head(heard("training", backgrounds), heard("validation", []))


def _why_no_head_calibration(run: _Run, label: str) -> str | None:
    """Why YAMNet's head cannot have its bias set: the validation split (the training split
    where validation is empty) holds no clip of another sound, and a head set on cries alone
    would confirm every sound; None when it can."""
    split: Split = "validation" if run.splits["validation"].clip_set.clips else "training"
    labels = run.index.labels
    if any(labels[i] != label for i in run.splits[split].clip_set.label_indices):
        return None
    return (
        f"no clip of the {split} split is another sound than {label}, to set its head on "
        f"(it would confirm every sound); add more clips of other sounds "
        f"({run.config.data_dir / 'other'}/...) so some fall in the {split} split"
    )


class _StopRequests:
    """The first Ctrl-C or SIGTERM sets `requested`, which the loop sees between steps, so it
    never lands inside a library holding a lock (a progress bar's, TensorBoard's writer's); a
    second one interrupts at once while `second_interrupts`."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.second_interrupts = True

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested.is_set() and self.second_interrupts:
            raise KeyboardInterrupt
        self.requested.set()


@contextmanager
def _ctrl_c_requests_stop() -> Iterator[_StopRequests]:
    """Ctrl-C and SIGTERM handled by a `_StopRequests` (in the main thread) while inside."""
    stop = _StopRequests()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {each: signal.signal(each, stop) for each in _STOP_SIGNALS}
    try:
        yield stop
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _resume(config: TrainConfig, model_config: ModelConfig) -> Checkpoint | None:
    """The checkpoint to resume from, after checking it matches this run."""
    if config.start_checkpoint is None:
        return None
    checkpoint = load_checkpoint(config.start_checkpoint)
    saved = checkpoint.model_config
    if saved.architecture != model_config.architecture:
        raise ModelError(
            f"{config.start_checkpoint}: trained with --model_architecture={saved.architecture}, "
            f"not {model_config.architecture}; pass --model_architecture={saved.architecture}"
        )
    for name in ("labels", "clip_duration_ms", "frontend"):
        if getattr(saved, name) != getattr(model_config, name):
            raise ModelError(
                f"{config.start_checkpoint}: its {name} ({getattr(saved, name)}) differ from "
                f"this run's ({getattr(model_config, name)}); use the flags it was trained with"
            )
    return checkpoint


def _load_split(
    index: DatasetIndex,
    split: Split,
    config: TrainConfig,
    model_config: ModelConfig,
    augment: AugmentConfig,
    backgrounds: list[torch.Tensor],
    conversions: ConversionReport,
) -> _SplitData:
    examples = index.in_split(split)
    clips = load_clips(
        [e.path for e in examples],
        sample_rate_hz=config.sample_rate,
        n_window=model_config.n_window,
        report=conversions,
    )
    clip_set = ClipSet.build(
        clips, [e.label_index for e in examples], n_window=model_config.n_window
    )
    windows, truth = fixed_eval_set(
        clip_set,
        labels=index.labels,
        n_window=model_config.n_window,
        silence_percentage=config.silence_percentage,
        backgrounds=backgrounds,
        augment=augment,
        seed=config.seed,
    )
    return _SplitData(clip_set, len(truth) - len(clips), windows, truth)


def _evaluate(
    model: torch.nn.Module, data: _SplitData, labels: tuple[str, ...]
) -> EvalResult | None:
    if len(data.truth) == 0:
        return None
    return summarise(
        predict(model, data.windows),
        data.truth,
        labels,
        peaks=clip_peaks(model, data.clip_set.clips, n_window=data.windows.shape[1]),
        clip_truth=data.clip_set.label_indices,
    )
