"""Train on a tiny real-audio dataset with the tutorial's flags, resume, stop, and export.

Everything goes through the `miserymeter` command, as users run it; the exported ONNX file is
then checked against PyTorch running the checkpoint's own weights.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from rich.console import Console

from conftest import TESTING_PERCENTAGE, VALIDATION_PERCENTAGE
from miserymeter import __version__, constants
from miserymeter.audio.io import fit_length, read_audio
from miserymeter.constants import TRAINING_CLIPS_KEY
from miserymeter.errors import RunInterrupted
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.inference.model import Classifier
from miserymeter.prepare.fingerprints import fingerprint, read_fingerprints
from miserymeter.prepare.split import which_set
from miserymeter.train import loop
from miserymeter.train.checkpoint import load_checkpoint
from miserymeter.train.config import TrainConfig
from miserymeter.train.dataset import data_sha256, scan_dataset
from miserymeter.train.models import ProbabilityModel, build_model

pytestmark = pytest.mark.slow

RunCli = Callable[..., subprocess.CompletedProcess[str]]
TrainFlags = Callable[..., tuple[str, ...]]
LABELS = ["_silence_", "_unknown_", "crying"]
METADATA_KEYS = {
    "labels",
    "sample_rate",
    "clip_duration_ms",
    "miserymeter_format",
    "data_sha256",
    "training_steps",
    "trained_at",
    "miserymeter_version",
    "architecture",
    "frontend",
}
BATCH_OF_THREE = (
    "crying-fullband-esc50-4-185575-B.flac",
    "dog-esc50-4-184575-A.flac",
    "music-brahms-hungarian-dance-5.flac",
)
BATCH_OF_ONE = ("crying-phone-donateacry-d6cda191.flac",)  # 8 kHz, resampled on reading


def example_batch(names: tuple[str, ...], *, duration_s: float) -> np.ndarray:
    """Real clips at 16 kHz, cut or padded to `duration_s`, as a [batch, samples] array."""
    n_samples = round(duration_s * 16_000)
    clips = [read_audio(EXAMPLES_DIR / name, sample_rate_hz=16_000).samples for name in names]
    return np.stack([fit_length(clip, n_samples) for clip in clips]).astype(np.float32)


def torch_probabilities(
    checkpoint_file: Path, batch: np.ndarray, *, last_step: bool = False
) -> np.ndarray:
    """What PyTorch makes of `batch` with the weights export writes (`last_step`: the last
    step's, even where training kept an average), wrapped as exported."""
    checkpoint = load_checkpoint(checkpoint_file)
    network = build_model(checkpoint.model_config)
    network.load_state_dict(checkpoint.model_state if last_step else checkpoint.weights)
    model = ProbabilityModel(network).eval()
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()


def onnx_metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


# Training --------------------------------------------------------------------------------


def test_training_saves_a_checkpoint_every_save_step_interval(
    train_output: subprocess.CompletedProcess[str], train_dir: Path
) -> None:
    assert train_output.returncode == 0, train_output.stderr
    checkpoints = sorted(p.name for p in train_dir.glob("*.pt"))
    assert checkpoints == [f"tcresnet.ckpt-{step}.pt" for step in (10, 20, 30, 40)]
    assert not list(train_dir.glob("*.partial"))
    assert load_checkpoint(train_dir / "tcresnet.ckpt-40.pt").step == 40
    assert load_checkpoint(train_dir / "tcresnet.ckpt-10.pt").step == 10


def test_training_writes_tensorboard_events_and_plots(train_dir: Path) -> None:
    events = list((train_dir / "logs").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    for plot in ("confusion_matrix.png", "training_curves.png"):
        assert (train_dir / plot).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), plot
        assert (train_dir / plot).stat().st_size > 5_000


def test_training_writes_test_metrics(train_dir: Path, tiny_dataset: Path) -> None:
    metrics = json.loads((train_dir / "test_metrics.json").read_text())

    assert metrics["labels"] == LABELS
    assert metrics["steps"] == 40
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (3, 3)
    assert matrix.sum() == metrics["n_examples"] > 0
    assert 0.0 <= metrics["accuracy"] <= 1.0
    index = scan_dataset(
        tiny_dataset, wanted_words=["crying"], validation_percentage=10, testing_percentage=10
    )
    assert metrics["data_sha256"] == data_sha256(index)


def test_training_reports_dataset_conversions_and_confusion_matrices(
    train_output: subprocess.CompletedProcess[str],
) -> None:
    stdout = train_output.stdout
    assert "resampled 5 files from 8000 Hz to 16000 Hz" in stdout  # the phone cry's clips
    assert re.search(r"cropped \d+ files longer than 1000 ms", stdout)
    for title in ("Step 20 validation", "Step 40 validation", "Final test"):
        assert title in stdout
    final = stdout[stdout.index("Final test") :]
    assert "true \\ predicted" in final
    for label in LABELS:
        assert re.search(rf"^\W*{re.escape(label)}\W+\d+\W+\d+\W+\d+\W*$", final, re.MULTILINE), (
            f"no confusion-matrix row for {label}"
        )
    assert re.search(
        r"export it with: miserymeter export --start_checkpoint=(\S+)/tcresnet\.ckpt-40\.pt "
        r"--output_file=\1/model\.onnx$",
        stdout,
        re.MULTILINE,
    )
    assert "resuming" not in stdout


def test_checkpoint_remembers_its_run(train_dir: Path, tiny_dataset: Path) -> None:
    checkpoint = load_checkpoint(train_dir / "tcresnet.ckpt-40.pt")

    assert checkpoint.model_config.architecture == "tcresnet"
    assert list(checkpoint.model_config.labels) == LABELS
    assert checkpoint.model_config.clip_duration_ms == 1_000
    assert checkpoint.model_config.frontend.sample_rate_hz == 16_000
    index = scan_dataset(
        tiny_dataset, wanted_words=["crying"], validation_percentage=10, testing_percentage=10
    )
    assert checkpoint.data_sha256 == data_sha256(index)
    datetime.fromisoformat(checkpoint.trained_at)


def test_one_seed_trains_one_model(
    run_cli: RunCli, train_dir: Path, tiny_dataset: Path, train_flags: TrainFlags, tmp_path: Path
) -> None:
    """--seed fixes every random choice, the initial weights too: the same run, the same model."""
    first_10_steps = ("--how_many_training_steps=10", "--learning_rate=0.001")
    states = {}
    for seed in ("59185", "7"):  # 59185: the default, as the session's run
        again = tmp_path / seed
        process = run_cli(
            "train",
            f"--data_dir={tiny_dataset}",
            f"--train_dir={again}",
            *train_flags(*first_10_steps, f"--seed={seed}"),
        )
        assert process.returncode == 0, process.stderr
        states[seed] = load_checkpoint(again / "tcresnet.ckpt-10.pt").model_state
    session = load_checkpoint(train_dir / "tcresnet.ckpt-10.pt").model_state
    assert all(torch.equal(session[k], states["59185"][k]) for k in session)
    assert not all(torch.equal(session[k], states["7"][k]) for k in session)


def test_resume_continues_from_the_checkpoint_step(
    run_cli: RunCli,
    train_dir: Path,
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    start = train_dir / "tcresnet.ckpt-20.pt"
    resumed_dir = tmp_path / "resumed"

    process = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={resumed_dir}",
        *train_flags(f"--start_checkpoint={start}"),
    )

    assert process.returncode == 0, process.stderr
    assert f"resuming from {start} at step 20" in process.stdout
    assert sorted(p.name for p in resumed_dir.glob("*.pt")) == [
        "tcresnet.ckpt-30.pt",
        "tcresnet.ckpt-40.pt",
    ]
    assert load_checkpoint(resumed_dir / "tcresnet.ckpt-40.pt").step == 40


def test_weight_average_is_kept_in_checkpoints_and_is_what_gets_exported(
    run_cli: RunCli,
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    """--ema_decay: checkpoints keep the average beside the weights (a resumed run goes on
    averaging into it) and export writes the average, not the last step's weights; resuming
    with --ema_decay=0 drops the average and says so."""
    flags = train_flags("--how_many_training_steps=20", "--learning_rate=0.001", "--ema_decay=0.9")
    whole, resumed, dropped = tmp_path / "whole", tmp_path / "resumed", tmp_path / "dropped"
    start = f"--start_checkpoint={whole}/tcresnet.ckpt-10.pt"
    outputs = {}
    for train_dir, more in ((whole, ()), (resumed, (start,)), (dropped, (start, "--ema_decay=0"))):
        process = run_cli(
            "train", f"--data_dir={tiny_dataset}", f"--train_dir={train_dir}", *flags, *more
        )
        assert process.returncode == 0, process.stderr
        outputs[train_dir] = " ".join(process.stdout.split())

    checkpoint = whole / "tcresnet.ckpt-20.pt"
    final = load_checkpoint(checkpoint)
    assert final.average_state is not None
    assert load_checkpoint(resumed / "tcresnet.ckpt-20.pt").average_state is not None
    assert load_checkpoint(dropped / "tcresnet.ckpt-20.pt").average_state is None
    assert "--ema_decay=0 drops" in outputs[dropped]
    assert "drops" not in outputs[resumed]
    assert not all(torch.equal(final.model_state[k], final.weights[k]) for k in final.weights)

    model_file = tmp_path / "average.onnx"
    process = run_cli("export", f"--start_checkpoint={checkpoint}", f"--output_file={model_file}")
    assert process.returncode == 0, process.stderr
    batch = example_batch(BATCH_OF_THREE, duration_s=1.5)
    exported = Classifier(model_file, second_opinion=False).score(batch)
    np.testing.assert_allclose(exported, torch_probabilities(checkpoint, batch), atol=1e-4, rtol=0)
    last_step = torch_probabilities(checkpoint, batch, last_step=True)
    assert np.abs(exported - last_step).max() > 1e-3


def test_checkpoint_of_another_architecture_names_the_right_flag(
    run_cli: RunCli,
    conv_checkpoint: Path,
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    process = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'run'}",
        *train_flags(f"--start_checkpoint={conv_checkpoint}", "--model_architecture=tcresnet"),
    )

    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    (line,) = process.stderr.splitlines()
    assert line.startswith("error: ")
    assert str(conv_checkpoint) in line
    assert "--model_architecture=conv" in line


def test_no_validation_split_finishes_a_rerun_warns_and_no_split_at_all_is_refused(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tmp_path: Path
) -> None:
    """With --validation_percentage=0 the run crashed after training, while teaching YAMNet's
    head, and kept no final checkpoint: the head is now calibrated on the training split. A
    second run into the same --train_dir says it writes over the first, and that the first
    one's exported model.onnx is left as it was until exported again. With no testing split
    either, the run is refused before it trains."""
    flags = train_flags("--how_many_training_steps=2", "--learning_rate=0.001")
    no_validation = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'run'}",
        *flags,
        "--validation_percentage=0",
        "--testing_percentage=30",
    )
    assert no_validation.returncode == 0, no_validation.stderr
    model = tmp_path / "run" / "model.onnx"  # where the line that ends the run exports it
    exported = run_cli(
        "export",
        f"--start_checkpoint={tmp_path / 'run' / 'tcresnet.ckpt-2.pt'}",
        f"--output_file={model}",
    )
    assert exported.returncode == 0, exported.stderr
    assert "second_opinion_head" in onnx_metadata(model)
    neither = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'none'}",
        *flags,
        "--validation_percentage=0",
        "--testing_percentage=0",
    )
    again = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'run'}",
        *flags,
        "--validation_percentage=0",
        "--testing_percentage=30",
    )
    assert again.returncode == 0, again.stderr
    assert (
        f"warning: {tmp_path / 'run'} holds an earlier run (tcresnet.ckpt-2.pt): this run "
        f"writes over its checkpoints, logs and plots, and {model} is the earlier run's until "
        "you export again; pass another --train_dir to keep them" in " ".join(again.stdout.split())
    )
    assert "holds an earlier run" not in no_validation.stdout
    assert neither.returncode == 1
    assert neither.stderr.strip().splitlines() == [
        f"error: {tiny_dataset}: no file falls in the testing or validation split; add clips "
        "or raise --testing_percentage"
    ]
    assert not list((tmp_path / "none").glob("*.pt"))


