"""An episode's spectrogram with numpy: power in dB over time and frequency, for a heatmap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_FFT = 256
MAX_FRAMES = 400
FLOOR_DB = -100.0


@dataclass(frozen=True)
class Spectrogram:
    """`power_db[frequency, time]` relative to a full-scale sine, at `times_s` and `freqs_hz`."""

    times_s: np.ndarray
    freqs_hz: np.ndarray
    power_db: np.ndarray


def spectrogram(
    samples: np.ndarray, *, sample_rate_hz: int, n_fft: int = N_FFT, max_frames: int = MAX_FRAMES
) -> Spectrogram:
    """Hann-windowed frames of `n_fft` samples, at most `max_frames` of them, evenly spread."""
    padded = np.pad(samples.astype(np.float32), (0, max(0, n_fft - len(samples))))
    n_starts = len(padded) - n_fft + 1
    hop = max(1, -(-n_starts // max_frames))
    starts = np.arange(0, n_starts, hop)
    frames = padded[starts[:, None] + np.arange(n_fft)[None, :]]
    window = np.hanning(n_fft).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    full_scale = (window.sum() / 2) ** 2  # a full-scale sine's peak bin
    power_db = 10 * np.log10(np.maximum(spectrum / full_scale, 10 ** (FLOOR_DB / 10)))
    return Spectrogram(
        times_s=(starts + n_fft / 2) / sample_rate_hz,
        freqs_hz=np.fft.rfftfreq(n_fft, 1 / sample_rate_hz),
        power_db=power_db.T,
    )
