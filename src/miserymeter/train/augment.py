"""Waveform augmentation for a batch [n, samples]: what other rooms and microphones do to sound.

Each function takes the batch first, randomness as `rng` (a torch.Generator), and options by
keyword. The order in `augment_batch` follows the sound's path: source → room (reverb,
background) → microphone (gain, its own hiss, frequency response). The microphone's frequency
response comes out beside the waveform, for the front end to apply to the spectrum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

# Cut-off range of an 8 kHz phone recording's anti-alias filter.
PHONE_LOW_PASS_HZ = (3_300.0, 4_000.0)
# Colours of room tone and microphone hiss: spectra falling as 1/f^exponent (white to brown).
NOISE_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of every augmentation (volumes are amplitude factors)."""

    sample_rate_hz: int
    background_frequency: float = 0.8
    background_volume: float = 0.1
    time_shift_samples: int = 0
    min_gain_db: float = -20.0
    max_gain_db: float = 6.0
    band_limit_probability: float = 0.8
    reverb_probability: float = 0.3
    min_room_tone_dbfs: float = -80.0
    max_room_tone_dbfs: float = -45.0


def uniform(low: float, high: float, shape: tuple[int, ...], rng: torch.Generator) -> Tensor:
    """Samples drawn uniformly from [low, high)."""
    return low + (high - low) * torch.rand(shape, generator=rng)


def fast_fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c ≥ `n`: FFTs of such sizes are fast, and often far smaller than
    the next power of two (38,400 rather than 65,536 for 2.4 s at 16 kHz)."""
    size = n
    while True:
        rest = size
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return size
        size += 1


def time_shift(batch: Tensor, rng: torch.Generator, *, max_shift: int) -> Tensor:
    """Shift each row by up to ±`max_shift` samples, filling with zeros (the tutorial's shift)."""
    if max_shift <= 0:
        return batch
    n_rows, n = batch.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n_rows,), generator=rng)
    out = torch.zeros_like(batch)
    for row, shift in enumerate(shifts.tolist()):  # slices copy faster than a gather
        if shift >= 0:
            out[row, shift:] = batch[row, : n - shift]
        else:
            out[row, :shift] = batch[row, -shift:]
    return out


def reverberate(
    batch: Tensor, rng: torch.Generator, *, sample_rate_hz: int, probability: float
) -> Tensor:
    """Convolve some rows with a synthetic room: decaying noise, RT60 0.1-0.7 s."""
    chosen = torch.nonzero(torch.rand(len(batch), generator=rng) < probability).flatten()
    if len(chosen) == 0:
        return batch
    n = batch.shape[1]
    n_ir = int(0.4 * sample_rate_hz)
    t_s = torch.arange(n_ir) / sample_rate_hz
    rt60_s = uniform(0.1, 0.7, (len(chosen), 1), rng)
    impulse = torch.randn((len(chosen), n_ir), generator=rng) * torch.exp(-6.9 * t_s / rt60_s)
    impulse[:, 0] = 1.0 / uniform(0.1, 0.5, (len(chosen),), rng)  # direct-to-reverb ratio
    impulse = impulse / impulse.square().sum(dim=1, keepdim=True).sqrt()
    n_fft = fast_fft_size(n + n_ir - 1)
    spectrum = torch.fft.rfft(batch[chosen], n_fft) * torch.fft.rfft(impulse, n_fft)
    out = batch.clone()
    out[chosen] = torch.fft.irfft(spectrum, n_fft)[:, :n]
    return out


def mix_background(
    batch: Tensor,
    rng: torch.Generator,
    *,
    backgrounds: list[Tensor],
    frequency: float,
    max_volume: float,
    always: Tensor,
) -> Tensor:
    """Add a random stretch of a background recording to some rows (always to `always` rows)."""
    if not backgrounds:
        return batch
    out = batch.clone()
    n = batch.shape[1]
    rows = torch.nonzero((torch.rand(len(batch), generator=rng) < frequency) | always).flatten()
    sources = torch.randint(len(backgrounds), (len(rows),), generator=rng)
    volumes = uniform(0.0, max_volume, (len(rows),), rng)
    offsets = torch.rand(len(rows), generator=rng)
    for row, source_index, volume, offset in zip(
        rows.tolist(), sources.tolist(), volumes.tolist(), offsets.tolist(), strict=True
    ):
        out[row] += volume * random_stretch(backgrounds[source_index], n, offset=offset)
    return out


