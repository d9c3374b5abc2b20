"""Read any supported audio file as mono float32 at a chosen sample rate."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from miserymeter.constants import UNREADABLE_AUDIO_SUFFIXES
from miserymeter.errors import AudioError

# A WAV written to a pipe cannot say how long it is: its RIFF size is 0, or 0x7FFFFFFF and up
# (arecord, ffmpeg, sox), and the file is whole however long it is.
STREAMED_RIFF_SIZE = 0x7FFF_0000


@dataclass(frozen=True)
class Conversion:
    """What had to change for a file to match the target format (None: nothing)."""

    resampled_from_hz: int | None = None
    mixed_down_from_channels: int | None = None


@dataclass(frozen=True)
class Audio:
    """Mono samples in [-1, 1] at `sample_rate_hz`, and what was converted to get them."""

    samples: np.ndarray
    sample_rate_hz: int
    conversion: Conversion

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


def require_readable_file(path: Path) -> None:
    """An AudioError naming what is wrong with `path` before libsndfile calls it a "System
    error": no such file, a folder, a pipe, or no permission to read it."""
    if not path.is_file():
        if path.is_dir():
            problem = "is a folder, not an audio file"
        elif path.exists():  # a FIFO or a device: read it from stdin (`listen --input -`)
            problem = "not a regular file; copy it to a file, or pipe it into `listen --input -`"
        else:
            problem = "no such file"
        raise AudioError(f"{path}: {problem}")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied; make it readable (chmod a+r) or copy it")
    require_whole_wav(path)


def require_whole_wav(path: Path) -> None:
    """An AudioError if `path` is a WAV file shorter than its RIFF header says (a copy or a
    recording cut short): libsndfile would read what is there as if it were all."""
    with path.open("rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
        return
    riff_size = int.from_bytes(head[4:8], "little")
    if riff_size == 0 or riff_size >= STREAMED_RIFF_SIZE:
        return  # written to a pipe (arecord, ffmpeg): the length was not known, all is there
    promised = riff_size + 8
    held = path.stat().st_size
    if promised > held:
        raise AudioError(
            f"{path}: cut short: its header promises {promised:,} bytes, the file holds "
            f"{held:,}; copy it again, or rewrite the header with `sox {path} fixed.wav` "
            "(apt install sox)"
        )


def how_to_read(path: Path) -> str:
    """What to do with an audio file soundfile cannot read: convert a format it never reads
    (a phone's .m4a) with ffmpeg, else export it again."""
    if path.suffix.lower() in UNREADABLE_AUDIO_SUFFIXES:
        converted = shlex.quote(str(path.with_suffix(".flac")))
        return f"convert it, e.g. `ffmpeg -i {shlex.quote(str(path))} {converted}`"
    return "re-export it as WAV or FLAC, or remove it"


def read_audio(path: Path, *, sample_rate_hz: int) -> Audio:
    """Read `path` (WAV, FLAC, OGG, Opus, MP3, AIFF), mix it down to mono and resample it
    with soxr."""
    require_readable_file(path)
    try:
        with c_stderr_silenced():
            data, file_rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(
            f"{path}: not a readable audio file ({_first_line(e)}); {how_to_read(path)}"
        ) from e
    if data.shape[0] == 0:
        raise AudioError(f"{path}: holds no audio samples; record it again or remove it")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{path}: holds NaN or infinite samples; re-export it or remove it")
    n_channels = data.shape[1]
    samples = data.mean(axis=1) if n_channels > 1 else data[:, 0]
    resampled_from_hz = None
    if file_rate_hz != sample_rate_hz:
        samples = soxr.resample(samples, file_rate_hz, sample_rate_hz, quality="HQ")
        resampled_from_hz = int(file_rate_hz)
    conversion = Conversion(
        resampled_from_hz=resampled_from_hz,
        mixed_down_from_channels=n_channels if n_channels > 1 else None,
    )
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), sample_rate_hz, conversion)


def fit_length(samples: np.ndarray, n_samples: int) -> np.ndarray:
    """Crop `samples` to `n_samples`, or pad them with trailing zeros."""
    if len(samples) >= n_samples:
        return samples[:n_samples]
    return np.pad(samples, (0, n_samples - len(samples)))


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


@contextlib.contextmanager
def c_stderr_silenced() -> Iterator[None]:
    """Hide what C libraries write straight to file descriptor 2 while decoding.

    libmpg123 (inside libsndfile) prints "Note: Illegal Audio-MPEG-Header ..." lines for damaged
    MP3s and for corrupt files that start like an MPEG frame; the errors we raise say it better.
    The redirection is process-wide, so it wraps only the decoding call.
    """
    sys.stderr.flush()
    try:
        saved_fd = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    devnull_fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull_fd, 2)
        yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(devnull_fd)
