"""`listen`'s options, typed: one field per command-line option (the config file's [listen]
keys), each default defined once, checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from miserymeter.constants import (
    DEFAULT_DASHBOARD_HOST,
    DEFAULT_DASHBOARD_PORT,
    DEFAULT_FLAT_S,
    DEFAULT_GATE_DB,
    DEFAULT_HOP_S,
    DEFAULT_MAX_LAG_S,
    DEFAULT_NO_FRAMES_S,
    DEFAULT_ROOM,
)
from miserymeter.detect.settings import DETECTORS, DetectorSettings
from miserymeter.errors import ConfigError
from miserymeter.rooms import require_room_name
from miserymeter.wiring.option_checks import require_microphone_rate
from miserymeter.written_time import parse_written_time

DETECTION = DetectorSettings()
DEFAULT_ROLL_S = 5.0


@dataclass(frozen=True)
class ListenOptions:
    """Everything `miserymeter listen` can be told (see its --help for each option)."""

    input: str | None = None
    start: str | None = None
    device: str | None = None
    sample_rate: int | None = None
    channels: int = 1
    model: Path | None = None
    label: str | None = None
    room: str = DEFAULT_ROOM
    detector: str = "model"
    hop_s: float = DEFAULT_HOP_S
    on_probability: float = DETECTION.on_probability
    off_probability: float = DETECTION.off_probability
    smoothing_s: float = DETECTION.smoothing_s
    min_duration_s: float = DETECTION.min_duration_s
    merge_gap_s: float = DETECTION.merge_gap_s
    rms_threshold_dbfs: float = DETECTION.rms_threshold_dbfs
    gate_db: float = DEFAULT_GATE_DB
    no_gate: bool = False
    max_lag_s: float = DEFAULT_MAX_LAG_S
    db: str | None = None
    no_db: bool = False
    clips: Path | None = None
    no_clips: bool = False
    pre_roll_s: float = DEFAULT_ROLL_S
    post_roll_s: float = DEFAULT_ROLL_S
    duration_s: float | None = None
    as_json: bool = False
    no_frames_s: float = DEFAULT_NO_FRAMES_S
    flat_s: float = DEFAULT_FLAT_S
    webhook: tuple[str, ...] = ()
    dashboard_url: str | None = None
    delivery_retry_s: float = 1.0
    delivery_retry_max_s: float = 300.0
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_DASHBOARD_HOST  # loopback
    serve: bool = False
    serve_host: str = DEFAULT_DASHBOARD_HOST
    serve_port: int = DEFAULT_DASHBOARD_PORT

    def __post_init__(self) -> None:
        require_room_name(self.room)
        if self.detector not in DETECTORS:
            raise ConfigError(f"--detector {self.detector!r}: choose one of {', '.join(DETECTORS)}")
        for name in _POSITIVE:
            if not getattr(self, name) > 0:  # NaN too
                raise ConfigError(f"--{name} must be positive, not {getattr(self, name):g}")
        for name in _POSITIVE_OR_UNSET:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"--{name} must be positive, not {value:g}")
        if self.sample_rate is not None:
            require_microphone_rate(self.sample_rate)
        if self.start is not None:
            if self.input in (None, "-"):
                raise ConfigError(
                    "--start dates a recording replayed with --input FILE; the microphone "
                    "and stdin are heard as they come"
                )
            self.start_time  # noqa: B018 (checks it now)
        for name in ("pre_roll_s", "post_roll_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name} must be 0 or more, not {getattr(self, name)}")
        self.detection  # noqa: B018 (checks the thresholds now, before anything starts)

    @property
    def detection(self) -> DetectorSettings:
        """The detector's settings."""
        return DetectorSettings(**{f.name: getattr(self, f.name) for f in fields(DetectorSettings)})

    @property
    def start_time(self) -> datetime | None:
        """--start as an aware time (one without an offset is the machine's local time)."""
        return None if self.start is None else parse_written_time(self.start, where="--start")

    @property
    def listener_gate_db(self) -> float | None:
        """The loudness gate, None with --no-gate."""
        return None if self.no_gate else self.gate_db


_POSITIVE = (
    "hop_s",
    "max_lag_s",
    "no_frames_s",
    "flat_s",
    "channels",
    "delivery_retry_s",
    "delivery_retry_max_s",
)
_POSITIVE_OR_UNSET = ("duration_s",)
