"""Guessing the dashboard's password is slow: after a few wrong passwords from one address,
that address waits before it may try again, twice as long after each further miss."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_ATTEMPTS = 5
FIRST_WAIT_S = 30.0
LONGEST_WAIT_S = 15 * 60.0
MAX_ADDRESSES = 10_000  # forgotten oldest first: memory stays bounded under a flood


@dataclass
class _Misses:
    count: int
    blocked_until: float


class LoginThrottle:
    """Wrong passwords per client address, and how long each must wait before its next try."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._misses: dict[str, _Misses] = {}
        self._lock = threading.Lock()

    def wait_s(self, address: str) -> float:
        """Seconds `address` must still wait before a try counts (0: it may try now)."""
        with self._lock:
            misses = self._misses.get(address)
            return 0.0 if misses is None else max(0.0, misses.blocked_until - self._clock())

    def missed(self, address: str) -> None:
        """`address` gave a wrong password."""
        with self._lock:
            misses = self._misses.pop(address, None) or _Misses(0, 0.0)
            misses.count += 1
            if misses.count >= FREE_ATTEMPTS:
                extra = misses.count - FREE_ATTEMPTS
                wait_s = min(FIRST_WAIT_S * 2.0 ** min(extra, 32), LONGEST_WAIT_S)
                misses.blocked_until = self._clock() + wait_s
            self._misses[address] = misses  # the most recent last
            while len(self._misses) > MAX_ADDRESSES:
                del self._misses[next(iter(self._misses))]

    def succeeded(self, address: str) -> None:
        """`address` gave the password: its misses are forgotten."""
        with self._lock:
            self._misses.pop(address, None)
