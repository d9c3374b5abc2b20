"""Every bad input a user can give ends in one clear `error:` line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import soundfile as sf
from onnx import TensorProto, helper

from conftest import (
    TESTING_PERCENTAGE,
    VALIDATION_PERCENTAGE,
    assert_one_error_line,
    group_in_split,
    without_permission_override,
)
from miserymeter.constants import SECOND_OPINION_HEAD_KEY
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, EXAMPLES_DIR, example_clips

RunCli = Callable[..., subprocess.CompletedProcess[str]]
DOG = EXAMPLES_DIR / "dog-esc50-4-184575-A.flac"


def write_garbage(path: Path, *, seed: int = 1) -> Path:
    """Random bytes. Seed 1's start with an MPEG frame sync (0xFFE4), so libsndfile tries its
    MP3 decoder, which likes to print notes of its own to stderr."""
    path.write_bytes(np.random.default_rng(seed).bytes(2_000))
    return path


@pytest.mark.parametrize("seed", [0, 1], ids=["random", "mpeg-like"])
def test_classify_corrupt_file(run_cli: RunCli, tmp_path: Path, seed: int) -> None:
    corrupt = write_garbage(tmp_path / "corrupt.wav", seed=seed)

    line = assert_one_error_line(run_cli("classify", corrupt), corrupt)
    assert "not a readable audio file" in line


@pytest.mark.parametrize("command", ["classify", "slice", "listen"])
def test_a_phones_voice_memo_says_how_to_convert_it(
    command: str, run_cli: RunCli, tmp_path: Path
) -> None:
    """An .m4a (AAC in MP4): soundfile never reads it, so re-exporting is not the fix."""
    memo = write_garbage(tmp_path / "memo.m4a")
    args: dict[str, list[str | Path]] = {
        "classify": ["classify", memo],
        "slice": ["slice", memo, "--out", tmp_path / "clips"],
        "listen": ["listen", "--input", memo, "--db", tmp_path / "x.db", "--no-clips"],
    }
    line = assert_one_error_line(run_cli(*args[command]), memo)
    assert line.endswith(f"convert it, e.g. `ffmpeg -i {memo} {tmp_path / 'memo.flac'}`")


def test_classify_empty_file(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    assert_one_error_line(run_cli("classify", empty), empty)


def test_classify_file_without_samples(run_cli: RunCli, tmp_path: Path) -> None:
    silent = tmp_path / "no-frames.wav"
    sf.write(silent, np.zeros((0, 1), dtype=np.float32), 16_000)

    line = assert_one_error_line(run_cli("classify", silent), silent)
    assert "no audio samples" in line


@pytest.mark.parametrize("command", ["classify", "listen"])
def test_a_wav_cut_short_is_one_error_naming_the_repair(
    run_cli: RunCli, tmp_path: Path, command: str
) -> None:
    """libsndfile reads the part that is there as if it were all: the header tells."""
    whole = tmp_path / "whole.wav"
    sf.write(whole, sf.read(DOG, dtype="float32")[0], 16_000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    args = [cut] if command == "classify" else ["--input", cut, "--no-db", "--no-clips"]
    line = assert_one_error_line(run_cli(command, *args), cut)
    assert "cut short" in line and "sox" in line
    assert run_cli("classify", whole).returncode == 0


@pytest.mark.parametrize("riff_size", [0xFFFF_FFFF, 0x7FFF_FFFF, 0])
def test_a_wav_written_to_a_pipe_is_read_whole(
    run_cli: RunCli, tmp_path: Path, riff_size: int
) -> None:
    """`arecord > night.wav` and `ffmpeg ... pipe:` cannot know the length: not "cut short"."""
    samples = np.tile(sf.read(DOG, dtype="float32")[0], 3)
    piped = tmp_path / "piped.wav"
    sf.write(piped, samples, 16_000, subtype="PCM_16")
    data = bytearray(piped.read_bytes())
    data[4:8] = riff_size.to_bytes(4, "little")
    piped.write_bytes(bytes(data))
    process = run_cli("classify", piped, "--json")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["duration_s"] == pytest.approx(len(samples) / 16_000)


def test_an_mp3_shorter_than_its_header_says_is_read_to_its_end(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """An MP3's frame count is an estimate: a cut one is scored as far as it goes."""
    whole = tmp_path / "whole.mp3"
    sf.write(whole, np.tile(sf.read(DOG, dtype="float32")[0], 5), 16_000, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    process = run_cli("classify", cut, "--json")
    assert process.returncode == 0, process.stderr
    assert 8.0 < json.loads(process.stdout)["duration_s"] < 12.0  # of 20 s


def test_classify_a_file_of_one_sample(run_cli: RunCli, tmp_path: Path) -> None:
    one = tmp_path / "one.wav"
    sf.write(one, np.full((1, 1), 0.5, dtype=np.float32), 16_000)

    line = assert_one_error_line(run_cli("classify", one), one)
    assert "too short" in line


def test_classify_missing_file(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.wav"

    line = assert_one_error_line(run_cli("classify", missing), missing)
    assert "no such file" in line


def test_classify_a_pipe_says_how_to_read_one(run_cli: RunCli, tmp_path: Path) -> None:
    fifo = tmp_path / "mic.fifo"
    os.mkfifo(fifo)

    line = assert_one_error_line(run_cli("classify", fifo), fifo)
    assert line.endswith(
        "not a regular file; copy it to a file, or pipe it into `listen --input -`"
    )


def test_classify_a_bad_file_after_a_good_one_is_one_line_after_its_result(
    run_cli: RunCli, tmp_path: Path
) -> None:
    corrupt = write_garbage(tmp_path / "corrupt.wav")

    process = run_cli("classify", DOG, corrupt, "--json")

    assert_one_error_line(process, corrupt)
    assert len(process.stdout.splitlines()) == 1  # the dog's result was printed first


def test_classify_without_files(run_cli: RunCli) -> None:
    line = assert_one_error_line(run_cli("classify"))
    assert "--examples" in line


def test_classify_with_non_onnx_model(run_cli: RunCli, tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_text("this is not a model\n")

    line = assert_one_error_line(run_cli("classify", DOG, "--model", fake), fake)
    assert "not an ONNX model" in line


def test_classify_with_missing_model(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.onnx"

    line = assert_one_error_line(run_cli("classify", DOG, "--model", missing), missing)
    assert "no such model file" in line


def write_foreign_onnx(path: Path) -> Path:
    """A valid ONNX model that is not ours: Identity from `waveform` to `probabilities`, but
    without the Misery Meter metadata."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["waveform"], ["probabilities"])],
        "foreign",
        [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["batch", "samples"])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", "samples"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
    return path


def test_classify_with_foreign_onnx_model(run_cli: RunCli, tmp_path: Path) -> None:
    foreign = write_foreign_onnx(tmp_path / "foreign.onnx")

    line = assert_one_error_line(run_cli("classify", DOG, "--model", foreign), foreign)
    assert "not a Misery Meter model" in line


def train_args(data_dir: Path, train_dir: Path, *overrides: str) -> list[str]:
    """`train` with a two-step run's flags, each `--name=value` override replacing its flag."""
    flags = {
        "--wanted_words": "crying",
        "--how_many_training_steps": "2",
        "--learning_rate": "0.001",
        "--batch_size": "4",
    }
    for flag in overrides:
        name, value = flag.split("=", 1)
        flags[name] = value
    return [
        "train",
        f"--data_dir={data_dir}",
        f"--train_dir={train_dir}",
        *(f"{name}={value}" for name, value in flags.items()),
    ]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--learning_rate=nan", "--learning_rate='nan': every value must be positive"),
        ("--window_stride_ms=-1", "--window_stride_ms must be positive"),
        ("--feature_bin_count=0", "--feature_bin_count must be positive"),
        ("--silence_percentage=-10", "--silence_percentage=-10.0: must be 0 or more"),
        ("--validation_percentage=nan", "--validation_percentage=nan: must be 0 or more"),
        ("--background_volume=-1", "--background_volume=-1.0: must be 0 or more"),
        ("--background_frequency=2", "--background_frequency=2.0: use a fraction in [0, 1]"),
    ],
)
def test_train_options_out_of_range_are_refused_before_anything_is_read(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path, flag: str, message: str
) -> None:
    """These crashed mid-training (nan rate, a negative stride) or were taken silently."""
    train_dir = tmp_path / "run"
    line = assert_one_error_line(run_cli(*train_args(synthetic_dataset, train_dir, flag)))
    assert line == f"error: {message}"
    assert not train_dir.exists()


def test_train_missing_data_dir(run_cli: RunCli, tmp_path: Path) -> None:
    missing, train_dir = tmp_path / "no-data", tmp_path / "run"

    assert_one_error_line(run_cli(*train_args(missing, train_dir)), missing)
    assert not train_dir.exists()


def test_train_without_wanted_words_names_the_folders_to_choose_from(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    args = [a for a in train_args(synthetic_dataset, tmp_path / "run") if "wanted_words" not in a]
    line = assert_one_error_line(run_cli(*args), synthetic_dataset)
    assert line.endswith("e.g. --wanted_words=crying (its folders: crying, noise)")


def test_train_on_a_label_folder_says_to_pass_its_parent(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    """--data_dir=data/crying, one folder too deep: its clips are not label folders."""
    too_deep = synthetic_dataset / "crying"
    line = assert_one_error_line(run_cli(*train_args(too_deep, tmp_path / "run")), too_deep)
    assert line.endswith(f"pass the folder that holds it, --data_dir={synthetic_dataset}")


def test_train_wanted_word_without_folder(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir, "--wanted_words=crying,laughing"))

    assert_one_error_line(process, synthetic_dataset / "laughing", "--wanted_words")
    assert not train_dir.exists()


def test_train_empty_wanted_folder(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    (synthetic_dataset / "laughing").mkdir()
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir, "--wanted_words=crying,laughing"))

    line = assert_one_error_line(process, synthetic_dataset / "laughing")
    assert "no audio files" in line
    assert not train_dir.exists()


def test_train_corrupt_clip_in_dataset(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    corrupt = write_garbage(synthetic_dataset / "noise" / "broken_nohash_0.wav")
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir))

    line = assert_one_error_line(process, corrupt)
    assert "not a readable audio file" in line
    assert not train_dir.exists()


def test_train_phase_counts_differ(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    process = run_cli(
        *train_args(
            synthetic_dataset,
            tmp_path / "run",
            "--how_many_training_steps=2,2",
            "--learning_rate=0.001",
        )
    )

    assert_one_error_line(process, "--how_many_training_steps", "--learning_rate")


@pytest.mark.parametrize("value", ["2,x", "0"])
def test_train_bad_step_list(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path, value: str
) -> None:
    process = run_cli(
        *train_args(synthetic_dataset, tmp_path / "run", f"--how_many_training_steps={value}")
    )

    assert_one_error_line(process, "--how_many_training_steps", value)


@pytest.mark.parametrize("value", ["1", "-0.5"])
def test_train_ema_decay_outside_0_to_1(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path, value: str
) -> None:
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir, f"--ema_decay={value}"))

    assert_one_error_line(process, f"--ema_decay={float(value)}")
    assert not train_dir.exists()


