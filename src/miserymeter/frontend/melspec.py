"""Log-mel front-end parameters and a numpy reference of the features the models compute."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from miserymeter.constants import LOG_MEL_FLOOR
from miserymeter.errors import ConfigError


@dataclass(frozen=True)
class FrontEndConfig:
    """How waveforms become log-mel spectrograms; every derived size comes from these."""

    sample_rate_hz: int
    window_size_ms: float
    window_stride_ms: float
    n_mels: int
    min_frequency_hz: float
    max_frequency_hz: float

    @property
    def win_length(self) -> int:
        return round(self.sample_rate_hz * self.window_size_ms / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate_hz * self.window_stride_ms / 1000)

    @property
    def n_fft(self) -> int:
        return 1 << (self.win_length - 1).bit_length()

    @property
    def top_frequency_hz(self) -> float:
        return min(self.max_frequency_hz, self.sample_rate_hz / 2)

    def n_frames(self, n_samples: int) -> int:
        """Frames the (uncentred) STFT yields for `n_samples` samples."""
        return 1 + (n_samples - self.n_fft) // self.hop_length


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(config: FrontEndConfig) -> np.ndarray:
    """Triangular HTK-mel filters, shape [n_fft // 2 + 1, n_mels]; rejects empty filters."""
    if not 0 <= config.min_frequency_hz < config.top_frequency_hz:
        raise ConfigError(
            f"mel range {config.min_frequency_hz:g}-{config.top_frequency_hz:g} Hz is empty: "
            "lower the minimum frequency or raise the sample rate"
        )
    bin_hz = np.linspace(0, config.sample_rate_hz / 2, config.n_fft // 2 + 1)
    edges_mel = np.linspace(
        hz_to_mel(np.array(config.min_frequency_hz)),
        hz_to_mel(np.array(config.top_frequency_hz)),
        config.n_mels + 2,
    )
    edges_hz = mel_to_hz(edges_mel)
    lower, centre, upper = edges_hz[:-2], edges_hz[1:-1], edges_hz[2:]
    rising = (bin_hz[:, None] - lower) / (centre - lower)
    falling = (upper - bin_hz[:, None]) / (upper - centre)
    filters = np.clip(np.minimum(rising, falling), 0.0, None)
    filters /= np.maximum(filters.sum(axis=0, keepdims=True), 1e-12)
    if np.any(filters.max(axis=0) == 0):
        raise ConfigError(
            f"{config.n_mels} mel bins are too narrow for a {config.window_size_ms:g} ms window "
            f"at {config.sample_rate_hz} Hz: lower --feature_bin_count or raise --window_size_ms"
        )
    return filters.astype(np.float32)


def used_bins(filterbank: np.ndarray) -> int:
    """How many FFT bins, from 0 Hz up, the mel filters read: the bins above are never used."""
    return int(np.flatnonzero(filterbank.any(axis=1)).max()) + 1


def used_bin_frequencies_hz(config: FrontEndConfig) -> np.ndarray:
    """Centre frequencies of the FFT bins the mel filters read (`used_bins`), from 0 Hz."""
    n_bins = used_bins(mel_filterbank(config))
    return np.arange(n_bins) * config.sample_rate_hz / config.n_fft


def analysis_window(config: FrontEndConfig) -> np.ndarray:
    """The periodic Hann window of `win_length` samples, centred in `n_fft` (as torch.stft)."""
    window = np.zeros(config.n_fft, dtype=np.float64)
    offset = (config.n_fft - config.win_length) // 2
    window[offset : offset + config.win_length] = np.hanning(config.win_length + 1)[:-1]
    return window


def dft_basis(config: FrontEndConfig, n_bins: int) -> np.ndarray:
    """Windowed DFT kernels for bins 0..n_bins-1, shape [2 * n_bins, n_fft]: cosines, then
    negated sines, so a frame's dot products with them are the real and imaginary parts of its
    spectrum (what torch.stft computes, for the bins the mel filters read)."""
    angle = 2 * np.pi * np.outer(np.arange(n_bins), np.arange(config.n_fft)) / config.n_fft
    window = analysis_window(config)
    return np.concatenate([np.cos(angle) * window, -np.sin(angle) * window]).astype(np.float32)


def log_mel_reference(waveform: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """Numpy log-mel of a mono waveform, shape [n_mels, n_frames]: the models' ground truth."""
    window = analysis_window(config)
    n_frames = config.n_frames(len(waveform))
    starts = np.arange(n_frames) * config.hop_length
    frames = np.stack([waveform[s : s + config.n_fft] for s in starts]) * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return np.log(power @ mel_filterbank(config) + LOG_MEL_FLOOR).T.astype(np.float32)