def test_a_train_dir_that_is_a_file_is_one_error_before_training(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tmp_path: Path
) -> None:
    in_the_way = tmp_path / "run"
    in_the_way.write_text("a file")
    process = run_cli(
        "train", f"--data_dir={tiny_dataset}", f"--train_dir={in_the_way}", *train_flags()
    )
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f"error: {in_the_way}: cannot write there (a file is in the way); pass --train_dir a "
        "folder you can write"
    ]
    assert "final checkpoint" not in process.stdout  # refused before training


def test_the_folders_trained_as_unknown_are_named_and_a_near_miss_warned_of(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tmp_path: Path
) -> None:
    """Crying/ beside crying/ (a typo, a phone's capital) would teach that its cries are not."""
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    (data / "Crying").mkdir()
    for clip in sorted((data / "crying").iterdir())[:2]:
        shutil.copy(clip, data / "Crying" / f"typo-{clip.name}")

    process = run_cli(
        "train",
        f"--data_dir={data}",
        f"--train_dir={tmp_path / 'run'}",
        *train_flags("--how_many_training_steps=1", "--learning_rate=0.001"),
    )

    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert "trained as _unknown_: Crying, noise" in lines
    thin = [line for line in lines if "too few for its figures to mean much" in line]
    assert thin and all(line.startswith("warning: crying: ") for line in thin)
    assert (
        f"warning: {data / 'Crying'}: not crying, so its clips train as _unknown_; rename it "
        "crying if they are"
    ) in lines