def test_train_clip_shorter_than_a_second(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir, "--clip_duration_ms=500"))

    assert_one_error_line(process, "--clip_duration_ms=500")
    assert not train_dir.exists()


def test_train_phases_and_rates_that_do_not_pair(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    train_dir = tmp_path / "run"
    pairing = ("--how_many_training_steps=200", "--learning_rate=0.001,0.0001")

    process = run_cli(*train_args(synthetic_dataset, train_dir, *pairing))

    line = assert_one_error_line(process, "--how_many_training_steps", "--learning_rate")
    assert "has 1 phase but --learning_rate has 2 rates" in line
    assert not train_dir.exists()


def test_train_unknown_architecture(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    process = run_cli(
        *train_args(synthetic_dataset, tmp_path / "run", "--model_architecture=transformer")
    )

    assert_one_error_line(process, "--model_architecture", "transformer")


def test_export_missing_checkpoint(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "tcresnet.ckpt-100.pt"
    output_file = tmp_path / "model.onnx"

    process = run_cli("export", f"--start_checkpoint={missing}", f"--output_file={output_file}")

    line = assert_one_error_line(process, missing)
    assert "no such checkpoint" in line
    assert not output_file.exists()


@pytest.mark.parametrize("command", ["export", "freeze"])
def test_export_file_that_is_not_a_checkpoint(
    run_cli: RunCli, tmp_path: Path, command: str
) -> None:
    not_checkpoint = write_garbage(tmp_path / "tcresnet.ckpt-100.pt")
    output_file = tmp_path / "model.onnx"

    process = run_cli(
        command, f"--start_checkpoint={not_checkpoint}", f"--output_file={output_file}"
    )

    line = assert_one_error_line(process, not_checkpoint)
    assert "not a Misery Meter checkpoint" in line
    assert not output_file.exists()


def test_export_audio_file_given_as_checkpoint(run_cli: RunCli, tmp_path: Path) -> None:
    output_file = tmp_path / "model.onnx"

    process = run_cli("export", f"--start_checkpoint={DOG}", f"--output_file={output_file}")

    assert_one_error_line(process, DOG)
    assert not output_file.exists()


def test_train_wanted_word_with_no_training_clip(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    for k, clip in enumerate(sorted((synthetic_dataset / "crying").iterdir())):
        clip.rename(clip.with_name(f"{group_in_split('held', 'testing')}_nohash_{k}.wav"))
    train_dir = tmp_path / "run"
    split = (
        f"--validation_percentage={VALIDATION_PERCENTAGE}",
        f"--testing_percentage={TESTING_PERCENTAGE}",
    )

    process = run_cli(*train_args(synthetic_dataset, train_dir, *split))

    line = assert_one_error_line(process, synthetic_dataset / "crying")
    assert "no clip of it falls in the training split" in line


def test_train_on_the_wanted_words_folder_alone_is_refused_before_training(
    run_cli: RunCli, synthetic_dataset: Path, tmp_path: Path
) -> None:
    """`crying/` and nothing else trained a model that took every sound for crying (a quiet
    room, talk, laughter all 1.000) and scored it perfect: no other sound to tell it from."""
    shutil.rmtree(synthetic_dataset / "noise")
    train_dir = tmp_path / "run"

    process = run_cli(*train_args(synthetic_dataset, train_dir))

    line = assert_one_error_line(process, synthetic_dataset, synthetic_dataset / "other")
    assert line == (
        f"error: {synthetic_dataset}: only crying clips: the model would take every sound for "
        f"crying; add a folder of other sounds beside it ({synthetic_dataset / 'other'}/...: "
        "laughter, talk, the TV, the cat), see docs/training.md"
    )
    assert not train_dir.exists()


@pytest.mark.parametrize("command", ["classify", "slice", "listen"])
def test_an_unreadable_file_is_one_line_saying_so(command: str, tmp_path: Path) -> None:
    """Not typer's usage box (classify, slice), not libsndfile's "System error" (listen)."""
    night = tmp_path / "night.flac"
    night.write_bytes(DOG.read_bytes())
    night.chmod(0)
    args: dict[str, list[str | Path]] = {
        "classify": ["classify", night],
        "slice": ["slice", night, "--out", tmp_path / "clips", "--clip_duration_ms", "1000"],
        "listen": ["listen", "--input", night, "--db", tmp_path / "x.db", "--no-clips"],
    }
    line = assert_one_error_line(without_permission_override(*args[command]), night)
    assert "permission denied" in line and "chmod" in line


def test_a_model_asking_for_yamnet_without_its_head_is_one_line(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A file exported before the head over YAMNet's embedding existed asks for a second
    opinion this version cannot give: one line that says to train and export it again."""
    proto = onnx.load(str(DEFAULT_MODEL_PATH))
    kept = [p for p in proto.metadata_props if p.key != SECOND_OPINION_HEAD_KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    old = tmp_path / "old.onnx"
    onnx.save_model(proto, str(old))
    clip = example_clips()[0]
    process = run_cli("classify", "--model", old, clip)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f"error: {old}: asks for a second opinion this version cannot give ('yamnet' on "
        "'crying' at 16000 Hz); train and export it again"
    ]
