"""Stopping a command on Ctrl-C or SIGTERM: a long-running one (`listen`, `record`) winds down,
a one-shot one (`train`, `export`, `slice`...) stops as on Ctrl-C, leaving no half-written file."""

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


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (a shutdown, `kill`, a service manager) raise KeyboardInterrupt in the main
    thread, as Ctrl-C does, so a file being written is removed and a run saves its checkpoint,
    instead of the process dying mid-write."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
