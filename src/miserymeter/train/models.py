"""The networks: log-mel front end inside the model, the default `tcresnet`, `cnn2d`, and the
tutorial's `conv`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from miserymeter.constants import LOG_MEL_FLOOR
from miserymeter.errors import ConfigError
from miserymeter.frontend.melspec import FrontEndConfig, dft_basis, mel_filterbank, used_bins


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a network; stored inside every checkpoint."""

    architecture: str
    labels: tuple[str, ...]
    clip_duration_ms: int
    frontend: FrontEndConfig
    dropout: float = 0.2

    @property
    def n_window(self) -> int:
        return self.frontend.sample_rate_hz * self.clip_duration_ms // 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(
            **{
                **data,
                "labels": tuple(data["labels"]),
                "frontend": FrontEndConfig(**data["frontend"]),
            }
        )


class LogMel(nn.Module):
    """Waveform [batch, samples] → log-mel [batch, 1, n_mels, frames].

    Training computes the spectrum with torch.stft (an FFT: the fastest in PyTorch). For export,
    `as_convolution` computes the same bins as a strided convolution with DFT kernels, and only
    the bins the mel filters read: ONNX Runtime's STFT operator is 3 times slower than that.
    """

    def __init__(self, config: FrontEndConfig) -> None:
        super().__init__()
        self.config = config
        self.as_convolution = False
        filterbank = mel_filterbank(config)
        self.n_bins = used_bins(filterbank)
        self.window: torch.Tensor
        self.mel_matrix: torch.Tensor
        self.dft_kernels: torch.Tensor
        self.register_buffer("window", torch.hann_window(config.win_length))
        self.register_buffer("mel_matrix", torch.from_numpy(filterbank))
        self.register_buffer(
            "dft_kernels",
            torch.from_numpy(dft_basis(config, self.n_bins))[:, None, :],
            persistent=False,
        )

    def forward(
        self, waveform: torch.Tensor, power_gain: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`power_gain` [batch, used bins], if given, scales each row's power spectrum: how
        training applies a random microphone's frequency response (`augment.microphone`)."""
        power = (
            self._power_by_convolution(waveform) if self.as_convolution else self._power(waveform)
        )
        if power_gain is not None:
            power = power * power_gain[:, None, :]
        log_mel = torch.log(torch.matmul(power, self.mel_matrix[: self.n_bins]) + LOG_MEL_FLOOR)
        return log_mel.transpose(1, 2).unsqueeze(1)

    def _power(self, waveform: torch.Tensor) -> torch.Tensor:
        """|X|^2 [batch, frames, used bins] from torch.stft."""
        spectrum = torch.stft(
            waveform,
            n_fft=self.config.n_fft,
            hop_length=self.config.hop_length,
            win_length=self.config.win_length,
            window=self.window,
            center=False,
            return_complex=True,
        )
        used = spectrum[:, : self.n_bins]  # the bins above are never read
        # re^2 + im^2: cheaper than abs() of complex numbers
        return (used.real.square() + used.imag.square()).transpose(1, 2)

    def _power_by_convolution(self, waveform: torch.Tensor) -> torch.Tensor:
        """|X|^2 [batch, frames, used bins], each frame's spectrum as dot products with kernels."""
        parts = F.conv1d(waveform.unsqueeze(1), self.dft_kernels, stride=self.config.hop_length)
        real, imaginary = parts.chunk(2, dim=1)
        return (real.square() + imaginary.square()).transpose(1, 2)


def convolutional_front_ends(model: nn.Module) -> nn.Module:
    """`model` with every LogMel computing its spectrum as a convolution (for export)."""
    for module in model.modules():
        if isinstance(module, LogMel):
            module.as_convolution = True
    return model


class SpecAugment(nn.Module):
    """Masks random mel bands and time spans while training; does nothing in eval mode."""

    def __init__(
        self, *, n_masks: int = 2, max_mel_fraction: float = 0.15, max_time_fraction: float = 0.1
    ) -> None:
        super().__init__()
        self.n_masks = n_masks
        self.max_mel_fraction = max_mel_fraction
        self.max_time_fraction = max_time_fraction

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return features
        for axis, fraction in ((2, self.max_mel_fraction), (3, self.max_time_fraction)):
            for _ in range(self.n_masks):
                features = _mask_axis(features, axis=axis, max_fraction=fraction)
        return features


def _mask_axis(features: torch.Tensor, *, axis: int, max_fraction: float) -> torch.Tensor:
    size = features.shape[axis]
    batch = features.shape[0]
    widths = (torch.rand(batch) * max_fraction * size).long()
    starts = (torch.rand(batch) * (size - widths)).long()
    positions = torch.arange(size)
    masked = (positions >= starts[:, None]) & (positions < (starts + widths)[:, None])
    shape = [batch, 1, 1, 1]
    shape[axis] = size
    mean = features.mean(dim=(1, 2, 3), keepdim=True)
    return torch.where(masked.view(shape), mean, features)


class TemporalResidualBlock(nn.Module):
    """Two 1-D convolutions over time with a (strided) shortcut, as in TC-ResNet."""

    def __init__(
        self, in_channels: int, out_channels: int, *, stride: int, kernel_size: int = 9
    ) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.conv1 = nn.Conv1d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.norm1 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, padding=padding, bias=False)
        self.norm2 = nn.BatchNorm1d(out_channels)
        self.shortcut = nn.Sequential(
            nn.Conv1d(in_channels, out_channels, 1, stride=stride, bias=False),
            nn.BatchNorm1d(out_channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class TCResNet(nn.Module):
    """Temporal convolutions with mel bins as channels (TC-ResNet8), pooled over time.

    Cheap on a CPU, and fully convolutional: any window of at least 1 s is accepted.
    """

    def __init__(self, config: ModelConfig, *, widths: tuple[int, ...] = (24, 32, 48)) -> None:
        super().__init__()
        n_mels = config.frontend.n_mels
        self.features = LogMel(config.frontend)
        self.spec_augment = SpecAugment()
        self.input_norm = nn.BatchNorm1d(n_mels)
        self.stem = nn.Conv1d(n_mels, widths[0], 3, padding=1, bias=False)
        self.blocks = nn.Sequential(
            *(
                TemporalResidualBlock(c_in, c_out, stride=2)
                for c_in, c_out in zip((widths[0], *widths[:-1]), widths, strict=True)
            )
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(widths[-1], len(config.labels))

    def forward(
        self, waveform: torch.Tensor, power_gain: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = self.input_norm(self.spec_augment(self.features(waveform, power_gain)).squeeze(1))
        x = self.blocks(self.stem(x)).mean(dim=2)
        return self.classifier(self.dropout(x))


class ConvBlock2d(nn.Module):
    """3x3 convolution, batch norm, ReLU, then an optional 2x2 max-pool."""

    def __init__(self, in_channels: int, out_channels: int, *, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm(self.conv(x)))
        return F.max_pool2d(x, 2) if self.pool else x


class SmallCNN2d(nn.Module):
    """A small 2-D CNN over the log-mel image, pooled over frequency and time.

    Its filters slide along frequency too, so a cry's harmonics are the same pattern whatever
    the baby's pitch. Fully convolutional: any window of at least 1 s is accepted. Its weights
    and activations are stored channels-last, where PyTorch's CPU convolutions and their
    gradients run about 1.5 times faster than in the default layout for so few channels.
    """

    def __init__(self, config: ModelConfig, *, widths: tuple[int, ...] = (8, 16, 32, 32)) -> None:
        super().__init__()
        self.features = LogMel(config.frontend)
        self.spec_augment = SpecAugment()
        self.input_norm = nn.BatchNorm2d(1)
        self.blocks = nn.Sequential(
            *(
                ConvBlock2d(c_in, c_out, pool=k < len(widths) - 1)
                for k, (c_in, c_out) in enumerate(zip((1, *widths[:-1]), widths, strict=True))
            )
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(widths[-1], len(config.labels))
        self.blocks.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def forward(
        self, waveform: torch.Tensor, power_gain: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = self.input_norm(self.spec_augment(self.features(waveform, power_gain)))
        x = self.blocks(x.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3))
        return self.classifier(self.dropout(x))


class TutorialConv(nn.Module):
    """The tutorial's `conv` (two convolutions, max-pool, fully connected), with 32 filters.

    Its dense layer needs a fixed number of frames: windows are cropped or zero-padded to the
    clip duration, as the tutorial does with its inputs.
    """

    def __init__(self, config: ModelConfig, *, channels: int = 32) -> None:
        super().__init__()
        self.n_window = config.n_window
        self.features = LogMel(config.frontend)
        self.spec_augment = SpecAugment()
        self.input_norm = nn.BatchNorm2d(1)
        self.conv1 = nn.Conv2d(1, channels, (8, 20))
        self.conv2 = nn.Conv2d(channels, channels, (4, 10))
        self.dropout = nn.Dropout(config.dropout)
        n_frames = config.frontend.n_frames(config.n_window)
        n_flat = channels * (config.frontend.n_mels // 2) * (n_frames // 2)
        self.classifier = nn.Linear(n_flat, len(config.labels))

    def forward(
        self, waveform: torch.Tensor, power_gain: torch.Tensor | None = None
    ) -> torch.Tensor:
        waveform = F.pad(waveform, (0, self.n_window))[:, : self.n_window]
        x = self.input_norm(self.spec_augment(self.features(waveform, power_gain)))
        x = F.max_pool2d(self.dropout(F.relu(self.conv1(_pad_same(x, (8, 20))))), 2)
        x = self.dropout(F.relu(self.conv2(_pad_same(x, (4, 10)))))
        return self.classifier(x.flatten(1))


def _pad_same(x: torch.Tensor, kernel: tuple[int, int]) -> torch.Tensor:
    """Zero-pad [.., mels, frames] so a convolution keeps its size, as TensorFlow's 'SAME'."""
    (mel_total, time_total) = (kernel[0] - 1, kernel[1] - 1)
    return F.pad(
        x,
        (time_total // 2, time_total - time_total // 2, mel_total // 2, mel_total - mel_total // 2),
    )


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "tcresnet": TCResNet,
    "cnn2d": SmallCNN2d,
    "conv": TutorialConv,
}


def build_model(config: ModelConfig) -> nn.Module:
    """A fresh network for `config`."""
    if config.architecture not in ARCHITECTURES:
        raise ConfigError(
            f"unknown --model_architecture '{config.architecture}'; "
            f"choose one of: {', '.join(ARCHITECTURES)}"
        )
    return ARCHITECTURES[config.architecture](config)


class ProbabilityModel(nn.Module):
    """What gets exported: waveform [batch, samples] → softmax probabilities [batch, labels]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(waveform), dim=-1)