def random_stretch(source: Tensor, n: int, *, offset: float) -> Tensor:
    """`n` samples of `source` (looped if shorter) from `offset` (0-1) of the way along it."""
    if len(source) < n:
        source = source.repeat(n // len(source) + 1)
    start = int(offset * (len(source) - n + 1))
    return source[start : start + n]


def low_pass_cutoffs_hz(n_rows: int, rng: torch.Generator, *, nyquist_hz: float) -> Tensor:
    """Half phone-like (3.3-4 kHz, as 8 kHz recordings are), half wider, up to Nyquist."""
    low, high = (min(f, nyquist_hz) for f in PHONE_LOW_PASS_HZ)
    phone_like = torch.rand(n_rows, generator=rng) < 0.5
    return torch.where(
        phone_like, uniform(low, high, (n_rows,), rng), uniform(high, nyquist_hz, (n_rows,), rng)
    )


@dataclass(frozen=True)
class MicrophoneShapes:
    """Per row [n_rows, 1]: Butterworth low-pass and high-pass corners, order, and a tilt."""

    low_pass_hz: Tensor
    high_pass_hz: Tensor
    order: Tensor
    tilt_db_per_octave: Tensor

    @classmethod
    def draw(cls, n_rows: int, rng: torch.Generator, *, sample_rate_hz: int) -> MicrophoneShapes:
        """Random shapes: low-pass phone-like or wider, high-pass 20-400 Hz, ±3 dB/octave."""
        shape = (n_rows, 1)
        return cls(
            low_pass_hz=low_pass_cutoffs_hz(n_rows, rng, nyquist_hz=sample_rate_hz / 2)[:, None],
            high_pass_hz=uniform(20.0, 400.0, shape, rng),
            order=torch.randint(2, 9, shape, generator=rng),
            tilt_db_per_octave=uniform(-3.0, 3.0, shape, rng),
        )

    def magnitudes(self, freqs_hz: Tensor) -> Tensor:
        """|H(f)| [n_rows, len(freqs_hz)] at frequencies > 0."""
        # Butterworth magnitudes in the log domain: |H|^2 = 1 / (1 + (f / f_c)^(2 order))
        log_freqs = torch.log(freqs_hz)
        log_gain = (
            -0.5 * F.softplus(2 * self.order * (log_freqs - torch.log(self.low_pass_hz)))
            - 0.5 * F.softplus(2 * self.order * (torch.log(self.high_pass_hz) - log_freqs))
            + self.tilt_db_per_octave * (math.log(10) / 20) * torch.log2(freqs_hz / 1_000.0)
        )
        return torch.exp(log_gain)

    def powers(self, freqs_hz: Tensor) -> Tensor:
        """|H(f)|^2 [n_rows, len(freqs_hz)] at spectrum bins; a 0 Hz bin is taken as half the
        next one's frequency (the logarithms need f > 0)."""
        positive_hz = freqs_hz.clamp(min=float(freqs_hz[freqs_hz > 0].min()) / 2)
        return self.magnitudes(positive_hz).square()


def microphone_power_responses(
    n_rows: int, freqs_hz: Tensor, rng: torch.Generator, *, sample_rate_hz: int, probability: float
) -> Tensor:
    """Random power responses |H(f)|^2 [n_rows, len(freqs_hz)] (`MicrophoneShapes`); rows not
    chosen (1 - `probability`) stay flat."""
    power = MicrophoneShapes.draw(n_rows, rng, sample_rate_hz=sample_rate_hz).powers(freqs_hz)
    power[torch.rand(n_rows, generator=rng) >= probability] = 1.0
    return power


def noise_bank(n_samples: int, rng: torch.Generator) -> Tensor:
    """Coloured noises [len(NOISE_EXPONENTS), 4 x `n_samples`], unit RMS, from white to brown:
    made once, then room tone is cut from them (drawing fresh noise every batch costs more
    than the rest of the augmentation)."""
    n = 4 * n_samples
    freqs = torch.fft.rfftfreq(n)
    freqs[0] = freqs[1]
    exponents = torch.tensor(NOISE_EXPONENTS)[:, None]
    white = torch.fft.rfft(torch.randn((len(NOISE_EXPONENTS), n), generator=rng))
    white[:, 0] = 0  # no DC offset
    noise = torch.fft.irfft(white / freqs**exponents, n)
    return noise / noise.square().mean(dim=1, keepdim=True).sqrt()


def room_tone(
    n_rows: int,
    rng: torch.Generator,
    *,
    bank: Tensor,
    n_samples: int,
    min_level_dbfs: float,
    max_level_dbfs: float,
) -> Tensor:
    """Coloured noise cut from `bank` at a random RMS level: a quiet room, or a microphone's
    own hiss."""
    colours = torch.randint(len(bank), (n_rows,), generator=rng).tolist()
    offsets = torch.rand(n_rows, generator=rng).tolist()
    levels = (10.0 ** (uniform(min_level_dbfs, max_level_dbfs, (n_rows,), rng) / 20.0)).tolist()
    tone = torch.empty(n_rows, n_samples)
    for row, (colour, offset, level) in enumerate(zip(colours, offsets, levels, strict=True)):
        stretch = random_stretch(bank[colour], n_samples, offset=offset)
        rms = float(torch.linalg.vector_norm(stretch)) / math.sqrt(n_samples)
        torch.mul(stretch, level / rms, out=tone[row])
    return tone


@dataclass(frozen=True)
class AugmentedBatch:
    """What the network is fed: the waveforms [n, samples], and the power response [n, bins]
    of each one's microphone at the front end's spectrum bins (`power_gain` of the models)."""

    waveform: Tensor
    power_response: Tensor


def microphone(
    batch: Tensor,
    rng: torch.Generator,
    *,
    config: AugmentConfig,
    bank: Tensor,
    response_freqs_hz: Tensor,
) -> AugmentedBatch:
    """A random microphone: the sound at a random gain plus its own hiss, clipped at full
    scale, and its frequency response at `response_freqs_hz`. The response is applied by the
    front end to each frame's spectrum, hiss and all, as a phone's band-limits its recording:
    the same log-mel as filtering the waveform, for the price of a multiply."""
    n_rows, n_samples = batch.shape
    power_response = microphone_power_responses(
        n_rows,
        response_freqs_hz,
        rng,
        sample_rate_hz=config.sample_rate_hz,
        probability=config.band_limit_probability,
    )
    gain = 10.0 ** (uniform(config.min_gain_db, config.max_gain_db, (n_rows, 1), rng) / 20.0)
    hiss = room_tone(
        n_rows,
        rng,
        bank=bank,
        n_samples=n_samples,
        min_level_dbfs=config.min_room_tone_dbfs,
        max_level_dbfs=config.max_room_tone_dbfs,
    )
    waveform = torch.addcmul(hiss, batch, gain).clamp_(-1.0, 1.0)
    return AugmentedBatch(waveform=waveform, power_response=power_response)


def augment_batch(
    batch: Tensor,
    is_silence: Tensor,
    rng: torch.Generator,
    *,
    config: AugmentConfig,
    backgrounds: list[Tensor],
    bank: Tensor,
    response_freqs_hz: Tensor,
) -> AugmentedBatch:
    """Every augmentation in order; `_silence_` rows always get background and room tone.
    `bank` is a `noise_bank` of at least the batch's length; `response_freqs_hz` are the
    frequencies of the front end's spectrum bins."""
    out = time_shift(batch, rng, max_shift=config.time_shift_samples)
    out = reverberate(
        out, rng, sample_rate_hz=config.sample_rate_hz, probability=config.reverb_probability
    )
    out = mix_background(
        out,
        rng,
        backgrounds=backgrounds,
        frequency=config.background_frequency,
        max_volume=config.background_volume,
        always=is_silence,
    )
    return microphone(out, rng, config=config, bank=bank, response_freqs_hz=response_freqs_hz)
