"""Write clips as new WAV files: never over an existing file, with clear errors on a full disk.

A run that fails half-way (full disk, a source that turns out unreadable) removes the clips it
wrote, so running the command again after the fix starts from a clean folder.
"""

from __future__ import annotations

import errno
import io
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from miserymeter.errors import DatasetError

CLIP_FORMAT = "WAV"
CLIP_SUBTYPE = "PCM_16"
CLIP_SUFFIX = ".wav"


def refuse_existing(paths: Iterable[Path], *, fix: str) -> None:
    """Raise before anything is written if one of `paths` already exists."""
    existing = [p for p in paths if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise DatasetError(f"{existing[0]}: already exists{more}; {fix}")


def write_clip(path: Path, samples: np.ndarray, *, sample_rate_hz: int) -> None:
    """Write mono `samples` in [-1, 1] as a new 16-bit WAV file at `path`.

    The file is encoded in memory first, so a failing disk shows up as an OSError of our own
    write call, and a partly written file is removed rather than left looking like a clip.
    """
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate_hz, format=CLIP_FORMAT, subtype=CLIP_SUBTYPE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise DatasetError(f"{path.parent}: is a file, not a folder; choose another --out") from e
    except OSError as e:
        raise DatasetError(_write_problem(path.parent, e)) from e
    try:
        with path.open("xb") as f:
            f.write(buffer.getvalue())
    except FileExistsError as e:  # not ours: kept
        raise DatasetError(
            f"{path}: already exists; it was not overwritten, remove it or choose another folder"
        ) from e
    except BaseException as e:  # a full disk, or Ctrl-C / SIGTERM as the file is made or written
        path.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise DatasetError(_write_problem(path, e)) from e
        raise


def _write_problem(path: Path, error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{path}: disk full; free some space and run again"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here ({error.strerror}); choose a writable folder"
    return f"{path}: cannot write the clip ({error.strerror or error}); check the folder"


class ClipWriter:
    """Writes new clips; if the `with` block fails, removes every clip it wrote."""

    def __init__(self, *, sample_rate_hz: int) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.written: list[Path] = []

    def write(self, path: Path, samples: np.ndarray) -> None:
        # Counted before it exists: Ctrl-C or SIGTERM right after the write still removes it.
        self.written.append(path)
        try:
            write_clip(path, samples, sample_rate_hz=self.sample_rate_hz)
        except DatasetError:  # nothing written (or a file not ours, which stays)
            self.written.pop()
            raise

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            for path in self.written:
                path.unlink(missing_ok=True)
