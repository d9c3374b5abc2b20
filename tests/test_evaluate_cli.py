"""`miserymeter evaluate`: clip level on a folder of the bundled examples, event level on a
night built from them, and one clear error line for every bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import onnx
import pytest

from conftest import (
    CRYING_EXAMPLES,
    NOISE_EXAMPLES,
    QUIET_EXAMPLE,
    assert_one_error_line,
    cli_command,
    cli_env,
    without_permission_override,
)
from miserymeter.constants import SECOND_OPINION_LABEL_KEY, TRAINING_CLIPS_KEY
from miserymeter.evaluation.classification import roc_auc
from miserymeter.evaluation.event_scores import score_events
from miserymeter.evaluation.night import (
    EXAMPLE_NIGHT_SETTINGS,
    example_night_clips,
    make_night,
    write_night,
)
from miserymeter.evaluation.truth import read_truth
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, EXAMPLES_DIR
from miserymeter.inference.classify import classify_file
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import detect_file
from miserymeter.prepare.fingerprints import fingerprints_text
from miserymeter.prepare.split import which_set

RunCli = Callable[..., subprocess.CompletedProcess[str]]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def link_examples(data_dir: Path) -> Path:
    """`crying/` the two example cries, `other/` the five other sounds and the quiet room."""
    for folder, names in (
        ("crying", CRYING_EXAMPLES),
        ("other", (*NOISE_EXAMPLES, QUIET_EXAMPLE)),
    ):
        (data_dir / folder).mkdir(parents=True)
        for name in names:
            (data_dir / folder / name).symlink_to(EXAMPLES_DIR / name)
    return data_dir


@pytest.fixture(scope="module")
def examples_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return link_examples(tmp_path_factory.mktemp("evaluate") / "data")


def test_clip_level_json_matches_classify(run_cli: RunCli, examples_data: Path) -> None:
    process = run_cli("evaluate", "--data_dir", examples_data, "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)

    classifier = Classifier(DEFAULT_MODEL_PATH)
    files = sorted((examples_data / "crying").iterdir()) + sorted(
        (examples_data / "other").iterdir()
    )
    peaks = np.array([classify_file(classifier, f).peak["crying"] for f in files])
    positive = np.arange(len(files)) < len(CRYING_EXAMPLES)
    assert result["roc_auc"] == pytest.approx(roc_auc(peaks, positive))
    assert (result["n_clips"], result["n_wanted"]) == (8, 2)
    assert result["labels"] == ["_silence_", "_unknown_", "crying"]
    matrix = np.array(result["confusion_matrix"])
    assert matrix.sum(axis=1).tolist() == [0, 6, 2]
    flagged = result["flagged_by_folder"]
    assert flagged["crying"]["flagged"] == int((peaks[:2] >= 0.5).sum()) == matrix[2, 2]
    assert flagged["other"] == {"clips": 6, "flagged": int((peaks[2:] >= 0.5).sum())}
    point = result["at_target_fpr"]
    assert point["false_positive_rate"] == 0.0  # 1 % of six sounds allows none
    assert point["threshold"] > peaks[2:].max()
    assert point["recall"] == float((peaks[:2] >= point["threshold"]).mean())


def test_clip_level_tables_and_plots(run_cli: RunCli, examples_data: Path, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    process = run_cli("evaluate", "--data_dir", examples_data, "--plots", plots)
    assert process.returncode == 0, process.stderr
    for text in ("8 clips (2 crying)", "crying ROC-AUC", "for 1 % false positives: threshold"):
        assert text in process.stdout
    assert "confusion matrix" in process.stdout
    for name in ("roc.png", "scores.png"):
        assert (plots / name).read_bytes().startswith(PNG_MAGIC)
        assert f"wrote {plots / name}" in process.stdout


def test_plots_into_a_file_is_one_error_before_scoring(
    run_cli: RunCli, examples_data: Path, tmp_path: Path
) -> None:
    in_the_way = tmp_path / "plots"
    in_the_way.write_text("a file")
    process = run_cli("evaluate", "--data_dir", examples_data, "--plots", in_the_way)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f"error: {in_the_way}: cannot write there (a file is in the way); pass --plots a "
        "folder you can write"
    ]
    assert process.stdout == ""


def test_plots_without_matplotlib_say_which_extra(examples_data: Path, tmp_path: Path) -> None:
    hidden = tmp_path / "no-matplotlib" / "matplotlib"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hidden.parent), env.get("PYTHONPATH")]))
    process = subprocess.run(
        [*cli_command(), "evaluate", "--data_dir", examples_data, "--plots", tmp_path / "plots"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    line = assert_one_error_line(process)
    assert "pip install 'miserymeter[train]'" in line
    assert not (tmp_path / "plots").exists()


def test_clip_level_with_another_wanted_word(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "_silence_").mkdir(parents=True)
    (data / "_silence_" / QUIET_EXAMPLE).symlink_to(EXAMPLES_DIR / QUIET_EXAMPLE)
    (data / "noise").mkdir()
    (data / "noise" / NOISE_EXAMPLES[0]).symlink_to(EXAMPLES_DIR / NOISE_EXAMPLES[0])
    process = run_cli("evaluate", "--data_dir", data, "--wanted_word", "_silence_", "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert (result["wanted_word"], result["roc_auc"]) == ("_silence_", 1.0)


def warning_lines(process: subprocess.CompletedProcess[str]) -> list[str]:
    assert process.returncode == 0, process.stderr
    return [line for line in process.stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.slow
def test_the_clips_a_model_was_trained_on_are_warned_of_and_can_be_left_out(
    run_cli: RunCli, tiny_dataset: Path, exported_model: Path, tmp_path: Path
) -> None:
    """Its figures on its own training clips flatter a model: its export lists them (by their
    files' fingerprints), `evaluate` says how many of the clips it scores are those, in one
    line, and --skip_trained scores only the others; a clip copied under another name is still
    one it trained on, and the bundled model, which lists none, gets no warning."""
    clips = [p for p in tiny_dataset.glob("*/*.wav") if p.parent.name != "_background_noise_"]
    training = [
        p
        for p in clips
        if which_set(p, validation_percentage=10, testing_percentage=10) == "training"
    ]
    assert 0 < len(training) < len(clips)

    def evaluate(data_dir: Path, *flags: str | Path) -> subprocess.CompletedProcess[str]:
        return run_cli("evaluate", "--data_dir", data_dir, "--json", *flags)

    own = evaluate(tiny_dataset, "--model", exported_model)
    (line,) = warning_lines(own)
    assert line == (
        f"warning: {len(training)} of {len(clips)} clips in {tiny_dataset} are ones model.onnx "
        "was trained on: its figures on them flatter it; add --skip_trained to score only the "
        f"other {len(clips) - len(training)} (e.g. its testing split)"
    )
    held_out = evaluate(tiny_dataset, "--model", exported_model, "--skip_trained")
    assert warning_lines(held_out) == []
    assert json.loads(held_out.stdout)["n_clips"] == len(clips) - len(training)

    night = tmp_path / "night"
    for clip in clips:
        if clip not in training:
            (night / clip.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, night / clip.parent.name / f"night-{clip.name}")
    assert warning_lines(evaluate(night, "--model", exported_model)) == []
    shutil.copy(training[0], night / training[0].parent.name / "renamed_nohash_0.wav")
    (line,) = warning_lines(evaluate(night, "--model", exported_model))
    assert line.startswith(f"warning: 1 of {len(clips) - len(training) + 1} clips in {night} ")

    assert warning_lines(evaluate(tiny_dataset)) == []
    assert "--skip_trained" in assert_one_error_line(
        evaluate(tiny_dataset, "--skip_trained"), DEFAULT_MODEL_PATH
    )


def model_trained_on(folder: Path, *clips: Path) -> Path:
    """The bundled model as if trained on `clips` (its metadata lists them), in `folder`."""
    proto = onnx.load(str(DEFAULT_MODEL_PATH))
    proto.metadata_props.add(key=TRAINING_CLIPS_KEY, value=fingerprints_text(clips))
    model = folder / f"trained-on-{len(clips)}.onnx"
    onnx.save(proto, str(model))
    return model


def test_an_unreadable_clip_is_one_line_also_for_a_model_that_lists_its_training_clips(
    tmp_path: Path,
) -> None:
    """A clip nobody may read, scored by a model that lists the clips it trained on: the
    line scoring it says, not a PermissionError traceback from reading it to recognise it."""
    data_dir = tmp_path / "data"
    for folder, names in (("crying", CRYING_EXAMPLES), ("other", NOISE_EXAMPLES)):
        (data_dir / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(EXAMPLES_DIR / name, data_dir / folder / name)
    model = model_trained_on(tmp_path, data_dir / "crying" / CRYING_EXAMPLES[0])
    locked = data_dir / "other" / NOISE_EXAMPLES[0]
    locked.chmod(0)
    process = without_permission_override("evaluate", "--data_dir", data_dir, "--model", model)
    assert_one_error_line(process, locked, "permission denied", "chmod a+r")


@pytest.mark.parametrize("record", ["!!!notbase64", "AAAAAAAAAAé=", "AAAA"])
def test_a_damaged_list_of_training_clips_is_one_line(
    run_cli: RunCli, examples_data: Path, tmp_path: Path, record: str
) -> None:
    """A model whose training_clips metadata was damaged (edited, cut, a letter that is not
    ASCII: that was a ValueError traceback) says so in one line naming it."""
    proto = onnx.load(str(DEFAULT_MODEL_PATH))
    proto.metadata_props.add(key=TRAINING_CLIPS_KEY, value=record)
    model = tmp_path / "damaged.onnx"
    onnx.save(proto, str(model))
    process = run_cli("evaluate", "--data_dir", examples_data, "--model", model)
    assert_one_error_line(process, model, "damaged", "export it again")


def test_skip_trained_leaving_no_clips_of_one_side_says_so(
    run_cli: RunCli, examples_data: Path, tmp_path: Path
) -> None:
    """A model trained on both example cries, given them with other sounds it never heard:
    --skip_trained leaves no crying clip, which is one line saying why, not that the folder
    has no clips of 'crying' (it has two); so it is when it trained on all the others."""

    cries = model_trained_on(tmp_path, *(examples_data / "crying").iterdir())
    line = assert_one_error_line(
        run_cli("evaluate", "--data_dir", examples_data, "--model", cries, "--skip_trained"),
        examples_data,
        "trained on all its 'crying' clips",
        "--skip_trained",
    )
    assert "no clips of" not in line
    others = model_trained_on(tmp_path, *(examples_data / "other").iterdir())
    assert_one_error_line(
        run_cli("evaluate", "--data_dir", examples_data, "--model", others, "--skip_trained"),
        "trained on all its other (not 'crying') clips",
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_clip_level_bad_input(run_cli: RunCli, examples_data: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert_one_error_line(run_cli("evaluate", "--data_dir", missing), missing)

    empty = tmp_path / "empty"
    (empty / "crying").mkdir(parents=True)
    write(empty / "crying" / "notes.txt", "no audio here")
    assert "no audio files" in assert_one_error_line(
        run_cli("evaluate", "--data_dir", empty), empty
    )

    line = assert_one_error_line(
        run_cli("evaluate", "--data_dir", examples_data, "--wanted_word", "laughing"),
        DEFAULT_MODEL_PATH,
    )
    assert "_silence_, _unknown_, crying" in line

    no_cries = tmp_path / "no-cries"
    (no_cries / "other").mkdir(parents=True)
    (no_cries / "other" / QUIET_EXAMPLE).symlink_to(EXAMPLES_DIR / QUIET_EXAMPLE)
    assert_one_error_line(run_cli("evaluate", "--data_dir", no_cries), no_cries / "crying")

    only_cries = tmp_path / "only-cries"
    (only_cries / "crying").mkdir(parents=True)
    (only_cries / "crying" / "a.flac").symlink_to(EXAMPLES_DIR / CRYING_EXAMPLES[0])
    assert "other sounds" in assert_one_error_line(
        run_cli("evaluate", "--data_dir", only_cries), only_cries
    )

    corrupt = write(examples_data.parent / "corrupt" / "crying" / "bad.wav", "not audio")
    (corrupt.parent.parent / "other").mkdir()
    (corrupt.parent.parent / "other" / QUIET_EXAMPLE).symlink_to(EXAMPLES_DIR / QUIET_EXAMPLE)
    assert_one_error_line(run_cli("evaluate", "--data_dir", corrupt.parent.parent), corrupt)

    assert "--target_fpr" in assert_one_error_line(
        run_cli("evaluate", "--data_dir", examples_data, "--target_fpr", "0")
    )


def test_options_that_do_not_go_together(
    run_cli: RunCli, examples_data: Path, tmp_path: Path
) -> None:
    night, truth = tmp_path / "night.flac", tmp_path / "night.csv"
    assert "--data_dir" in assert_one_error_line(run_cli("evaluate"))
    assert_one_error_line(run_cli("evaluate", "--data_dir", examples_data, "--night", night))
    assert_one_error_line(run_cli("evaluate", "--night", night), night, "--truth")
    assert_one_error_line(run_cli("evaluate", "--data_dir", examples_data, "--truth", truth), truth)
    plots = tmp_path / "plots"
    assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", truth, "--plots", plots), plots
    )
    assert "--data_dir" in assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", truth, "--skip_trained")
    )


@pytest.fixture(scope="module")
def example_night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three minutes built from the bundled examples, and its truth."""
    folder = tmp_path_factory.mktemp("night")
    cries, noises, room_tone = example_night_clips(sample_rate_hz=16_000)
    night = make_night(
        cries,
        noises,
        rng=np.random.default_rng(1),
        settings=EXAMPLE_NIGHT_SETTINGS,
        room_tone=room_tone,
    )
    write_night(night, folder / "night.flac", folder / "night.csv")
    return folder / "night.flac", folder / "night.csv"


def test_event_level_json_matches_the_listener(
    run_cli: RunCli, example_night: tuple[Path, Path]
) -> None:
    night, truth = example_night
    process = run_cli("evaluate", "--night", night, "--truth", truth, "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)

    assert result["duration_s"] == 180.0
    assert list(result["detectors"]) == ["model", "rms"]
    classifier = Classifier(DEFAULT_MODEL_PATH)
    events = read_truth(truth)
    for detector, scores in result["detectors"].items():
        episodes = detect_file(night, classifier=classifier, detector=detector)
        expected = score_events(episodes, events, duration_s=180.0).to_dict()
        assert scores == expected  # floats survive JSON exactly
        assert scores["n_episodes"] == sum(e.kind == "crying" for e in events) > 0


def test_event_level_table_side_by_side(run_cli: RunCli, example_night: tuple[Path, Path]) -> None:
    night, truth = example_night
    process = run_cli("evaluate", "--night", night, "--truth", truth)
    assert process.returncode == 0, process.stderr
    assert re.search(
        rf"{re.escape(str(night))}: 3.0 min, 2 crying episodes \(\d+ s of crying\) in "
        rf"{re.escape(str(truth))}",
        process.stdout,
    )
    assert ["model", "rms"] in [line.split() for line in process.stdout.splitlines()]
    for row in (
        "episodes found",
        "false alarms per hour",
        "latency median (s)",
        "precision",
        "time flagged as crying",
        "of it, with no crying",
        "longest episode",
    ):
        assert row in process.stdout


def test_event_level_with_a_model_of_two_words_needs_the_crying_one(
    run_cli: RunCli, example_night: tuple[Path, Path], tmp_path: Path
) -> None:
    """A model trained with --wanted_words=sleeping,cry: --wanted_word says which is crying."""
    night, truth = example_night
    proto = onnx.load(str(DEFAULT_MODEL_PATH))
    relabelled = {"labels": '["_silence_", "sleeping", "cry"]', SECOND_OPINION_LABEL_KEY: "cry"}
    for prop in proto.metadata_props:
        prop.value = relabelled.get(prop.key, prop.value)
    model = tmp_path / "cry.onnx"
    onnx.save(proto, str(model))

    line = assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", truth, "--model", model)
    )
    assert line.endswith("say which one is crying with --wanted_word")
    process = run_cli(
        "evaluate", "--night", night, "--truth", truth, "--model", model, "--wanted_word", "cry"
    )
    assert process.returncode == 0, process.stderr
    assert "2 crying episodes" in process.stdout


def test_event_level_with_the_episodes_a_parent_noted_by_the_clock(
    run_cli: RunCli, example_night: tuple[Path, Path], tmp_path: Path
) -> None:
    """label's start,end,label rows in local time score the night as its truth in seconds."""
    night, truth = example_night
    began = datetime(2026, 11, 25, 21, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    noted = tmp_path / "episodes.csv"
    noted.write_text(
        "start,end,label\n"
        + "".join(
            f"{(began + timedelta(seconds=e.start_s)).replace(tzinfo=None)},"
            f"{(began + timedelta(seconds=e.end_s)).replace(tzinfo=None)},{e.kind}\n"
            for e in read_truth(truth)
        )
    )
    place = ["--start", "2026-11-25 21:00", "--timezone", "Europe/Berlin"]

    by_clock = run_cli("evaluate", "--night", night, "--truth", noted, *place, "--json")
    in_seconds = run_cli("evaluate", "--night", night, "--truth", truth, "--json")

    assert by_clock.returncode == 0, by_clock.stderr
    assert json.loads(by_clock.stdout)["detectors"] == json.loads(in_seconds.stdout)["detectors"]
    a_day_late = ["--start", "2026-11-26 21:00", "--timezone", "Europe/Berlin"]
    line = assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", noted, *a_day_late), noted
    )
    assert "lies outside the recording" in line and "check the date, --start and --timezone" in line


def test_event_level_bad_input(
    run_cli: RunCli, example_night: tuple[Path, Path], tmp_path: Path
) -> None:
    night, truth = example_night
    missing = tmp_path / "missing.csv"
    assert_one_error_line(run_cli("evaluate", "--night", night, "--truth", missing), missing)

    malformed = write(
        tmp_path / "malformed.csv", "start_s,end_s,kind\n1.0,2.0,cat\n5,soon,crying\n"
    )
    line = assert_one_error_line(run_cli("evaluate", "--night", night, "--truth", malformed))
    assert f"{malformed}, line 3" in line and "'soon'" in line

    backwards = write(tmp_path / "backwards.csv", "start_s,end_s,kind\n9.0,2.0,crying\n")
    assert_one_error_line(run_cli("evaluate", "--night", night, "--truth", backwards), backwards)

    no_kind = write(tmp_path / "no-kind.csv", "start_s,end_s,kind\n1.0,2.0,\n")
    assert "no kind" in assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", no_kind), no_kind
    )

    header = write(tmp_path / "header.csv", "start,end,label\n1.0,2.0,crying\n")
    line = assert_one_error_line(run_cli("evaluate", "--night", night, "--truth", header), header)
    assert "start_s,end_s,kind" in line

    other_night = write(tmp_path / "long.csv", "start_s,end_s,kind\n100.0,500.0,crying\n")
    assert_one_error_line(
        run_cli("evaluate", "--night", night, "--truth", other_night), other_night, night
    )

    for bad_night in (tmp_path / "missing.flac", write(tmp_path / "bad.flac", "not audio")):
        assert_one_error_line(
            run_cli("evaluate", "--night", bad_night, "--truth", truth), bad_night
        )

    fifo = tmp_path / "night.fifo"
    os.mkfifo(fifo)
    line = assert_one_error_line(run_cli("evaluate", "--night", fifo, "--truth", truth), fifo)
    assert "not a regular file" in line
    line = assert_one_error_line(run_cli("evaluate", "--night", tmp_path, "--truth", truth))
    assert "is a folder" in line
