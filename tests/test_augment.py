"""Augmentation, batch sampling and the corpus's family grouping: exact expectations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from miserymeter.frontend.melspec import FrontEndConfig, used_bin_frequencies_hz
from miserymeter.prepare.split import which_set
from miserymeter.train.augment import (
    PHONE_LOW_PASS_HZ,
    AugmentConfig,
    MicrophoneShapes,
    augment_batch,
    fast_fft_size,
    low_pass_cutoffs_hz,
    microphone_power_responses,
    noise_bank,
    reverberate,
    room_tone,
    time_shift,
)
from miserymeter.train.batches import BatchSampler, ClipSet, loud_window_starts, mix_at_snr
from miserymeter.train.corpus import group_name
from miserymeter.train.dataset import model_labels
from miserymeter.train.models import LogMel

RATE_HZ = 16_000


def test_time_shift_moves_rows_and_fills_with_zeros() -> None:
    batch = torch.arange(1.0, 21.0).repeat(8, 1)
    shifted = time_shift(batch, torch.Generator().manual_seed(3), max_shift=5)
    for row in shifted:
        nonzero = torch.nonzero(row).flatten()
        first, last = int(nonzero[0]), int(nonzero[-1])
        values = row[first : last + 1]
        assert torch.equal(values, torch.arange(values[0].item(), values[-1].item() + 1))
        assert abs(int(values[0].item()) - 1 - first) <= 5


def test_room_tone_has_the_asked_rms_level() -> None:
    rng = torch.Generator().manual_seed(0)
    tone = room_tone(
        6,
        rng,
        bank=noise_bank(RATE_HZ, rng),
        n_samples=RATE_HZ,
        min_level_dbfs=-60.0,
        max_level_dbfs=-60.0,
    )
    level_dbfs = 20 * torch.log10(tone.square().mean(dim=1).sqrt())
    assert torch.allclose(level_dbfs, torch.full((6,), -60.0), atol=0.01)


def test_noise_bank_runs_from_white_to_brown() -> None:
    bank = noise_bank(RATE_HZ, torch.Generator().manual_seed(0))
    power = torch.fft.rfft(bank).abs().square()
    n_bins = power.shape[1]
    low, high = power[:, n_bins // 100 : n_bins // 50].mean(1), power[:, n_bins // 2 :].mean(1)
    low_to_high_db = 10 * torch.log10(low / high)
    assert abs(low_to_high_db[0]) < 1.0  # white: flat
    assert torch.all(torch.diff(low_to_high_db) > 3.0)  # each colour steeper than the last
    assert torch.allclose(bank.square().mean(dim=1), torch.ones(len(bank)))


FRONT_END = FrontEndConfig(
    sample_rate_hz=RATE_HZ,
    window_size_ms=30.0,
    window_stride_ms=10.0,
    n_mels=40,
    min_frequency_hz=20.0,
    max_frequency_hz=3_500.0,
)
BIN_FREQS_HZ = torch.from_numpy(used_bin_frequencies_hz(FRONT_END)).float()


def test_microphone_power_responses_are_flat_when_never_chosen() -> None:
    response = microphone_power_responses(
        4, BIN_FREQS_HZ, torch.Generator().manual_seed(0), sample_rate_hz=RATE_HZ, probability=0.0
    )
    assert torch.equal(response, torch.ones_like(response))


def test_microphone_power_responses_are_butterworth_and_finite_at_0_hz() -> None:
    rng = torch.Generator().manual_seed(0)
    response = microphone_power_responses(
        200, BIN_FREQS_HZ, rng, sample_rate_hz=RATE_HZ, probability=1.0
    )
    shapes = MicrophoneShapes.draw(200, torch.Generator().manual_seed(0), sample_rate_hz=RATE_HZ)
    assert torch.isfinite(response).all()
    assert torch.allclose(response[:, 1:], shapes.magnitudes(BIN_FREQS_HZ[1:]).square())
    assert torch.allclose(response[:, 0], shapes.magnitudes(BIN_FREQS_HZ[1:2] / 2).square()[:, 0])


def test_a_power_response_in_the_front_end_equals_filtering_the_waveform() -> None:
    """What training does (scale each frame's spectrum) is what a microphone does (filter the
    sound), wherever the filter passes more than -20 dB."""
    noise = torch.randn(1, 2 * RATE_HZ, generator=torch.Generator().manual_seed(0))
    shapes = MicrophoneShapes(
        low_pass_hz=torch.tensor([[1_200.0]]),
        high_pass_hz=torch.tensor([[300.0]]),
        order=torch.tensor([[4]]),
        tilt_db_per_octave=torch.tensor([[2.0]]),
    )
    all_freqs_hz = torch.fft.rfftfreq(noise.shape[1], d=1.0 / RATE_HZ)[1:]
    spectrum = torch.fft.rfft(noise)
    spectrum[:, 1:] *= shapes.magnitudes(all_freqs_hz)
    spectrum[:, 0] = 0.0
    filtered = torch.fft.irfft(spectrum, noise.shape[1])
    gain = shapes.powers(BIN_FREQS_HZ)  # as microphone_power_responses computes it
    front_end = LogMel(FRONT_END)
    as_filtered = front_end(filtered)[0, 0].mean(dim=1)
    as_trained = front_end(noise, gain)[0, 0].mean(dim=1)
    band_gain = torch.log(gain[0] @ front_end.mel_matrix[: len(BIN_FREQS_HZ)])
    passed = band_gain > band_gain.max() - np.log(100.0)
    assert passed.sum() >= 10
    assert torch.allclose(as_trained[passed], as_filtered[passed], atol=np.log(10 ** (1 / 10)))
    assert not torch.allclose(as_trained, front_end(noise)[0, 0].mean(dim=1), atol=1.0)


def test_half_the_low_passes_are_phone_like() -> None:
    cutoffs_hz = low_pass_cutoffs_hz(4_000, torch.Generator().manual_seed(0), nyquist_hz=8_000.0)
    phone_like = (cutoffs_hz >= PHONE_LOW_PASS_HZ[0]) & (cutoffs_hz <= PHONE_LOW_PASS_HZ[1])
    assert 0.45 < phone_like.float().mean().item() < 0.55
    assert cutoffs_hz.min() >= PHONE_LOW_PASS_HZ[0]
    assert cutoffs_hz.max() <= 8_000.0


def test_augment_batch_is_reproducible_and_bounded() -> None:
    config = AugmentConfig(sample_rate_hz=RATE_HZ, time_shift_samples=1_600)
    batch = 0.5 * torch.randn(8, RATE_HZ, generator=torch.Generator().manual_seed(1))
    silence = torch.tensor([True, False] * 4)
    background = [0.3 * torch.randn(3 * RATE_HZ, generator=torch.Generator().manual_seed(2))]
    bank = noise_bank(RATE_HZ, torch.Generator().manual_seed(3))
    first, second = (
        augment_batch(
            batch,
            silence,
            torch.Generator().manual_seed(7),
            config=config,
            backgrounds=background,
            bank=bank,
            response_freqs_hz=BIN_FREQS_HZ,
        )
        for _ in range(2)
    )
    assert torch.equal(first.waveform, second.waveform)
    assert torch.equal(first.power_response, second.power_response)
    assert first.waveform.abs().max() <= 1.0
    assert first.power_response.shape == (8, len(BIN_FREQS_HZ))
    quiet = augment_batch(
        torch.zeros(4, RATE_HZ),
        torch.ones(4, dtype=torch.bool),
        torch.Generator().manual_seed(7),
        config=config,
        backgrounds=background,
        bank=bank,
        response_freqs_hz=BIN_FREQS_HZ,
    )
    assert (quiet.waveform.abs().amax(dim=1) > 0).all()  # silence rows: background, room tone


def test_fast_fft_sizes_have_only_factors_2_3_and_5() -> None:
    assert fast_fft_size(32_000 + 6_400 - 1) == 38_400
    assert [fast_fft_size(n) for n in (1, 7, 11, 13, 17)] == [1, 8, 12, 15, 18]


def test_reverberation_of_an_impulse_is_the_room_response_without_wrap_around() -> None:
    batch = torch.zeros(3, RATE_HZ)
    batch[:, -100] = 1.0  # near the end: a too-short FFT would wrap the tail to the start
    rng = torch.Generator().manual_seed(0)
    out = reverberate(batch, rng, sample_rate_hz=RATE_HZ, probability=1.0)
    assert torch.allclose(out[:, : RATE_HZ - 100], torch.zeros(3, RATE_HZ - 100), atol=1e-5)
    assert torch.all(out[:, -100].abs() > 0.1)


def test_loud_window_starts_find_the_burst() -> None:
    clip = np.zeros(5 * RATE_HZ, dtype=np.float32)
    clip[3 * RATE_HZ : 4 * RATE_HZ] = 0.5
    starts = loud_window_starts(clip, n_window=RATE_HZ)
    assert starts[0] == 3 * RATE_HZ
    assert all(2 * RATE_HZ < s < 4 * RATE_HZ for s in starts)


def test_batch_sampler_keeps_the_tutorial_proportions() -> None:
    labels = model_labels(["crying"])
    clips = [np.ones(RATE_HZ, dtype=np.float32)] * 30
    label_indices = [2] * 10 + [1] * 20  # 10 crying, 20 unknown
    sampler = BatchSampler(
        ClipSet.build(clips, label_indices, n_window=RATE_HZ),
        labels=labels,
        n_window=RATE_HZ,
        silence_percentage=20.0,
        unknown_percentage=150.0,
    )
    _, truth, is_silence = sampler.sample(20_000, np.random.default_rng(0))
    fractions = np.bincount(truth, minlength=3) / len(truth)
    expected = np.array([2.0, 15.0, 10.0]) / 27.0  # silence 20 %, unknown 150 % of 10 cries
    assert np.allclose(fractions, expected, atol=0.015)
    assert np.array_equal(is_silence, truth == 0)


def test_mix_at_snr_sets_the_noise_level_below_the_signal() -> None:
    t_s = np.arange(RATE_HZ) / RATE_HZ
    signal = (0.3 * np.sin(2 * np.pi * 440 * t_s)).astype(np.float32)
    noise = (0.05 * np.sin(2 * np.pi * 1_000 * t_s)).astype(np.float32)
    added = mix_at_snr(signal, noise, snr_db=10.0) - signal
    ratio_db = 20 * np.log10(np.sqrt(np.mean(signal**2)) / np.sqrt(np.mean(added**2)))
    assert abs(ratio_db - 10.0) < 1e-3
    assert np.array_equal(mix_at_snr(signal, np.zeros_like(noise), snr_db=0.0), signal)
    assert np.abs(mix_at_snr(signal * 3, noise * 10, snr_db=0.0)).max() <= 1.0


def test_batch_sampler_mixes_unknown_clips_under_wanted_ones_only() -> None:
    labels = model_labels(["crying"])
    crying, unknown = 0.5 * np.ones(RATE_HZ, np.float32), np.zeros(RATE_HZ, np.float32)
    unknown[::2] = 0.2  # marks the mixed rows: a cry alone is constant
    clip_set = ClipSet.build([crying] * 10 + [unknown] * 20, [2] * 10 + [1] * 20, n_window=RATE_HZ)
    sampler = BatchSampler(
        clip_set,
        labels=labels,
        n_window=RATE_HZ,
        silence_percentage=20.0,
        unknown_percentage=150.0,
        unknown_mix_frequency=0.5,
    )
    windows, truth, _ = sampler.sample(4_000, np.random.default_rng(0))
    mixed = windows.std(axis=1) > 0
    assert np.array_equal(windows[truth == 1], np.broadcast_to(unknown, windows[truth == 1].shape))
    assert not mixed[truth == 0].any()
    assert abs(mixed[truth == 2].mean() - 0.5) < 0.05
    assert np.all(windows[truth == 2].mean(axis=1) >= 0.5)


def test_a_family_and_a_recording_source_share_one_split() -> None:
    family = "donateacry__090C15A8-5406-4EA5-97A3-81F6527227C0"
    cries = [Path(f"{family}-14301475{n}-1.0-m-72-hu.flac") for n in range(15, 35)]
    takes = [Path(f"esc50__cat__4-133047-{t}-5.flac") for t in "ABC"]
    for group in (cries, takes):
        names = {group_name(p).split("_nohash_")[0] for p in group}
        assert len(names) == 1
        splits = {
            which_set(Path(group_name(p)), validation_percentage=15, testing_percentage=15)
            for p in group
        }
        assert len(splits) == 1
