"""Reading any audio file as mono float32 at the model's rate, and refusing unusable ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from miserymeter.audio.io import Conversion, fit_length, read_audio
from miserymeter.errors import AudioError
from miserymeter.inference.bundled import EXAMPLES_DIR

PHONE_CRY = EXAMPLES_DIR / "crying-phone-donateacry-d6cda191.flac"


def dominant_frequency_hz(samples: np.ndarray, sample_rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), d=1 / sample_rate_hz)[spectrum.argmax()])


def test_stereo_44k_file_is_read_as_mono_16k(tmp_path: Path) -> None:
    rate_hz, duration_s = 44_100, 1.5
    t_s = np.arange(round(rate_hz * duration_s)) / rate_hz
    left = 0.6 * np.sin(2 * np.pi * 440.0 * t_s)
    right = np.zeros_like(left)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), rate_hz)

    audio = read_audio(path, sample_rate_hz=16_000)

    assert audio.conversion == Conversion(resampled_from_hz=44_100, mixed_down_from_channels=2)
    assert audio.sample_rate_hz == 16_000
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert abs(len(audio.samples) - 24_000) <= 1
    assert audio.duration_s == pytest.approx(duration_s, abs=1e-3)
    # Mixing down averages the channels: the tone keeps its pitch at half its amplitude.
    assert dominant_frequency_hz(audio.samples, 16_000) == pytest.approx(440.0, abs=2.0)
    middle = audio.samples[2_000:-2_000]
    assert np.abs(middle).max() == pytest.approx(0.3, abs=0.01)


def test_file_at_the_target_rate_is_read_unchanged(
    tmp_path: Path, make_tone: Callable[..., Path]
) -> None:
    path = make_tone(tmp_path / "tone.wav", duration_s=0.5, sample_rate_hz=16_000)

    audio = read_audio(path, sample_rate_hz=16_000)

    assert audio.conversion == Conversion()
    expected, _ = sf.read(path, dtype="float32")
    np.testing.assert_array_equal(audio.samples, expected)


def test_8k_phone_example_is_resampled_to_16k() -> None:
    n_file_samples = sf.info(PHONE_CRY).frames
    assert sf.info(PHONE_CRY).samplerate == 8_000

    audio = read_audio(PHONE_CRY, sample_rate_hz=16_000)

    assert audio.conversion.resampled_from_hz == 8_000
    assert audio.conversion.mixed_down_from_channels is None
    assert len(audio.samples) == 2 * n_file_samples
    assert np.all(np.isfinite(audio.samples))
    assert 0.01 < np.abs(audio.samples).max() <= 1.0


def test_resampling_keeps_a_tone_at_its_pitch(
    tmp_path: Path, make_tone: Callable[..., Path]
) -> None:
    path = make_tone(
        tmp_path / "tone.wav", duration_s=1.0, sample_rate_hz=8_000, frequency_hz=1_000.0
    )

    audio = read_audio(path, sample_rate_hz=16_000)

    assert dominant_frequency_hz(audio.samples, 16_000) == pytest.approx(1_000.0, abs=2.0)
    # Nothing is created above the file's 4 kHz Nyquist frequency.
    spectrum = np.abs(np.fft.rfft(audio.samples))
    freqs_hz = np.fft.rfftfreq(len(audio.samples), d=1 / 16_000)
    assert spectrum[freqs_hz > 4_500].max() < 1e-3 * spectrum.max()


def write_random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4_096))


def write_mpeg_like_garbage(path: Path) -> None:
    """Random bytes that start with an MPEG frame sync (0xFFE4): libsndfile tries its MP3
    decoder on them, which prints resync notes straight to stderr."""
    garbage = np.random.default_rng(1).bytes(2_000)
    assert garbage.startswith(b"\xff\xe4")
    path.write_bytes(garbage)


def write_empty_file(path: Path) -> None:
    path.write_bytes(b"")


def write_zero_frames(path: Path) -> None:
    sf.write(path, np.zeros((0, 1), dtype=np.float32), 16_000)
    assert path.stat().st_size > 0  # a valid header and nothing after it


def leave_missing(path: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("make_file", "problem"),
    [
        (write_random_bytes, "not a readable audio file"),
        (write_mpeg_like_garbage, "not a readable audio file"),
        (write_empty_file, "not a readable audio file"),
        (write_zero_frames, "holds no audio samples"),
        (leave_missing, "no such file"),
    ],
    ids=["corrupt", "mpeg-like-garbage", "empty", "zero-frames", "missing"],
)
def test_unusable_file_raises_audio_error_naming_it(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    make_file: Callable[[Path], None],
    problem: str,
) -> None:
    path = tmp_path / "night 3 recording.wav"
    make_file(path)

    with pytest.raises(AudioError) as error:
        read_audio(path, sample_rate_hz=16_000)

    message = str(error.value)
    assert str(path) in message
    assert problem in message
    assert "\n" not in message
    assert capfd.readouterr().err == "", "the decoder's own chatter must not reach stderr"


def test_damaged_mp3_is_read_without_decoder_chatter(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    path = tmp_path / "phone.mp3"
    noise = 0.3 * np.random.default_rng(0).standard_normal(48_000)
    sf.write(path, noise.astype(np.float32), 16_000, format="MP3")
    damaged = bytearray(path.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 500] = bytes(500)
    path.write_bytes(bytes(damaged))

    audio = read_audio(path, sample_rate_hz=16_000)

    assert 2.5 < audio.duration_s < 3.1
    assert capfd.readouterr().err == ""


def test_folder_instead_of_file_raises_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a folder"):
        read_audio(tmp_path, sample_rate_hz=16_000)


def test_nan_samples_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    samples = np.zeros(1_000, dtype=np.float32)
    samples[10] = np.nan
    sf.write(path, samples, 16_000, subtype="FLOAT")

    with pytest.raises(AudioError, match="NaN"):
        read_audio(path, sample_rate_hz=16_000)


def test_fit_length_crops_long_input() -> None:
    samples = np.arange(10, dtype=np.float32)

    np.testing.assert_array_equal(fit_length(samples, 4), [0, 1, 2, 3])


def test_fit_length_pads_short_input_with_trailing_zeros() -> None:
    samples = np.arange(1, 4, dtype=np.float32)

    fitted = fit_length(samples, 6)

    np.testing.assert_array_equal(fitted, [1, 2, 3, 0, 0, 0])
    assert fitted.dtype == np.float32


def test_fit_length_keeps_exact_length() -> None:
    samples = np.arange(5, dtype=np.float32)

    np.testing.assert_array_equal(fit_length(samples, 5), samples)
    np.testing.assert_array_equal(fit_length(np.zeros(0, dtype=np.float32), 3), [0, 0, 0])
