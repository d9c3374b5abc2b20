"""The quiet room: its noise floor and spread from the levels the listener stored, and what
they mean for listen's loudness gate (it skips the model within `gate_db` of the floor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from miserymeter.capture.level_check import TOO_QUIET_DBFS
from miserymeter.frontend.loudness import FLOOR_DBFS

# A quiet room that rises above its gate more often than this was not quiet.
MOST_SHARE_ABOVE_GATE = 0.05


@dataclass(frozen=True)
class QuietRoom:
    """Levels of one period: the floor (the quietest second, as listen's gate takes it), the
    median and the 95th percentile; `gate_dbfs` is where the gate lets the model run, and
    `share_above_gate` the share of seconds at or above it (None without a gate)."""

    n_seconds: int
    floor_dbfs: float | None
    median_dbfs: float | None
    p95_dbfs: float | None
    gate_db: float | None
    gate_dbfs: float | None
    share_above_gate: float | None
    ok: bool
    verdict: str


def measure_quiet_room(
    levels_dbfs: Sequence[float] | np.ndarray, *, gate_db: float | None
) -> QuietRoom:
    """The floor, spread and verdict of a period's per-second levels (silent seconds, at the
    digital floor, are left out of the floor as the listener leaves them out)."""
    levels = np.asarray(levels_dbfs, float)
    heard = levels[levels > FLOOR_DBFS]
    if len(heard) == 0:
        verdict = (
            "nothing was stored in this period: is the listener running?"
            if len(levels) == 0
            else "flat digital silence: the microphone is muted or not connected"
        )
        return QuietRoom(len(levels), None, None, None, gate_db, None, None, False, verdict)
    floor = float(heard.min())
    p95 = float(np.percentile(heard, 95))
    gate_dbfs = None if gate_db is None else floor + gate_db
    share = None if gate_dbfs is None else float(np.mean(levels >= gate_dbfs))
    ok, verdict = _verdict(floor, p95, gate_db=gate_db, share_above_gate=share)
    return QuietRoom(
        n_seconds=len(levels),
        floor_dbfs=round(floor, 1),
        median_dbfs=round(float(np.median(heard)), 1),
        p95_dbfs=round(p95, 1),
        gate_db=gate_db,
        gate_dbfs=None if gate_dbfs is None else round(gate_dbfs, 1),
        share_above_gate=None if share is None else round(share, 3),
        ok=ok,
        verdict=verdict,
    )


def _verdict(
    floor_dbfs: float, p95_dbfs: float, *, gate_db: float | None, share_above_gate: float | None
) -> tuple[bool, str]:
    if floor_dbfs < TOO_QUIET_DBFS:
        return False, (
            f"very quiet ({floor_dbfs:.0f} dBFS): raise the capture gain (alsamixer, F4) so a "
            "cry is heard well above the hiss"
        )
    if gate_db is None or share_above_gate is None:
        return True, (
            f"a floor of {floor_dbfs:.0f} dBFS; without a gate (no_gate) the model runs on "
            "every window"
        )
    if share_above_gate > MOST_SHARE_ABOVE_GATE:
        return False, (
            f"not steady: {100 * share_above_gate:.0f} % of the seconds were {gate_db:g} dB or "
            f"more above the floor (95 % below {p95_dbfs:.0f} dBFS), and the model ran for them; "
            "measure again while the room is quiet (a fan that comes and goes does this too)"
        )
    return True, (
        f"a steady quiet room: listen skips the model until a sound rises {gate_db:g} dB above "
        f"the floor, to {floor_dbfs + gate_db:.0f} dBFS"
    )
