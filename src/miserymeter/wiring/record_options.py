"""`record`'s options, typed: one field per command-line option (the config file's [record]
keys), checked before the microphone opens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from miserymeter.constants import (
    DEFAULT_CAPTURE_SAMPLE_RATE_HZ,
    DEFAULT_FLAT_S,
    DEFAULT_NO_FRAMES_S,
    DEFAULT_SEGMENT_S,
)
from miserymeter.errors import ConfigError
from miserymeter.wiring.option_checks import require_microphone_rate


@dataclass(frozen=True)
class RecordOptions:
    """Everything `miserymeter record` can be told (see its --help for each option)."""

    out: Path | None = None
    device: str | None = None
    sample_rate: int = DEFAULT_CAPTURE_SAMPLE_RATE_HZ
    channels: int = 1
    segment_s: float = DEFAULT_SEGMENT_S
    keep_days: float | None = None
    max_gb: float | None = None
    duration_s: float | None = None
    no_frames_s: float = DEFAULT_NO_FRAMES_S
    flat_s: float = DEFAULT_FLAT_S

    def __post_init__(self) -> None:
        if self.channels <= 0:
            raise ConfigError(f"--channels must be positive, not {self.channels}")
        require_microphone_rate(self.sample_rate)
        positive = {
            "--segment_s": self.segment_s,
            "--no_frames_s": self.no_frames_s,
            "--flat_s": self.flat_s,
            "--keep-days": self.keep_days,
            "--max-gb": self.max_gb,
            "--duration_s": self.duration_s,
        }
        for name, number in positive.items():
            if number is not None and number <= 0:
                raise ConfigError(f"{name} must be positive, not {number}")
