"""A file replaced with atomic_write is the new one whole, or the old one untouched."""

from __future__ import annotations

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
