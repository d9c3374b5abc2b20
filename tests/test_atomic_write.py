"""A file replaced with atomic_write is the new one whole, or the old one untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from miserymeter.atomic_write import atomic_write


def test_the_new_content_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    with atomic_write(target) as partial:
        partial.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # until the block ends

    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_partial_one(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    with pytest.raises(OSError, match="disk full"), atomic_write(target) as partial:
        partial.write_bytes(b"half")
        raise OSError("disk full")

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_sigterm_mid_write_keeps_the_old_file_and_removes_the_partial_one(tmp_path: Path) -> None:
    """A shutdown or `kill` stops a one-shot command as Ctrl-C does: in a real process sent a
    real SIGTERM while the new content is half written, nothing half-written is left."""
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    program = f"""
import os, signal
from pathlib import Path
from miserymeter.atomic_write import atomic_write
from miserymeter.cli.stopping import interrupt_on_sigterm
interrupt_on_sigterm()
try:
    with atomic_write(Path({str(target)!r})) as partial:
        partial.write_bytes(b"ha")
        os.kill(os.getpid(), signal.SIGTERM)
        partial.write_bytes(b"half")
except KeyboardInterrupt:
    raise SystemExit(130)
"""
    finished = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)

    assert finished.returncode == 130, finished.stderr
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
