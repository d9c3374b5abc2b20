"""How many sounds other than crying a night brings: the chances for a false alarm.

A sound is a stretch of seconds the listener's loudness gate lets through to the model (at
least `gate_db` above the room's noise floor, the quietest second of the last half hour),
outside the night's episodes; stretches less than `merge_gap_s` apart are one sound, as the
detector would merge them into one episode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from miserymeter.frontend.noise_floor import NoiseFloor


def count_sounds(
    offsets_s: Sequence[float] | np.ndarray,
    levels_dbfs: Sequence[float] | np.ndarray,
    *,
    episodes_s: Sequence[tuple[float, float]],
    gate_db: float,
    merge_gap_s: float,
    hop_s: float = 1.0,
) -> int:
    """The sounds among a night's seconds (`offsets_s` from any origin, in order, with their
    levels) outside `episodes_s` (start, end pairs of the same origin)."""
    floor = NoiseFloor(hop_s=hop_s)
    loud: list[float] = []
    for offset_s, level_dbfs in zip(offsets_s, levels_dbfs, strict=True):
        floor_dbfs = floor.floor_dbfs  # of the seconds before this one, as the gate sees it
        floor.add(level_dbfs)
        if floor_dbfs is not None and level_dbfs >= floor_dbfs + gate_db:
            loud.append(offset_s)
    times_s = np.asarray(loud, float)
    for start_s, end_s in episodes_s:
        times_s = times_s[(times_s < start_s) | (times_s >= end_s)]
    if len(times_s) == 0:
        return 0
    return 1 + int(np.sum(np.diff(times_s) - hop_s >= merge_gap_s))
