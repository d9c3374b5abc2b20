"""A courier per destination: takes the events of one room from the outbox to the destination.

The courier runs in a thread of its own, so a destination that is slow or down never holds up
listening. It sends the oldest pending entry first and the next only once that one was taken
or refused, so a destination gets a room's events in order. A destination that is down
(`DeliveryError`) is tried again after 1 s, 2 s, 4 s, then every 5 s for the first 10 minutes
of the outage, then doubling up to `Backoff.max_s`, forever, and at once whenever a new event
is due: its events wait in the store meanwhile, across restarts. An event it refuses for good
(`EventRejected`) is marked so in the outbox and the next one goes. An event sent while the
store cannot record it (a database restarting or locked) is not sent again: the courier
remembers it and forgets it in the outbox once the store answers (a restart in between sends
it twice: delivery is at least once). A destination of several parts (`SentInParts`: the push
URLs of [notify]) has each part that takes an event recorded in the outbox at once, so that
a retry, also by the next run, goes only to the parts that did not; a part that is down holds
back its own events only, the others go on getting theirs. New entries wake the
courier at once (`wake`). Outages are reported to `on_event(kind, message)` once each:
`delivery_failed` when one begins, `delivery_resumed` (with how many events went since) when the
backlog is delivered; `delivery_rejected` once per run of refused events. A destination that
keeps a connection up by itself (`KeepsConnected`: MQTT) wakes its courier when that
connection is lost or back: an outage begins when it is lost, also while no event is due (an
event that fails meanwhile is not reported again), and what waits is sent once it is back. At
start-up it has `CONNECT_WAIT_S` to connect before an outage begins; a run stopped meanwhile
stops at once, the events waiting (its summary says so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from miserymeter.delivery.destination import (
    DeliveryError,
    Destination,
    EventRejected,
    KeepsConnected,
    PartsFailed,
    Reachable,
    SentInParts,
)
from miserymeter.errors import StorageError
from miserymeter.store import Store
from miserymeter.store.outbox import PendingEntry

BATCH_SIZE = 100
CLOSE_TIMEOUT_S = 5.0
CONNECT_WAIT_S = 5.0  # a broker up answers in milliseconds; a slow TLS handshake in seconds

EventCallback = Callable[[str, str], None]


@dataclass(frozen=True)
class Backoff:
    """Waits between tries while a destination is down: `first_s`, doubling; at most
    `early_max_s` in the first `early_s` of an outage (a destination back after a restart or a
    short outage gets its events within seconds), then up to `max_s`."""

    first_s: float = 1.0
    max_s: float = 300.0
    early_max_s: float = 5.0
    early_s: float = 600.0

    def delay_s(self, n_failures: int, *, outage_s: float = 0.0) -> float:
        """The wait after the `n_failures`-th failure in a row (1, 2, ...), `outage_s` into
        the outage."""
        cap = min(self.early_max_s, self.max_s) if outage_s < self.early_s else self.max_s
        return float(min(self.first_s * 2 ** min(n_failures - 1, 64), cap))


class Courier:
    """Delivers the outbox entries of `room` for `destination`; see the module docstring."""

    def __init__(
        self,
        store: Store,
        destination: Destination,
        *,
        room: str,
        on_event: EventCallback,
        backoff: Backoff = Backoff(),
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ) -> None:
        self.store = store
        self.destination = destination
        self.room = room
        self.backoff = backoff
        self.close_timeout_s = close_timeout_s
        self.n_delivered = 0
        self.n_rejected = 0
        self.down_when_closed: str | None = None
        self._on_event = on_event
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._deadline_s = float("inf")
        self._n_failures = 0
        self._outage_since_s: float | None = None
        self._n_since_outage = 0
        self._rejecting = False
        self._sent_unforgotten: set[int] = set()  # outbox seqs sent, still in the outbox
        self._thread = threading.Thread(
            target=self._deliver_forever, name=f"courier {destination.name}", daemon=True
        )

    def start(self) -> None:
        """Check the destination, then deliver what waits (a previous run's events first)."""
        if isinstance(self.destination, KeepsConnected):
            self.destination.on_connection_change(self.wake)
        self._thread.start()

    def wake(self) -> None:
        """New entries were committed to the outbox."""
        self._wake.set()

    def close(self) -> None:
        """Deliver what waits for up to `close_timeout_s` (a failure ends it at once); the rest
        stays in the outbox for the next run."""
        self.begin_closing()
        self.finish_closing()

    def begin_closing(self) -> None:
        """Start `close` without waiting for it (to close several couriers at once)."""
        self._deadline_s = time.monotonic() + self.close_timeout_s
        self._closing.set()
        self._wake.set()

    def finish_closing(self) -> None:
        """Wait for the courier to stop (bounded), note why a destination that keeps a
        connection was down then (`down_when_closed`), and release the destination."""
        if self._thread.is_alive():
            self._thread.join(max(self._deadline_s - time.monotonic(), 0.0) + 1.0)
        if isinstance(self.destination, KeepsConnected):
            self.down_when_closed = self.destination.why_down()
        self.destination.close()

    def _deliver_forever(self) -> None:
        self._check()
        while not (self._closing.is_set() and time.monotonic() > self._deadline_s):
            if self._is_down() and self._closing.is_set():
                return  # what waits stays in the outbox (the run's summary says so)
            try:
                batch = self.store.pending(self.destination.name, room=self.room, limit=BATCH_SIZE)
            except StorageError:  # the store sink reports the database's troubles
                if not self._pause():
                    return
                continue
            if not batch:
                self._backlog_delivered()
                if self._closing.is_set():
                    return
                self._wake.wait()
                self._wake.clear()
                continue
            if not self._deliver(batch) and not self._pause():
                return

    def _check(self) -> None:
        if isinstance(self.destination, KeepsConnected):
            why = self._not_connected_within(self.destination, CONNECT_WAIT_S)
            if why is not None and not self._closing.is_set():
                self._outage_began(f"{why}; its events wait in the outbox until it can be reached")
            return
        if not isinstance(self.destination, Reachable):
            return
        try:
            self.destination.check()
        except DeliveryError as e:
            self._outage_began(f"{e}; its events wait in the outbox until it can be reached")

    def _not_connected_within(self, destination: KeepsConnected, timeout_s: float) -> str | None:
        """None once `destination` is connected; else why not, after `timeout_s` or as soon
        as the courier is closing."""
        deadline_s = time.monotonic() + timeout_s
        while (why := destination.why_down()) is not None and not self._closing.is_set():
            if not self._wake.wait(max(0.0, deadline_s - time.monotonic())):
                break
            self._wake.clear()  # a connection change, a new entry (read next) or closing
        return why

    def _is_down(self) -> bool:
        """Whether a destination that keeps a connection has lost it: an outage begins as
        soon as it is (not as the courier closes)."""
        if not isinstance(self.destination, KeepsConnected):
            return False
        why = self.destination.why_down()
        if why is not None and self._outage_since_s is None and not self._closing.is_set():
            self._outage_began(f"{why}; its events wait in the outbox until it is back")
        return why is not None

    def _deliver(self, batch: list[PendingEntry]) -> bool:
        """Send the entries in order; False at the first one that failed (to try it again),
        or, of a destination sent in parts, once the batch went to the parts that are up."""
        waiting: set[str] = set()  # parts that did not take an earlier entry of the batch
        for entry in batch:
            if self._closing.is_set() and time.monotonic() > self._deadline_s:
                return True
            if entry.seq in self._sent_unforgotten:
                if not self._forget(entry.seq):
                    return False  # the store still cannot record it: wait, never send it twice
                continue
            try:
                self._send(entry, waiting)
            except EventRejected as e:
                self._rejected(entry, str(e))
                continue
            except PartsFailed as e:
                if not waiting:
                    self._failed(entry, str(e))
                elif e.tried:
                    with suppress(StorageError):
                        self.store.failed(entry.seq, str(e))
                waiting |= e.parts
                continue
            except Exception as e:  # a destination's bug must not end delivery for good
                self._failed(entry, str(e) if isinstance(e, DeliveryError) else repr(e))
                return False
            self._delivered(entry, after_a_failure=bool(waiting))
        return not waiting

    def _send(self, entry: PendingEntry, waiting: set[str]) -> None:
        if isinstance(self.destination, SentInParts):
            taken = partial(self._taken, entry.seq)
            self.destination.send_to_rest(
                entry.event, taken=entry.taken, waiting=waiting, on_taken=taken
            )
        else:
            self.destination.send(entry.event)

    def _taken(self, seq: int, part: str) -> None:
        with suppress(StorageError):  # the destination remembers it until the next run
            self.store.taken(seq, part)

    def _delivered(self, entry: PendingEntry, *, after_a_failure: bool) -> None:
        if not after_a_failure:  # a part still down keeps its backoff
            self._n_failures = 0
        self._rejecting = False
        self.n_delivered += 1
        if self._outage_since_s is not None:
            self._n_since_outage += 1
        self._sent_unforgotten.add(entry.seq)
        self._forget(entry.seq)

    def _forget(self, seq: int) -> bool:
        """Take the delivered entry `seq` out of the outbox; False while the store cannot (it
        stays remembered as sent)."""
        try:
            self.store.delivered(seq)
        except StorageError:
            return False
        self._sent_unforgotten.discard(seq)
        return True

    def _failed(self, entry: PendingEntry, error: str) -> None:
        self._n_failures += 1
        if self._outage_since_s is None:
            self._outage_began(f"{error}; keeping its events in the outbox and retrying")
        with suppress(StorageError):  # only the count of attempts would be lost
            self.store.failed(entry.seq, error)

    def _rejected(self, entry: PendingEntry, error: str) -> None:
        self.n_rejected += 1
        if not self._rejecting:
            self._rejecting = True
            self._report(
                "delivery_rejected",
                f"{self.destination.name}: {error}; the event is kept in the outbox, "
                "not sent again",
            )
        with suppress(StorageError):  # else it is refused again next time
            self.store.rejected(entry.seq, error)

    def _pause(self) -> bool:
        """Wait out the backoff after a failure, or until a new event is due (then try at
        once: it may be an alert); False if closing and this was the last try."""
        if self._closing.is_set():
            return False
        outage_s = 0.0 if self._outage_since_s is None else time.monotonic() - self._outage_since_s
        self._wake.wait(self.backoff.delay_s(max(self._n_failures, 1), outage_s=outage_s))
        self._wake.clear()
        return True

    def _outage_began(self, message: str) -> None:
        self._outage_since_s = time.monotonic()
        self._n_since_outage = 0
        self._report("delivery_failed", f"{self.destination.name}: {message}")

    def _backlog_delivered(self) -> None:
        if self._outage_since_s is None or self._n_since_outage == 0:
            return
        outage_s = time.monotonic() - self._outage_since_s
        self._report(
            "delivery_resumed",
            f"{self.destination.name}: {self._n_since_outage} event(s) delivered "
            f"after an outage of {outage_s:.0f} s",
        )
        self._outage_since_s = None

    def _report(self, kind: str, message: str) -> None:
        with suppress(Exception):  # reporting must never end delivery
            self._on_event(kind, message)


class Couriers:
    """One courier per destination, for one room's events; started and closed together."""

    def __init__(
        self,
        store: Store,
        destinations: Sequence[Destination],
        *,
        room: str,
        on_event: EventCallback,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.room = room
        self.couriers = {
            d.name: Courier(store, d, room=room, on_event=on_event, backoff=backoff)
            for d in destinations
        }

    def start(self) -> None:
        for courier in self.couriers.values():
            courier.start()

    def wake(self, names: Collection[str]) -> None:
        """Entries for the destinations `names` were committed."""
        for name in names:
            if name in self.couriers:
                self.couriers[name].wake()

    def close(self) -> None:
        """Close every courier at once (see `Courier.close`)."""
        for courier in self.couriers.values():
            courier.begin_closing()
        for courier in self.couriers.values():
            courier.finish_closing()
