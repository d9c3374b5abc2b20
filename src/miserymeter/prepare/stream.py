"""Stream long recordings: mono blocks, soxr resampling, clips cut at given sample offsets.

Nothing here holds a whole recording in memory, so a night-long file or archive run is cut
with the memory of a few clips. Resampling is streamed (soxr's ResampleStream gives the same
samples as `soxr.resample` on the whole signal), so clips are sample-exact against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from miserymeter.audio.io import c_stderr_silenced
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
    if not path.is_file():
        problem = "is a folder, not an audio file" if path.is_dir() else "no such file"
        raise AudioError(f"{path}: {problem}")
    try:
        with c_stderr_silenced():  # libmpg123 prints notes of its own on corrupt files
            info = sf.info(str(path))
    except _READ_ERRORS as e:
        raise AudioError(
            f"{path}: not a readable audio file ({first_line(e)}); "
            "re-export it as WAV or FLAC, or remove it"
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
            f.seek(start_frame)
            while remaining > 0:
                with c_stderr_silenced():
                    block = f.read(min(BLOCK_FRAMES, remaining), dtype="float32", always_2d=True)
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
            f"{path}: not a readable audio file ({first_line(e)}); "
            "re-export it as WAV or FLAC, or remove it"
        ) from e


def resampled(blocks: Iterable[np.ndarray], *, from_hz: int, to_hz: int) -> Iterator[np.ndarray]:
    """`blocks` resampled with soxr (HQ) as one continuous signal."""
    if from_hz == to_hz:
        yield from blocks
        return
    stream = soxr.ResampleStream(from_hz, to_hz, 1, dtype="float32", quality="HQ")
    for block in blocks:
        yield stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32), last=False)
    yield stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def n_resampled(n_frames: int, *, from_hz: int, to_hz: int) -> int:
    """How many samples `resampled` makes of `n_frames` (soxr rounds to the nearest)."""
    return n_frames if from_hz == to_hz else round(n_frames * to_hz / from_hz)


def cut_at(
    blocks: Iterable[np.ndarray], *, starts: Sequence[int], n_samples: int
) -> Iterator[np.ndarray]:
    """The `n_samples` long pieces of the concatenated `blocks` at each of `starts` (sorted).

    Pieces may overlap. Stops early if the blocks end before a piece is complete.
    """
    pending = np.zeros(0, dtype=np.float32)
    pending_start = 0  # position of pending[0] in the whole signal
    next_piece = 0
    blocks_iter = iter(blocks)
    while next_piece < len(starts):
        start = starts[next_piece]
        end_in_pending = start + n_samples - pending_start
        if end_in_pending <= len(pending):
            yield pending[start - pending_start : end_in_pending].copy()
            next_piece += 1
            keep_from = (starts[next_piece] if next_piece < len(starts) else start) - pending_start
            pending = pending[max(0, keep_from) :]
            pending_start += max(0, keep_from)
            continue
        block = next(blocks_iter, None)
        if block is None:
            return
        pending = np.concatenate([pending, block])


def apply_gain(samples: np.ndarray, *, gain_db: float) -> tuple[np.ndarray, int]:
    """`samples` amplified by `gain_db` and limited to [-1, 1]; and how many had to be clipped."""
    if gain_db != 0.0:
        samples = samples * np.float32(10.0 ** (gain_db / 20.0))
    n_clipped = int(np.count_nonzero(np.abs(samples) > 1.0))
    if n_clipped:
        samples = np.clip(samples, -1.0, 1.0)
    return samples.astype(np.float32, copy=False), n_clipped


def level_dbfs(sum_squares: float, n_samples: int) -> float:
    """RMS level relative to full scale (a full-scale sine is -3 dBFS); -inf for silence."""
    if n_samples == 0 or sum_squares <= 0.0:
        return float("-inf")
    return float(10.0 * np.log10(sum_squares / n_samples))


def first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")
