"""The training run's settings: the tutorial's flags, parsed and checked once."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from miserymeter.errors import ConfigError
from miserymeter.prepare.split import check_split_percentages

Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class TrainConfig:
    """Every `miserymeter train` flag, with the tutorial's names and meanings."""

    data_dir: Path
    train_dir: Path
    wanted_words: tuple[str, ...]
    sample_rate: int
    clip_duration_ms: int
    window_size_ms: float
    window_stride_ms: float
    feature_bin_count: int
    min_frequency_hz: float
    max_frequency_hz: float
    how_many_training_steps: tuple[int, ...]
    learning_rate: tuple[float, ...]
    batch_size: int
    validation_percentage: float
    testing_percentage: float
    silence_percentage: float
    unknown_percentage: float
    unknown_mix_frequency: float
    background_frequency: float
    background_volume: float
    time_shift_ms: float
    eval_step_interval: int
    save_step_interval: int
    start_checkpoint: Path | None
    model_architecture: str
    seed: int
    ema_decay: float = 0.0

    @property
    def total_steps(self) -> int:
        return sum(self.how_many_training_steps)

    def learning_rate_at(self, step: int) -> float:
        """The rate of the phase that `step` (1-based) falls in."""
        boundary = 0
        for steps, rate in zip(self.how_many_training_steps, self.learning_rate, strict=True):
            boundary += steps
            if step <= boundary:
                return rate
        return self.learning_rate[-1]


def parse_positive_list(
    text: str, *, flag: str, kind: Callable[[str], Number], example: str
) -> tuple[Number, ...]:
    """Comma-separated positive numbers of one kind, e.g. `1000,200` for `int`."""
    try:
        values = tuple(kind(v) for v in text.split(","))
    except ValueError as e:
        raise ConfigError(
            f"{flag}={text!r}: expected comma-separated numbers, e.g. {example}"
        ) from e
    if not values or not all(v > 0 and math.isfinite(v) for v in values):
        raise ConfigError(f"{flag}={text!r}: every value must be positive")
    return values


def check(config: TrainConfig) -> None:
    """Reject inconsistent settings before any work is done."""
    if len(config.how_many_training_steps) != len(config.learning_rate):
        n_phases, n_rates = len(config.how_many_training_steps), len(config.learning_rate)
        raise ConfigError(
            f"--how_many_training_steps has {n_phases} phase{'' if n_phases == 1 else 's'} but "
            f"--learning_rate has {n_rates} rate{'' if n_rates == 1 else 's'}: give one rate "
            "per phase (e.g. --how_many_training_steps=1000,200 --learning_rate=0.001,0.0001)"
        )
    if config.clip_duration_ms < 1000:
        raise ConfigError(f"--clip_duration_ms={config.clip_duration_ms}: use at least 1000 ms")
    if config.sample_rate < 4000:
        raise ConfigError(f"--sample_rate={config.sample_rate}: use at least 4000 Hz")
    check_split_percentages(
        validation_percentage=config.validation_percentage,
        testing_percentage=config.testing_percentage,
    )
    if not 0.0 <= config.unknown_mix_frequency <= 1.0:
        raise ConfigError(
            f"--unknown_mix_frequency={config.unknown_mix_frequency}: use a fraction in [0, 1]"
        )
    if not 0.0 <= config.ema_decay < 1.0:
        raise ConfigError(
            f"--ema_decay={config.ema_decay}: use 0 (off) or a fraction below 1, e.g. 0.995"
        )
    for name in (
        "batch_size",
        "eval_step_interval",
        "save_step_interval",
        "window_size_ms",
        "window_stride_ms",
        "feature_bin_count",
    ):
        if not _finite(getattr(config, name)) > 0:
            raise ConfigError(f"--{name} must be positive")
    for name in (
        "silence_percentage",
        "unknown_percentage",
        "background_volume",
        "time_shift_ms",
    ):
        if not _finite(getattr(config, name)) >= 0:
            raise ConfigError(f"--{name}={getattr(config, name)}: must be 0 or more")
    if not 0.0 <= config.background_frequency <= 1.0:
        raise ConfigError(
            f"--background_frequency={config.background_frequency}: use a fraction in [0, 1]"
        )
    duplicates = {w for w in config.wanted_words if config.wanted_words.count(w) > 1}
    if duplicates:
        raise ConfigError(f"--wanted_words names {', '.join(sorted(duplicates))} twice")


def _finite(value: float) -> float:
    """`value`, or NaN (which fails every comparison) where it is infinite."""
    return value if math.isfinite(value) else math.nan
