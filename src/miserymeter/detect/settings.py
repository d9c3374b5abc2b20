"""The detector's knobs; the defaults were tuned on two generated validation nights.

`scripts/tune_detector.py` replays the detector over a grid of settings: these find every
crying episode of the validation nights with 1.5 false alarms per hour (the old guesses,
on 0.6 / off 0.35 / smoothing 3 s / minimum 3 s / merge 10 s, gave 5.5), for a median
latency of 4.6 s. The README reports them on separate test nights.
"""

from __future__ import annotations

from dataclasses import dataclass

from miserymeter.errors import ConfigError

DETECTORS = ("model", "rms")


@dataclass(frozen=True)
class DetectorSettings:
    """How scores become episodes.

    A hop's score is smoothed over the last `smoothing_s` seconds; an episode starts when the
    smoothed score reaches `on_probability` and lasts while it stays at or above
    `off_probability`. It is reported once it has lasted `min_duration_s`; two episodes less
    than `merge_gap_s` apart are one. The `rms` baseline counts a hop as crying when its
    loudness reaches `rms_threshold_dbfs`.
    """

    on_probability: float = 0.5
    off_probability: float = 0.5
    smoothing_s: float = 2.0
    min_duration_s: float = 3.0
    merge_gap_s: float = 30.0
    rms_threshold_dbfs: float = -35.0

    def __post_init__(self) -> None:
        if not 0.0 < self.off_probability <= self.on_probability <= 1.0:
            raise ConfigError(
                f"off_probability {self.off_probability} and on_probability "
                f"{self.on_probability}: need 0 < off <= on <= 1"
            )
        for name in ("smoothing_s", "min_duration_s", "merge_gap_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} {getattr(self, name)}: must be 0 or more")
