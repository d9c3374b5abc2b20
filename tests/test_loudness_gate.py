"""The loudness gate: quiet next to the crying band's floor, never before the floor is known."""

from __future__ import annotations

import numpy as np

from miserymeter.frontend.loudness_gate import LoudnessGate

RATE_HZ = 16_000


def _room(seconds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`seconds` hops of a quiet room's hiss at about -50 dBFS."""
    return [0.003 * rng.normal(size=RATE_HZ) for _ in range(seconds)]


def _wail(rng: np.random.Generator) -> np.ndarray:
    """One second of a 450 Hz wail 30 dB above the hiss, over it."""
    t = np.arange(RATE_HZ) / RATE_HZ
    return 0.1 * np.sin(2 * np.pi * 450 * t) + 0.003 * rng.normal(size=RATE_HZ)


def test_the_room_is_quiet_and_a_cry_is_not() -> None:
    rng = np.random.default_rng(0)
    gate = LoudnessGate(gate_db=3.0, sample_rate_hz=RATE_HZ, hop_s=1.0)
    for hop in _room(20, rng):
        gate.add_hop(hop)
    assert gate.is_quiet(np.concatenate(_room(2, rng)))
    assert not gate.is_quiet(np.concatenate([_room(1, rng)[0], _wail(rng)]))


def test_nothing_is_quiet_before_the_floor_is_known_or_without_a_gate() -> None:
    rng = np.random.default_rng(1)
    early = LoudnessGate(gate_db=3.0, sample_rate_hz=RATE_HZ, hop_s=1.0)
    ungated = LoudnessGate(gate_db=None, sample_rate_hz=RATE_HZ, hop_s=1.0)
    for hop in _room(5, rng):
        early.add_hop(hop)
    for hop in _room(20, rng):
        ungated.add_hop(hop)
    quiet = np.concatenate(_room(2, rng))
    assert not early.is_quiet(quiet)
    assert not ungated.is_quiet(quiet)