def test_a_full_disk_while_training_is_one_error_keeping_the_checkpoints_written(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tiny_disk: Path
) -> None:
    train_dir = tiny_disk / "run"
    process = run_cli(
        "train", f"--data_dir={tiny_dataset}", f"--train_dir={train_dir}", *train_flags()
    )
    assert process.returncode == 1
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith(f"error: {train_dir}/tcresnet.ckpt-") and line.endswith(
        ".pt: cannot write the checkpoint (the disk may be full); free some space or pass "
        "another --train_dir (the checkpoints already written are kept)"
    )
    assert not list(train_dir.glob(".*.partial"))


def test_resume_with_other_labels_is_refused(
    run_cli: RunCli,
    train_dir: Path,
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    start = train_dir / "tcresnet.ckpt-20.pt"

    process = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'run'}",
        *train_flags(f"--start_checkpoint={start}", "--wanted_words=crying,noise"),
    )

    assert process.returncode == 1
    (line,) = process.stderr.splitlines()
    assert line.startswith("error: ")
    assert str(start) in line
    assert "labels" in line


def wait_for_first_checkpoint(
    process: subprocess.Popen[str], train_dir: Path, *, timeout_s: float
) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if checkpoints := sorted(train_dir.glob("*.pt")):
            return checkpoints[0]
        assert process.poll() is None, "training ended before saving any checkpoint"
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint in {train_dir} after {timeout_s} s")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_that_resumes(
    stop_signal: signal.Signals,
    run_cli: RunCli,
    miserymeter_command: list[str],
    miserymeter_env: dict[str, str],
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    train_dir = tmp_path / "run"
    folders = (f"--data_dir={tiny_dataset}", f"--train_dir={train_dir}")
    endless = train_flags(
        "--how_many_training_steps=100000",
        "--learning_rate=0.001",
        "--save_step_interval=5",
        "--eval_step_interval=100000",
    )
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [*miserymeter_command, "train", *folders, *endless],
            stdout=stdout,
            stderr=stderr,
            text=True,
            env=miserymeter_env,
        )
        try:
            wait_for_first_checkpoint(process, train_dir, timeout_s=60)
            process.send_signal(stop_signal)
            exit_code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert exit_code == 130
    (line,) = stderr_path.read_text().splitlines()
    assert line.startswith("stopped: ")
    match = re.search(r"at step (\d+); resume with --start_checkpoint=(\S+)$", line)
    assert match, line
    step, checkpoint = int(match[1]), Path(match[2])
    assert checkpoint.is_file()
    assert checkpoint == train_dir / f"tcresnet.ckpt-{step}.pt"
    assert load_checkpoint(checkpoint).step == step >= 5

    resumed = run_cli(
        "train",
        *folders,
        *train_flags(
            f"--how_many_training_steps={step + 3}",
            "--learning_rate=0.001",
            f"--start_checkpoint={checkpoint}",
        ),
    )

    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {checkpoint} at step {step}" in resumed.stdout
    assert load_checkpoint(train_dir / f"tcresnet.ckpt-{step + 3}.pt").step == step + 3


