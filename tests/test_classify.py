"""`miserymeter classify` with the bundled model, and proof that it runs without torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, EXAMPLES_DIR, example_clips
from miserymeter.inference.classify import classify_file
from miserymeter.inference.model import Classifier

RunCli = Callable[..., subprocess.CompletedProcess[str]]
PACKAGE_DIR = DEFAULT_MODEL_PATH.parent.parent
TRAINING_ONLY_PACKAGES = {"torch", "onnx", "onnxscript", "matplotlib", "tensorboard"}
CRYING = ("crying-fullband-esc50-4-185575-B.flac", "crying-phone-donateacry-d6cda191.flac")
NOT_CRYING = ("dog-esc50-4-184575-A.flac", "music-brahms-hungarian-dance-5.flac")


def json_lines(process: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert process.returncode == 0, process.stderr
    return [json.loads(line) for line in process.stdout.splitlines()]


@pytest.fixture(scope="module")
def examples_json(run_cli: RunCli) -> dict[str, dict[str, Any]]:
    """`classify --examples --json`, one result per example file name."""
    results = json_lines(run_cli("classify", "--examples", "--json"))
    return {Path(r["file"]).name: r for r in results}


def test_bundled_model_metadata() -> None:
    info = Classifier(DEFAULT_MODEL_PATH).info

    assert info.labels == ("_silence_", "_unknown_", "crying")
    assert info.sample_rate_hz == 16_000
    assert info.clip_duration_ms == 2_000
    assert info.n_window == 32_000
    for key in (
        "data_sha256",
        "training_steps",
        "trained_at",
        "miserymeter_version",
        "architecture",
        "frontend",
    ):
        assert info.metadata.get(key), f"bundled model lacks '{key}' metadata"


def test_examples_json_has_one_line_per_example(examples_json: dict[str, dict[str, Any]]) -> None:
    assert sorted(examples_json) == [p.name for p in example_clips()]
    assert len(examples_json) >= 8
    labels = {"_silence_", "_unknown_", "crying"}
    for result in examples_json.values():
        assert set(result) >= {
            "file",
            "duration_s",
            "top_label",
            "probabilities",
            "peak",
            "windows",
        }
        assert set(result["probabilities"]) == labels
        assert set(result["peak"]) == labels
        # Probabilities are ranked, most likely first, and the top one names the top label.
        ranked = list(result["probabilities"].values())
        assert ranked == sorted(ranked, reverse=True)
        assert result["top_label"] == next(iter(result["probabilities"]))
        assert sum(ranked) == pytest.approx(1.0, abs=2e-3)
        for label in labels:
            assert result["peak"][label] >= result["probabilities"][label] - 1e-4
        assert result["windows"], "every file has at least one window"
        for window in result["windows"]:
            assert sum(window["probabilities"].values()) == pytest.approx(1.0, abs=2e-3)


def test_examples_are_scored_in_two_second_windows(
    examples_json: dict[str, dict[str, Any]],
) -> None:
    four_s = examples_json["dog-esc50-4-184575-A.flac"]
    assert four_s["duration_s"] == pytest.approx(4.0)
    assert [w["start_s"] for w in four_s["windows"]] == [0.0, 2.0]

    phone = examples_json[CRYING[1]]  # 6.84 s at 8 kHz: the last window ends with the file
    starts = [w["start_s"] for w in phone["windows"]]
    assert starts[:-1] == [0.0, 2.0, 4.0]
    assert starts[-1] == pytest.approx(phone["duration_s"] - 2.0, abs=1e-3)


@pytest.mark.parametrize("name", CRYING)
def test_crying_examples_peak_above_half(
    examples_json: dict[str, dict[str, Any]], name: str
) -> None:
    assert examples_json[name]["peak"]["crying"] > 0.5


@pytest.mark.parametrize("name", NOT_CRYING)
def test_dog_and_music_examples_mean_below_half(
    examples_json: dict[str, dict[str, Any]], name: str
) -> None:
    assert examples_json[name]["probabilities"]["crying"] < 0.5


def test_the_cat_and_the_laughter_rank_below_every_cry(
    examples_json: dict[str, dict[str, Any]],
) -> None:
    """The issue's check: a baby's laughter or a cat must not look more like crying than crying."""
    lowest_cry = min(examples_json[name]["peak"]["crying"] for name in CRYING)
    for name in ("cat-esc50-4-133047-A.flac", "laughing-esc50-4-132810-A.flac"):
        assert examples_json[name]["peak"]["crying"] < lowest_cry, name


def test_text_output_ranks_labels_per_file(run_cli: RunCli) -> None:
    dog = EXAMPLES_DIR / NOT_CRYING[0]

    process = run_cli("classify", dog)

    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[0].startswith(f"{dog}  4.0 s, 2 window(s)")
    assert sorted(line.split()[0] for line in lines[1:4]) == ["_silence_", "_unknown_", "crying"]
    assert "peak" in lines[1]


def test_windows_flag_prints_each_window(run_cli: RunCli) -> None:
    phone = EXAMPLES_DIR / CRYING[1]

    process = run_cli("classify", phone, "--windows")

    assert process.returncode == 0, process.stderr
    window_lines = [line.split() for line in process.stdout.splitlines() if line.startswith("    ")]
    assert [w[0] for w in window_lines] == ["0.00", "2.00", "4.00", "4.84"]
    assert all(w[1] == "s" and w[2] in ("_silence_", "_unknown_", "crying") for w in window_lines)
    assert all(0.0 <= float(w[3]) <= 1.0 for w in window_lines)


def test_file_names_with_brackets_are_printed_verbatim(run_cli: RunCli, tmp_path: Path) -> None:
    clip = tmp_path / "cot [night 1].flac"  # rich would read "[night 1]" as a style
    clip.write_bytes((EXAMPLES_DIR / NOT_CRYING[0]).read_bytes())

    process = run_cli("classify", clip)

    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines()[0].startswith(f"{clip}  4.0 s")


def test_a_folder_is_its_clips(run_cli: RunCli, tmp_path: Path) -> None:
    """`classify data/crying/`, as `slice` takes folders: its audio files by the dataset rule."""
    folder = tmp_path / "crying"
    (folder / "night2").mkdir(parents=True)
    (folder / "a.flac").write_bytes((EXAMPLES_DIR / CRYING[0]).read_bytes())
    (folder / "night2" / "b.flac").write_bytes((EXAMPLES_DIR / NOT_CRYING[0]).read_bytes())
    (folder / "notes.txt").write_text("not a clip")
    (folder / "memo.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A ")  # a phone's: never read

    process = run_cli("classify", folder, "--json")

    assert process.returncode == 0, process.stderr
    files = [json.loads(line)["file"] for line in process.stdout.splitlines()]
    assert files == [str(folder / "a.flac"), str(folder / "night2" / "b.flac")]
    said = f"warning: {folder}: 1 audio file left out, .m4a cannot be read (memo.m4a); convert it"
    assert process.stderr.startswith(said), process.stderr  # not left out without a word


def test_a_bad_file_among_many_is_one_line_and_the_rest_are_classified(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """classify stopped at the first file it could not read; the files after it went unheard."""
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    first, last = EXAMPLES_DIR / CRYING[0], EXAMPLES_DIR / NOT_CRYING[0]

    process = run_cli("classify", first, text, last, "--json")

    assert process.returncode == 1
    assert [json.loads(line)["file"] for line in process.stdout.splitlines()] == [
        str(first),
        str(last),
    ]
    (error,) = process.stderr.strip().splitlines()
    assert error.startswith(f"error: {text}: ")


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30.5 s at 44.1 kHz: the full-band cry first, then every other example, then repeats."""
    first = EXAMPLES_DIR / CRYING[0]
    others = [p for p in example_clips() if p != first]
    parts = [read_audio(p, sample_rate_hz=44_100).samples for p in [first, *others, *others]]
    samples = np.concatenate(parts)[: round(30.5 * 44_100)]
    assert len(samples) == round(30.5 * 44_100)
    path = tmp_path_factory.mktemp("long") / "night.wav"
    sf.write(path, samples, 44_100)
    return path


