"""A file replaced whole or not at all: its new content goes to a partial file beside it, is
synced to disk, then renamed over it in one step, so a reader, a crash or a full disk leaves the
old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(target: Path) -> Iterator[Path]:
    """The path to write `target`'s new content to (`.<name>.partial`, in the same folder so
    the rename is atomic); when the block ends, that file is synced and renamed over `target`.
    If the block or the rename fails, the partial file is removed and the error goes on."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        _sync(partial)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _sync(path: Path) -> None:
    """Flush `path`'s content to the disk, whoever wrote it (libraries take only a path)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