def two_step_config(data_dir: Path, train_dir: Path) -> TrainConfig:
    """The session run's flags, for two steps and no checkpoint but the last one."""
    return TrainConfig(
        data_dir=data_dir,
        train_dir=train_dir,
        wanted_words=("crying",),
        sample_rate=16_000,
        clip_duration_ms=1000,
        window_size_ms=constants.DEFAULT_WINDOW_SIZE_MS,
        window_stride_ms=constants.DEFAULT_WINDOW_STRIDE_MS,
        feature_bin_count=constants.DEFAULT_FEATURE_BIN_COUNT,
        min_frequency_hz=constants.DEFAULT_MIN_FREQUENCY_HZ,
        max_frequency_hz=constants.DEFAULT_MAX_FREQUENCY_HZ,
        how_many_training_steps=(2,),
        learning_rate=(0.001,),
        batch_size=16,
        validation_percentage=VALIDATION_PERCENTAGE,
        testing_percentage=TESTING_PERCENTAGE,
        silence_percentage=10.0,
        unknown_percentage=10.0,
        unknown_mix_frequency=0.0,
        background_frequency=0.8,
        background_volume=0.1,
        time_shift_ms=100.0,
        eval_step_interval=100,
        save_step_interval=100,
        start_checkpoint=None,
        model_architecture="tcresnet",
        seed=1,
    )


