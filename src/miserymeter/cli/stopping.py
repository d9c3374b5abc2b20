"""Stopping a long-running command (`listen`, `record`) on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading


def set_on_stop_signals(stop: threading.Event) -> None:
    """Set `stop` on SIGINT or SIGTERM.

    Python runs the handler on the main thread, which may then be inside `stop.wait()` holding
    the event's (non-reentrant) lock: setting the event right there would deadlock the process,
    so a short-lived thread sets it once the lock is free.
    """

    def handler(_signum: int, _frame: object) -> None:
        threading.Thread(target=stop.set, name="stop-signal", daemon=True).start()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