def test_long_recording_is_scored_in_windows_covering_it(
    run_cli: RunCli, long_recording: Path
) -> None:
    (result,) = json_lines(run_cli("classify", long_recording, "--json"))

    assert result["duration_s"] == pytest.approx(30.5, abs=1e-3)
    starts = [w["start_s"] for w in result["windows"]]
    assert starts == [*np.arange(0.0, 29.0, 2.0).tolist(), 28.5]
    # The cry fills the first 4 s: its windows (0 s and 2 s) are where crying peaks above half.
    crying = [w["probabilities"]["crying"] for w in result["windows"]]
    assert max(crying[:2]) > 0.5
    assert result["peak"]["crying"] == pytest.approx(max(crying), abs=1e-4)
    assert result["probabilities"]["crying"] == pytest.approx(np.mean(crying), abs=1e-3)


def test_classify_file_scores_equal_for_any_batch_size(long_recording: Path) -> None:
    classifier = Classifier(DEFAULT_MODEL_PATH)

    one = classify_file(classifier, long_recording, batch_size=1)
    many = classify_file(classifier, long_recording, batch_size=16)

    assert len(one.windows) == 16
    for a, b in zip(one.windows, many.windows, strict=True):
        assert a.start_s == b.start_s
        for label, probability in a.probabilities.items():
            assert b.probabilities[label] == pytest.approx(probability, abs=2e-4)