@pytest.mark.parametrize("moment", ["last step", "last checkpoint"])
def test_ctrl_c_at_the_end_of_training_keeps_the_last_step_and_says_how_to_finish(
    moment: str, monkeypatch: pytest.MonkeyPatch, tiny_dataset: Path, tmp_path: Path
) -> None:
    """A Ctrl-C while the last checkpoint was written dropped it (no checkpoint at all: every
    step lost); one in the last step was ignored and the run went on to its test. Both now
    keep the last step's checkpoint and stop with the line that finishes the run. The Ctrl-C
    is a real SIGINT, sent at that exact moment from inside the run."""
    config = two_step_config(tiny_dataset, tmp_path / "run")
    checkpoint = config.train_dir / "tcresnet.ckpt-2.pt"
    if moment == "last step":
        step = loop._step

        def ctrl_c_in_the_last_step(run: loop._Run) -> tuple[float, float, float]:
            if run.step + 1 == config.total_steps:
                signal.raise_signal(signal.SIGINT)
            return step(run)

        monkeypatch.setattr(loop, "_step", ctrl_c_in_the_last_step)
    else:
        save = torch.save

        def ctrl_c_while_saving(state: dict[str, object], file: Path) -> None:
            signal.raise_signal(signal.SIGINT)
            save(state, file)

        monkeypatch.setattr(torch, "save", ctrl_c_while_saving)

    try:
        loop.train(config, console=Console(file=io.StringIO()))
        stopped = "it went on to its test"
    except RunInterrupted as e:
        stopped = str(e)
    except KeyboardInterrupt:  # not pytest's to see: it would end the session
        stopped = "the Ctrl-C escaped the run"

    assert stopped == (
        f"training interrupted at step 2, before its test; resume with "
        f"--start_checkpoint={checkpoint} to finish it"
    )
    assert load_checkpoint(checkpoint).step == 2
    assert not (config.train_dir / "test_metrics.json").exists()


