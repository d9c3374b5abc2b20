"""The Pi's runtime never needs PyTorch: only `train/` imports it, and listen runs without it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import soundfile as sf

import miserymeter
from conftest import cli_env
from test_listen import RATE_HZ, small_night

PACKAGE_DIR = Path(miserymeter.__file__).parent
TRAINING_ONLY = {"torch", "onnx", "onnxscript", "tensorboard"}


def without_training_modules(code: str) -> str:
    """A `python -c` program that runs `code` where no training-only module can be imported."""
    blocked = ", ".join(f"{name!r}: None" for name in sorted(TRAINING_ONLY))
    return f"import sys; sys.modules.update({{{blocked}}}); {code}"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_training_code_imports_torch() -> None:
    offenders = {
        str(path.relative_to(PACKAGE_DIR)): sorted(imported_modules(path) & TRAINING_ONLY)
        for path in PACKAGE_DIR.rglob("*.py")
        if path.relative_to(PACKAGE_DIR).parts[0] != "train"
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_listen_and_classify_run_where_torch_cannot_be_imported(tmp_path: Path) -> None:
    night = tmp_path / "night.flac"
    sf.write(night, small_night(), RATE_HZ)
    program = without_training_modules("from miserymeter.cli import app; app()")
    outputs = {}
    for args in (
        ["listen", "--input", str(night), "--json", "--no-clips"],
        ["classify", str(night)],
    ):
        process = subprocess.run(
            [sys.executable, "-c", program, *args],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=120,
            check=False,
        )
        assert process.returncode == 0, process.stderr
        outputs[args[0]] = process.stdout
    (episode,) = [json.loads(line) for line in outputs["listen"].splitlines()]
    assert episode["detector"] == "model"
    assert "crying" in outputs["classify"]