def test_a_file_streamed_a_block_at_a_time_scores_as_if_read_whole(long_recording: Path) -> None:
    classifier = Classifier(DEFAULT_MODEL_PATH)
    whole = read_audio(long_recording, sample_rate_hz=classifier.info.sample_rate_hz).samples
    starts, windows = cover_with_windows(whole, classifier.info.n_window)

    streamed = classify_file(classifier, long_recording)

    assert [w.start_s * classifier.info.sample_rate_hz for w in streamed.windows] == starts.tolist()
    for window, expected in zip(streamed.windows, classifier.score(windows), strict=True):
        got = [window.probabilities[label] for label in classifier.info.labels]
        np.testing.assert_allclose(got, expected, atol=2e-4)


CLASSIFY_WITHOUT_TORCH = """
import json, sys
from miserymeter.cli import app
try:
    app(["classify", "--examples", "--json"], prog_name="miserymeter")
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in {modules!r} if m in sys.modules)
print(json.dumps({{"exit_code": code, "imported": heavy}}))
"""


def test_classify_never_imports_torch() -> None:
    script = CLASSIFY_WITHOUT_TORCH.format(modules=sorted(TRAINING_ONLY_PACKAGES))

    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert process.returncode == 0, process.stderr
    *results, summary = process.stdout.splitlines()
    assert len(results) == len(example_clips())
    assert json.loads(summary) == {"exit_code": 0, "imported": []}


def imported_packages(tree: ast.AST) -> set[str]:
    """Top-level names of every package a module imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def module_level_imports(tree: ast.Module) -> set[str]:
    """Full names of the modules a module imports when it is itself imported."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def runtime_modules() -> list[Path]:
    """Every module of the package outside `train/` (which needs the train extra)."""
    modules = [
        p for p in PACKAGE_DIR.rglob("*.py") if "train" not in p.relative_to(PACKAGE_DIR).parts
    ]
    assert len(modules) > 10, f"found too few modules under {PACKAGE_DIR}"
    return sorted(modules)


@pytest.mark.parametrize("module", runtime_modules(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_runtime_module_never_imports_training_packages(module: Path) -> None:
    tree = ast.parse(module.read_text(), filename=str(module))

    assert imported_packages(tree).isdisjoint(TRAINING_ONLY_PACKAGES)
    # cli.py may import miserymeter.train inside the train and export commands, never on import.
    assert not any(
        name == "miserymeter.train" or name.startswith("miserymeter.train.")
        for name in module_level_imports(tree)
    )
