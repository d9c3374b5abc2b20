"""The detector's knobs; the defaults were tuned on six generated validation nights.

`scripts/tune_detector.py` replays the detector over a grid of settings and keeps those that
find 95 % of the crying episodes with at most 0.5 false alarms per hour, then takes the one
that tells a parent soonest: on the six 1-hour validation nights (cries among laughter,
babble, cats, music and speech, on noise beds at -40 to -30 dBFS) these find 75 of 77
episodes with 0.5 false alarms per hour and a median latency of 2.9 s (the former defaults,
on 0.5 / off 0.5 / minimum 3 s: 73 of 77, 0.7 per hour, 5.4 s). docs/listening.md reports them
on separate test nights.
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

    on_probability: float = 0.7
    off_probability: float = 0.7
    smoothing_s: float = 2.0
    min_duration_s: float = 2.0
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
