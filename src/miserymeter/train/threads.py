"""Let training's idle threads sleep, so a busy laptop does not slow it several times over.

PyTorch's CPU operators run on OpenMP threads that, by default, spin while they wait for each
other. When another program takes a core, the thread that was descheduled holds up the rest,
which keep spinning on the cores they share with it. On 2 cores beside 2 busy processes, 150
steps took 85 s with spinning threads and 36 s with sleeping ones; with the machine to itself,
20 s and 24 s (`make bench-train-load`, 2026-12-07).
"""

from __future__ import annotations

import os

OPENMP_WAIT_POLICY = "OMP_WAIT_POLICY"


def let_waiting_threads_sleep() -> None:
    """Ask OpenMP for sleeping, not spinning, waiting threads, unless the user chose a policy.
    OpenMP reads it when PyTorch is first imported: call this before that."""
    os.environ.setdefault(OPENMP_WAIT_POLICY, "PASSIVE")
