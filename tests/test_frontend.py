"""The log-mel front end (numpy reference against the models' torch layer) and windowing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from miserymeter.audio.io import read_audio
from miserymeter.errors import ConfigError
from miserymeter.frontend.melspec import (
    FrontEndConfig,
    hz_to_mel,
    log_mel_reference,
    mel_filterbank,
    mel_to_hz,
)
from miserymeter.frontend.windows import cover_with_windows, stream_windows
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.train.models import LogMel

DEFAULT = FrontEndConfig(
    sample_rate_hz=16_000,
    window_size_ms=30.0,
    window_stride_ms=10.0,
    n_mels=40,
    min_frequency_hz=60.0,
    max_frequency_hz=8_000.0,
)
PHONE_BAND = FrontEndConfig(
    sample_rate_hz=8_000,
    window_size_ms=25.0,
    window_stride_ms=10.0,
    n_mels=32,
    min_frequency_hz=60.0,
    max_frequency_hz=4_000.0,
)

# The bundled model's bands: 16 kHz audio, mel filters stopping below a phone's roll-off.
PHONE_BAND_AT_16K = dataclasses.replace(DEFAULT, max_frequency_hz=3_500.0)


def test_derived_sizes() -> None:
    assert DEFAULT.win_length == 480
    assert DEFAULT.hop_length == 160
    assert DEFAULT.n_fft == 512
    assert DEFAULT.top_frequency_hz == 8_000.0
    assert DEFAULT.n_frames(16_000) == 1 + (16_000 - 512) // 160


def test_mel_scale_round_trips() -> None:
    hz = np.array([0.0, 60.0, 1_000.0, 7_999.0])

    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, atol=1e-6)
    assert hz_to_mel(np.array(1_000.0)) == pytest.approx(1_000.0, abs=0.1)


@pytest.mark.parametrize("config", [DEFAULT, PHONE_BAND], ids=["16k", "8k"])
def test_mel_filterbank_shape_and_no_empty_filter(config: FrontEndConfig) -> None:
    filters = mel_filterbank(config)

    assert filters.shape == (config.n_fft // 2 + 1, config.n_mels)
    assert filters.dtype == np.float32
    assert np.all(filters >= 0)
    assert np.all(filters.max(axis=0) > 0), "every mel band must see at least one FFT bin"
    np.testing.assert_allclose(filters.sum(axis=0), 1.0, rtol=1e-5)
    # Bands rise with frequency and stay inside [min_frequency_hz, top_frequency_hz].
    bin_hz = np.linspace(0, config.sample_rate_hz / 2, config.n_fft // 2 + 1)
    centres_hz = (filters * bin_hz[:, None]).sum(axis=0)
    assert np.all(np.diff(centres_hz) > 0)
    outside = (bin_hz <= config.min_frequency_hz) | (bin_hz >= config.top_frequency_hz)
    assert filters[outside].max() < 1e-6  # rounding at the band edges only


def test_max_frequency_is_capped_at_nyquist() -> None:
    config = FrontEndConfig(8_000, 30.0, 10.0, 40, 60.0, 8_000.0)

    assert config.top_frequency_hz == 4_000.0
    assert mel_filterbank(config).shape == (129, 40)


def test_too_many_mels_for_a_short_window_is_a_config_error() -> None:
    # 128 bands over 60-4000 Hz, but a 10 ms window at 8 kHz gives only 65 FFT bins 62.5 Hz apart.
    config = FrontEndConfig(8_000, 10.0, 10.0, 128, 60.0, 4_000.0)

    with pytest.raises(ConfigError, match="128 mel bins are too narrow"):
        mel_filterbank(config)


def test_empty_frequency_range_is_a_config_error() -> None:
    config = FrontEndConfig(8_000, 30.0, 10.0, 40, 5_000.0, 8_000.0)

    with pytest.raises(ConfigError, match="empty"):
        mel_filterbank(config)


def log_mel_torch(
    samples: np.ndarray, config: FrontEndConfig, *, as_convolution: bool = False
) -> np.ndarray:
    front_end = LogMel(config).eval()
    front_end.as_convolution = as_convolution
    with torch.no_grad():
        features = front_end(torch.from_numpy(samples)[None, :])
    assert features.shape[:2] == (1, 1)
    return features[0, 0].numpy()


@pytest.mark.parametrize("as_convolution", [False, True], ids=["stft", "convolution"])
@pytest.mark.parametrize(
    "config", [DEFAULT, PHONE_BAND, PHONE_BAND_AT_16K], ids=["16k", "8k", "3k5"]
)
@pytest.mark.parametrize(
    "clip",
    [
        "crying-fullband-esc50-4-185575-B.flac",
        "crying-phone-donateacry-d6cda191.flac",
        "quiet-room-synthetic.flac",
    ],
)
def test_torch_log_mel_matches_numpy_reference(
    config: FrontEndConfig, clip: str, as_convolution: bool
) -> None:
    samples = read_audio(EXAMPLES_DIR / clip, sample_rate_hz=config.sample_rate_hz).samples

    reference = log_mel_reference(samples, config)
    features = log_mel_torch(samples, config, as_convolution=as_convolution)

    assert reference.shape == (config.n_mels, config.n_frames(len(samples)))
    assert features.shape == reference.shape
    difference = np.abs(features - reference)
    assert difference.max() < 5e-4
    assert difference.mean() < 1e-5


def test_log_mel_of_silence_is_the_floor() -> None:
    silence = np.zeros(16_000, dtype=np.float32)

    np.testing.assert_allclose(log_mel_reference(silence, DEFAULT), np.log(1e-6), rtol=1e-6)
    np.testing.assert_allclose(log_mel_torch(silence, DEFAULT), np.log(1e-6), rtol=1e-6)


def test_log_mel_puts_a_tone_in_the_band_around_its_frequency() -> None:
    t_s = np.arange(16_000) / 16_000
    tone = (0.5 * np.sin(2 * np.pi * 1_000.0 * t_s)).astype(np.float32)
    filters = mel_filterbank(DEFAULT)
    bin_hz = np.linspace(0, 8_000, DEFAULT.n_fft // 2 + 1)
    centres_hz = (filters * bin_hz[:, None]).sum(axis=0)

    loudest_band = int(log_mel_reference(tone, DEFAULT).mean(axis=1).argmax())

    assert abs(centres_hz[loudest_band] - 1_000.0) < 100.0


def assert_covers(samples: np.ndarray, starts: np.ndarray, windows: np.ndarray, n: int) -> None:
    """Every window is full length, is the samples at its start, and together they cover all."""
    assert windows.shape == (len(starts), n)
    covered = np.zeros(len(samples), dtype=bool)
    for start, window in zip(starts, windows, strict=True):
        np.testing.assert_array_equal(window, samples[start : start + n])
        covered[start : start + n] = True
    assert covered.all()


def test_cover_with_windows_pads_a_short_recording() -> None:
    samples = np.arange(1, 701, dtype=np.float32)

    starts, windows = cover_with_windows(samples, 1_000)

    np.testing.assert_array_equal(starts, [0])
    assert windows.shape == (1, 1_000)
    np.testing.assert_array_equal(windows[0, :700], samples)
    assert not windows[0, 700:].any()


def test_cover_with_windows_of_exactly_one_window() -> None:
    samples = np.arange(1_000, dtype=np.float32)

    starts, windows = cover_with_windows(samples, 1_000)

    np.testing.assert_array_equal(starts, [0])
    assert_covers(samples, starts, windows, 1_000)


def test_cover_with_windows_of_whole_windows_adds_no_overlap() -> None:
    samples = np.arange(3_000, dtype=np.float32)

    starts, windows = cover_with_windows(samples, 1_000)

    np.testing.assert_array_equal(starts, [0, 1_000, 2_000])
    assert_covers(samples, starts, windows, 1_000)


@pytest.mark.parametrize("n_samples", [1_001, 2_500, 30_017])
def test_cover_with_windows_aligns_the_last_window_to_the_end(n_samples: int) -> None:
    samples = np.arange(n_samples, dtype=np.float32)

    starts, windows = cover_with_windows(samples, 1_000)

    assert starts[-1] == n_samples - 1_000
    np.testing.assert_array_equal(starts[:-1], np.arange(len(starts) - 1) * 1_000)
    assert len(starts) == -(-n_samples // 1_000)  # ceil: one window more than whole windows
    assert_covers(samples, starts, windows, 1_000)


def test_cover_with_windows_of_an_empty_recording_is_one_silent_window() -> None:
    starts, windows = cover_with_windows(np.zeros(0, dtype=np.float32), 500)

    np.testing.assert_array_equal(starts, [0])
    np.testing.assert_array_equal(windows, np.zeros((1, 500)))


@pytest.mark.parametrize("n_samples", [700, 1_000, 3_000, 3_456, 40_000])
@pytest.mark.parametrize("block_frames", [1, 333, 1_000, 65_536])
def test_streamed_windows_are_the_windows_of_the_whole_recording(
    n_samples: int, block_frames: int
) -> None:
    cry = read_audio(EXAMPLES_DIR / "crying-phone-donateacry-d6cda191.flac", sample_rate_hz=16_000)
    recording = cry.samples[:n_samples]
    blocks = (recording[i : i + block_frames] for i in range(0, len(recording), block_frames))

    streamed = list(stream_windows(blocks, 1_000))

    starts, windows = cover_with_windows(recording, 1_000)
    assert [start for start, _ in streamed] == starts.tolist()
    np.testing.assert_array_equal(np.stack([window for _, window in streamed]), windows)