def test_sigterm_while_yamnet_learns_keeps_the_last_step_and_says_how_to_finish(
    run_cli: RunCli,
    miserymeter_command: list[str],
    miserymeter_env: dict[str, str],
    tiny_dataset: Path,
    train_flags: TrainFlags,
    tmp_path: Path,
) -> None:
    """All 45 steps done, the last checkpoint at 40: a SIGTERM while YAMNet's head is fitted
    lost steps 41-45 and said only "stopped"; now the last step is kept, the line says how to
    finish the run, and that finishes it."""
    train_dir = tmp_path / "run"
    flags = (
        f"--data_dir={tiny_dataset}",
        f"--train_dir={train_dir}",
        *train_flags("--how_many_training_steps=45", "--learning_rate=0.001"),
    )
    process = subprocess.Popen(
        [*miserymeter_command, "train", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=miserymeter_env,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("teaching YAMNet's embedding"):
                process.send_signal(signal.SIGTERM)
                break
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130
    checkpoint = train_dir / "tcresnet.ckpt-45.pt"
    assert stderr.splitlines() == [
        "stopped: training interrupted at step 45, before its test; resume with "
        f"--start_checkpoint={checkpoint} to finish it"
    ]
    assert load_checkpoint(checkpoint).embedding_head is None
    finished = run_cli("train", *flags, f"--start_checkpoint={checkpoint}")
    assert finished.returncode == 0, finished.stderr
    assert load_checkpoint(checkpoint).embedding_head is not None
    assert json.loads((train_dir / "test_metrics.json").read_text())["steps"] == 45


def test_no_other_sound_in_the_validation_split_trains_no_yamnet_head_and_says_why(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tmp_path: Path
) -> None:
    """A head whose bias was set on cries alone confirmed every sound; with no other clip in
    the validation split the run now keeps no head, says so in one warning, and its model
    exports and classifies as the network alone."""
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    for clip in (data / "noise").iterdir():
        split = which_set(
            clip,
            validation_percentage=VALIDATION_PERCENTAGE,
            testing_percentage=TESTING_PERCENTAGE,
        )
        if split == "validation":
            clip.unlink()
    train_dir = tmp_path / "run"

    process = run_cli(
        "train",
        f"--data_dir={data}",
        f"--train_dir={train_dir}",
        *train_flags("--how_many_training_steps=2", "--learning_rate=0.001"),
    )

    assert process.returncode == 0, process.stderr
    warnings = [line for line in process.stdout.splitlines() if "second opinion" in line]
    assert warnings == [
        "warning: no YAMNet second opinion: no clip of the validation split is another sound "
        "than crying, to set its head on (it would confirm every sound); add more clips of "
        f"other sounds ({data / 'other'}/...) so some fall in the validation split"
    ]
    checkpoint = train_dir / "tcresnet.ckpt-2.pt"
    assert load_checkpoint(checkpoint).embedding_head is None
    model = tmp_path / "model.onnx"
    exported = run_cli("export", f"--start_checkpoint={checkpoint}", f"--output_file={model}")
    assert exported.returncode == 0, exported.stderr
    assert "second_opinion" not in onnx_metadata(model)
    assert "YAMNet confirms" not in exported.stdout
    classified = run_cli("classify", EXAMPLES_DIR / BATCH_OF_THREE[1], "--model", model)
    assert classified.returncode == 0, classified.stderr


# Export ----------------------------------------------------------------------------------


def test_export_writes_one_self_contained_file(exported_model: Path) -> None:
    assert [p.name for p in exported_model.parent.iterdir()] == ["model.onnx"]
    model = onnx.load(str(exported_model))
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert [i.name for i in model.graph.input] == ["waveform"]
    assert [o.name for o in model.graph.output] == ["probabilities"]


def test_export_computes_the_spectrum_by_convolution_with_kernels_made_on_load(
    exported_model: Path,
) -> None:
    # ONNX Runtime's STFT operator took two thirds of a window's time: the file convolves with
    # DFT kernels instead. Stored, those would outweigh the network, so nodes compute them.
    graph = onnx.load(str(exported_model)).graph
    operators = {node.op_type for node in graph.node}

    assert "STFT" not in operators
    assert {"Conv", "Cos", "Sin"} <= operators
    n_fft = 512
    assert not [t.name for t in graph.initializer if len(t.dims) > 1 and t.dims[-1] == n_fft]


def test_export_writes_the_metadata_the_runtime_checks(
    exported_model: Path, train_dir: Path, tiny_dataset: Path
) -> None:
    metadata = onnx_metadata(exported_model)
    checkpoint = load_checkpoint(train_dir / "tcresnet.ckpt-40.pt")

    assert set(metadata) >= METADATA_KEYS
    assert json.loads(metadata["labels"]) == LABELS
    assert metadata["sample_rate"] == "16000"
    assert metadata["clip_duration_ms"] == "1000"
    assert metadata["miserymeter_format"] == "1"
    assert metadata["training_steps"] == "40"
    assert metadata["architecture"] == "tcresnet"
    assert metadata["miserymeter_version"] == __version__
    assert metadata["data_sha256"] == checkpoint.data_sha256
    assert metadata["trained_at"] == checkpoint.trained_at
    training = scan_dataset(
        tiny_dataset, wanted_words=["crying"], validation_percentage=10, testing_percentage=10
    ).in_split("training")
    assert read_fingerprints(metadata[TRAINING_CLIPS_KEY], model=exported_model) == {
        fingerprint(e.path) for e in training
    }
    frontend = json.loads(metadata["frontend"])
    assert frontend["sample_rate_hz"] == 16_000
    assert frontend["n_mels"] == checkpoint.model_config.frontend.n_mels
    info = Classifier(exported_model).info
    assert info.labels == tuple(LABELS)
    assert info.n_window == 16_000


def test_freeze_is_an_alias_of_export(
    run_cli: RunCli, train_dir: Path, exported_model: Path, tmp_path: Path
) -> None:
    output_file = tmp_path / "frozen" / "model.onnx"

    process = run_cli(
        "freeze",
        f"--start_checkpoint={train_dir / 'tcresnet.ckpt-40.pt'}",
        f"--output_file={output_file}",
    )

    assert process.returncode == 0, process.stderr
    assert f"wrote {output_file}" in process.stdout
    assert [p.name for p in output_file.parent.iterdir()] == ["model.onnx"]
    assert onnx_metadata(output_file) == onnx_metadata(exported_model)
    batch = example_batch(BATCH_OF_THREE, duration_s=2.5)
    np.testing.assert_allclose(
        Classifier(output_file).score(batch), Classifier(exported_model).score(batch), atol=1e-6
    )


def test_export_never_writes_over_its_checkpoint_or_into_a_folder(
    run_cli: RunCli, train_dir: Path, tmp_path: Path
) -> None:
    """Exporting a checkpoint onto itself destroyed the training run; a folder or a file in
    the way got a traceback. Each is one line, and nothing is written."""
    checkpoint = tmp_path / "run.pt"
    shutil.copy(train_dir / "tcresnet.ckpt-40.pt", checkpoint)
    before = checkpoint.read_bytes()
    in_the_way = tmp_path / "afile"
    in_the_way.write_text("not a folder")
    cases = {
        checkpoint: f"{checkpoint}: is the checkpoint being exported; pass another "
        "--output_file, e.g. model.onnx",
        tmp_path: f"{tmp_path}: is a folder; pass a file to write, e.g. "
        f"--output_file={tmp_path / 'model.onnx'}",
        in_the_way / "m.onnx": f"{in_the_way}: cannot write there (a file is in the way); "
        "pass an --output_file in a folder you can write",
    }
    for output_file, message in cases.items():
        refused = run_cli(
            "export", f"--start_checkpoint={checkpoint}", f"--output_file={output_file}"
        )
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [f"error: {message}"]
    assert checkpoint.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "run.pt"]


def test_an_output_file_in_a_folder_it_cannot_write_is_one_error_before_exporting(
    run_cli: RunCli, train_dir: Path, tiny_disk: Path
) -> None:
    """It was found only once the model was exported, and the error said to free some space."""
    subprocess.run(["mount", "-o", "remount,ro", tiny_disk], check=True)
    output_file = tiny_disk / "model.onnx"

    refused = run_cli(
        "export",
        f"--start_checkpoint={train_dir / 'tcresnet.ckpt-40.pt'}",
        f"--output_file={output_file}",
    )

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {tiny_disk}: cannot write there (not writable); pass an --output_file in a "
        "folder you can write"
    ]


