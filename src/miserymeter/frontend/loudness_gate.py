"""The listener's loudness gate: a window no louder than the room's floor needs no model.

A window whose level in the crying band (`CRY_BAND_HZ`) is within `gate_db` of that band's
noise floor (`NoiseFloor` over every hop) is quiet: the listener skips the model for it unless
an episode is open. `scripts/tune_detector.py` replays the same gate.
"""

from __future__ import annotations

import numpy as np

from miserymeter.constants import CRY_BAND_HZ
from miserymeter.frontend.loudness import band_dbfs
from miserymeter.frontend.noise_floor import NoiseFloor


class LoudnessGate:
    """The crying band's noise floor, and whether a window stands above it by `gate_db`
    (None: no gate, no window is quiet)."""

    def __init__(self, *, gate_db: float | None, sample_rate_hz: int, hop_s: float) -> None:
        self.gate_db = gate_db
        self._rate_hz = sample_rate_hz
        self._floor = NoiseFloor(hop_s=hop_s)

    def add_hop(self, hop: np.ndarray) -> None:
        """Account for one hop of audio in the floor."""
        self._floor.add(self._band_dbfs(hop))

    def is_quiet(self, window: np.ndarray) -> bool:
        """Whether `window` is within `gate_db` of the floor (never before the floor is known)."""
        floor_dbfs = self._floor.floor_dbfs
        if self.gate_db is None or floor_dbfs is None:
            return False
        return self._band_dbfs(window) < floor_dbfs + self.gate_db

    def _band_dbfs(self, samples: np.ndarray) -> float:
        return band_dbfs(samples, sample_rate_hz=self._rate_hz, band_hz=CRY_BAND_HZ)
