"""Stream long recordings: a header check, mono blocks, and soxr resampling of a stream.

Nothing here holds a whole recording in memory. Resampling is streamed (soxr's ResampleStream
gives the same samples as `soxr.resample` on the whole signal).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from miserymeter.audio.io import c_stderr_silenced, how_to_read, require_readable_file
from miserymeter.errors import AudioError

BLOCK_FRAMES = 65_536
_READ_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError)


@dataclass(frozen=True)
class SourceInfo:
    """What a recording holds, read from its header."""

    path: Path
    sample_rate_hz: int
    n_channels: int
    n_frames: int

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate_hz


def inspect_source(path: Path) -> SourceInfo:
    """Read a recording's header, with the errors `read_audio` gives for unusable files."""
    require_readable_file(path)
    try:
        with c_stderr_silenced():  # libmpg123 prints notes of its own on corrupt files
            info = sf.info(str(path))
    except _READ_ERRORS as e:
        raise AudioError(
            f"{path}: not a readable audio file ({first_line(e)}); {how_to_read(path)}"
        ) from e
    if info.frames <= 0:
        raise AudioError(f"{path}: holds no audio samples; record it again or remove it")
    return SourceInfo(path, int(info.samplerate), int(info.channels), int(info.frames))


def mono_blocks(
    path: Path, *, start_frame: int = 0, n_frames: int | None = None
) -> Iterator[np.ndarray]:
    """Frames `[start_frame, start_frame + n_frames)` of `path`, mixed down to mono float32."""
    try:
        with c_stderr_silenced():
            f = sf.SoundFile(str(path))
        with f:
            remaining = f.frames - start_frame if n_frames is None else n_frames
            estimated = f.format in ("MP3", "MPEG")  # an MP3's length is guessed from a header
            f.seek(start_frame)
            while remaining > 0:
                with c_stderr_silenced():
                    block = f.read(min(BLOCK_FRAMES, remaining), dtype="float32", always_2d=True)
                if len(block) == 0 and estimated:
                    return
                if len(block) == 0:
                    raise AudioError(
                        f"{path}: ends early (truncated file); re-export it or remove it"
                    )
                if not np.all(np.isfinite(block)):
                    raise AudioError(
                        f"{path}: holds NaN or infinite samples; re-export it or remove it"
                    )
                remaining -= len(block)
                yield block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
    except _READ_ERRORS as e:
        raise AudioError(
            f"{path}: not a readable audio file ({first_line(e)}); {how_to_read(path)}"
        ) from e


class CountedBlocks:
    """Blocks passed through as they are, counted: `n_frames` read so far (an MP3 may hold
    fewer than its header says)."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self._blocks = blocks
        self.n_frames = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self._blocks:
            self.n_frames += len(block)
            yield block


def resampled(blocks: Iterable[np.ndarray], *, from_hz: int, to_hz: int) -> Iterator[np.ndarray]:
    """`blocks` resampled with soxr (HQ) as one continuous signal."""
    if from_hz == to_hz:
        yield from blocks
        return
    stream = soxr.ResampleStream(from_hz, to_hz, 1, dtype="float32", quality="HQ")
    for block in blocks:
        yield stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32), last=False)
    yield stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")