@pytest.mark.parametrize("duration_s", [1.0, 2.5, 4.0])
@pytest.mark.parametrize("names", [BATCH_OF_ONE, BATCH_OF_THREE], ids=["batch1", "batch3"])
def test_onnx_runtime_agrees_with_pytorch(
    exported_model: Path, train_dir: Path, duration_s: float, names: tuple[str, ...]
) -> None:
    batch = example_batch(names, duration_s=duration_s)

    expected = torch_probabilities(train_dir / "tcresnet.ckpt-40.pt", batch)
    probabilities = Classifier(exported_model, second_opinion=False).score(batch)

    assert probabilities.shape == (len(names), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("architecture", ["conv", "cnn2d"])
def test_other_architectures_export_and_agree(
    run_cli: RunCli, architecture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    checkpoint = request.getfixturevalue(f"{architecture}_checkpoint")
    output_file = tmp_path / f"{architecture}.onnx"

    process = run_cli("export", f"--start_checkpoint={checkpoint}", f"--output_file={output_file}")

    assert process.returncode == 0, process.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{architecture}.onnx"]
    assert onnx_metadata(output_file)["architecture"] == architecture
    classifier = Classifier(output_file, second_opinion=False)
    for duration_s in (1.0, 2.5, 4.0):
        for names in (BATCH_OF_ONE, BATCH_OF_THREE):
            batch = example_batch(names, duration_s=duration_s)
            np.testing.assert_allclose(
                classifier.score(batch),
                torch_probabilities(checkpoint, batch),
                atol=1e-4,
                rtol=0,
            )


def test_classify_uses_the_exported_models_window(run_cli: RunCli, exported_model: Path) -> None:
    dog = EXAMPLES_DIR / "dog-esc50-4-184575-A.flac"

    process = run_cli("classify", dog, "--model", exported_model, "--json")

    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert [w["start_s"] for w in result["windows"]] == [0.0, 1.0, 2.0, 3.0]
    assert set(result["probabilities"]) == set(LABELS)


def test_export_asks_for_yamnets_opinion_on_crying_unless_told_not_to(
    run_cli: RunCli, train_dir: Path, exported_model: Path, tmp_path: Path
) -> None:
    """A 16 kHz `crying` model is confirmed by YAMNet at run time; `--second_opinion=none` is
    the network alone, and both files hold the same network."""
    assert onnx_metadata(exported_model)["second_opinion"] == "yamnet"
    assert onnx_metadata(exported_model)["second_opinion_label"] == "crying"
    alone = tmp_path / "alone.onnx"
    process = run_cli(
        "export",
        f"--start_checkpoint={train_dir / 'tcresnet.ckpt-40.pt'}",
        f"--output_file={alone}",
        "--second_opinion=none",
    )
    assert process.returncode == 0, process.stderr
    assert "YAMNet" not in process.stdout
    assert "second_opinion" not in onnx_metadata(alone)
    batch = example_batch(BATCH_OF_THREE, duration_s=2.0)
    raw = Classifier(alone).score(batch)
    np.testing.assert_allclose(
        Classifier(exported_model, second_opinion=False).score(batch), raw, atol=1e-6
    )
    confirmed = Classifier(exported_model).score(batch)
    assert (confirmed[:, 2] <= raw[:, 2] + 1e-7).all()
    np.testing.assert_allclose(confirmed.sum(axis=1), 1.0, atol=1e-5)


def test_second_opinion_on_a_model_yamnet_cannot_hear_is_one_line(
    run_cli: RunCli, train_flags: TrainFlags, tiny_dataset: Path, tmp_path: Path
) -> None:
    """YAMNet listens at 16 kHz: an 8 kHz model cannot have its opinion, and `auto` skips it."""
    run = run_cli(
        "train",
        f"--data_dir={tiny_dataset}",
        f"--train_dir={tmp_path / 'run'}",
        *train_flags(
            "--sample_rate=8000",
            "--how_many_training_steps=2",
            "--learning_rate=0.001",
            "--eval_step_interval=2",
        ),
    )
    assert run.returncode == 0, run.stderr
    assert (
        "no YAMNet second opinion: the model listens at 8000 Hz and YAMNet at 16000 Hz; "
        "train at --sample_rate=16000" in run.stdout
    )
    checkpoint = tmp_path / "run" / "tcresnet.ckpt-2.pt"
    refused = run_cli(
        "export",
        f"--start_checkpoint={checkpoint}",
        f"--output_file={tmp_path / 'm.onnx'}",
        "--second_opinion=yamnet",
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {checkpoint}: YAMNet confirms one crying label at 16000 Hz, this model has "
        "['crying'] at 8000 Hz; export it with --second_opinion=none"
    ]
    assert not (tmp_path / "m.onnx").exists()
    automatic = run_cli(
        "export", f"--start_checkpoint={checkpoint}", f"--output_file={tmp_path / 'a.onnx'}"
    )
    assert automatic.returncode == 0, automatic.stderr
    assert "second_opinion" not in onnx_metadata(tmp_path / "a.onnx")
    assert automatic.stdout.splitlines()[-1].startswith(
        "the network alone, without YAMNet: the model listens at 8000 Hz and YAMNet at 16000 Hz"
    )


def test_only_the_finished_runs_checkpoint_carries_yamnets_head(
    run_cli: RunCli, train_dir: Path, tmp_path: Path
) -> None:
    """The head over YAMNet's embedding is fitted when training finishes: a checkpoint from
    mid-run exports as the network alone, and asking for YAMNet on it is one line."""
    assert load_checkpoint(train_dir / "tcresnet.ckpt-40.pt").embedding_head is not None
    middle = train_dir / "tcresnet.ckpt-20.pt"
    assert load_checkpoint(middle).embedding_head is None
    refused = run_cli(
        "export",
        f"--start_checkpoint={middle}",
        f"--output_file={tmp_path / 'm.onnx'}",
        "--second_opinion=yamnet",
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {middle}: has no head over YAMNet's embedding (only the last checkpoint of a "
        "finished `train` has one, if its validation split held other sounds); export that "
        "one, or use --second_opinion=none"
    ]
    automatic = run_cli(
        "export", f"--start_checkpoint={middle}", f"--output_file={tmp_path / 'a.onnx'}"
    )
    assert automatic.returncode == 0, automatic.stderr
    assert "second_opinion" not in onnx_metadata(tmp_path / "a.onnx")
    assert automatic.stdout.splitlines()[-1] == (
        "the network alone, without YAMNet: this checkpoint has no head over YAMNet's embedding "
        "(only the last one of a finished `train` has one, if its validation split held other "
        "sounds); export that one for YAMNet's second opinion"
    )
