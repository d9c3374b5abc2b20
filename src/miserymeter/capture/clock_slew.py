"""Keep sample-count time near the wall clock when a microphone's clock drifts.

A second's time is its run's start plus its sample count: exact on a replayed file, but a
USB microphone's clock is off by up to 100 ppm, some 9 s a day, minutes a month, until the
dashboard would call a listening room offline. Each hop, the listener tells how far the wall
clock is past the hop's end; the least of the last minute's readings is the clock's own error
(the rest is latency). Outside a band of tolerance the correction moves toward it by at most
a few milliseconds a hop, so seconds stay in order and never collide.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 60.0
LATE_TOLERANCE_S = 1.0  # stamps may trail the wall clock by this much (latency included)
EARLY_TOLERANCE_S = 0.25  # ...or lead it by this much (audio cannot come from the future)
MAX_STEP_FRACTION = 0.01  # the correction moves at most this fraction of a hop per hop


class ClockSlew:
    """The correction to add to sample-count time, fed how late each hop is seen."""

    def __init__(self, *, hop_s: float) -> None:
        self.correction_s = 0.0
        self._max_step_s = MAX_STEP_FRACTION * hop_s
        self._n_readings = max(1, round(WINDOW_S / hop_s))
        self._lateness_s: deque[float] = deque(maxlen=self._n_readings)
        self._slewing = False

    def observe(self, lateness_s: float) -> float:
        """`lateness_s`: the wall clock minus the hop's uncorrected end time, less any audio
        known to be waiting; returns the correction for this hop on."""
        self._lateness_s.append(lateness_s)
        if len(self._lateness_s) < self._n_readings:
            return self.correction_s
        error_s = min(self._lateness_s) - self.correction_s
        if error_s > LATE_TOLERANCE_S or error_s < -EARLY_TOLERANCE_S:
            self._slewing = True
        if self._slewing:  # back to no error, not just into the band: the band is for noise
            self.correction_s += max(-self._max_step_s, min(self._max_step_s, error_s))
            self._slewing = abs(error_s) > self._max_step_s
        return self.correction_s
