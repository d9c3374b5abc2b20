"""Checks that the commands' typed options share."""

from __future__ import annotations

from miserymeter.constants import MIN_SAMPLE_RATE_HZ
from miserymeter.errors import ConfigError


def require_microphone_rate(sample_rate_hz: int) -> None:
    """A ConfigError for a --sample_rate no microphone records at (0, 1 ...)."""
    if sample_rate_hz < MIN_SAMPLE_RATE_HZ:
        raise ConfigError(
            f"--sample_rate {sample_rate_hz}: a microphone records at {MIN_SAMPLE_RATE_HZ} Hz "
            "or more (16000, 22050, 44100, 48000); pass the rate it records at"
        )
