"""Read any supported audio file as mono float32 at a chosen sample rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from miserymeter.errors import AudioError


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


def read_audio(path: Path, *, sample_rate_hz: int) -> Audio:
    """Read `path` (WAV, FLAC, OGG, MP3), mix it down to mono and resample it with soxr."""
    try:
        data, file_rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError as e:
        raise AudioError(f"{path}: no such file") from e
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(
            f"{path}: not a readable audio file ({_first_line(e)}); "
            "re-export it as WAV or FLAC, or remove it"
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
