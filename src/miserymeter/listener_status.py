"""The listener's own health, once a minute: the CPU it uses and the windows it drops.

CPU use is process time (every thread's) over wall-clock time, in % of one core: what `top`
shows for the process. Both clocks are read in wall-clock time, not sample time, as the CPU
is spent in it. A run that replays a recording reads it as fast as the CPU allows, so it uses
a whole core where live listening uses a few %: it says so as it starts (`started_message`),
and the dashboard tells its CPU use apart by that (`is_replay`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from miserymeter.records import ListenerEvent, ListenerStatus

STATUS_EVERY_S = 60.0
STARTED = "started"
REPLAYING = "replaying "


def started_message(source_name: str, room: str, *, is_live: bool) -> str:
    """What a run says as it starts: what it listens to, and whether it replays a recording."""
    if is_live:
        return f"listening to {source_name} as room '{room}'"
    return f"{REPLAYING}{source_name} as room '{room}', as fast as the CPU allows"


def is_replay(started: ListenerEvent) -> bool:
    """Whether the run that said `started` replayed a recording rather than listened live."""
    return started.kind == STARTED and started.message.startswith(REPLAYING)


class StatusReporter:
    """Makes a `ListenerStatus` of `room` for each period of about `every_s` seconds."""

    def __init__(
        self,
        room: str,
        *,
        every_s: float = STATUS_EVERY_S,
        clock: Callable[[], datetime],
        wall_s: Callable[[], float] = time.monotonic,
        cpu_s: Callable[[], float] = time.process_time,
    ) -> None:
        self.room = room
        self.every_s = every_s
        self._clock = clock
        self._wall_s = wall_s
        self._cpu_s = cpu_s
        self._since = (wall_s(), cpu_s())
        self._n_dropped_told = 0

    @property
    def is_due(self) -> bool:
        """Whether a period has passed since the last status."""
        return self._wall_s() - self._since[0] >= self.every_s

    def status(self, *, n_dropped_total: int) -> ListenerStatus:
        """The status of the period since the last one (`n_dropped_total`: since the start)."""
        wall_s, cpu_s = self._wall_s(), self._cpu_s()
        period_s = wall_s - self._since[0]
        cpu_percent = 100.0 * (cpu_s - self._since[1]) / period_s if period_s > 0 else 0.0
        n_dropped = n_dropped_total - self._n_dropped_told
        self._since, self._n_dropped_told = (wall_s, cpu_s), n_dropped_total
        return ListenerStatus(
            self.room, self._clock(), round(period_s, 3), round(cpu_percent, 2), n_dropped
        )
