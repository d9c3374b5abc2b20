"""`serve`'s watcher of the monitors: every room of the store, every 30 s, in a thread of its own.

Each check reads what the store last heard of every room, lets `offline.watch` decide, and
pushes through the `[notify]` destination (whose servers are checked first: one line if they
cannot be reached). A push that fails (the service is down) waits and is tried again at the
next check, in order, for the services that did not take it only; a store that cannot be read
is tried again at the next check too. Neither ends the watcher, nor `serve`: troubles are told
to `on_event(kind, message)`, once when they begin and once when they are over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from miserymeter.clock import utc_now
from miserymeter.delivery.destination import DeliveryError, Destination, Reachable
from miserymeter.delivery.notify.offline import RoomHeard, RoomWatch, StoreWatch, watch, watch_store
from miserymeter.delivery.notify.settings import NotifySettings
from miserymeter.errors import StorageError
from miserymeter.events import Event
from miserymeter.records import STOPPED
from miserymeter.store import Store

CHECK_EVERY_S = 30.0
MAX_UNSENT = 100  # pushes held while the service is down; the oldest are dropped beyond
CLOSE_TIMEOUT_S = 10.0

EventCallback = Callable[[str, str], None]


def check_every_s(settings: NotifySettings) -> float:
    """30 s, or a tenth of `offline_after_min` when that is shorter: a room is told offline at
    most a tenth late."""
    return min(CHECK_EVERY_S, settings.offline_after_min * 60 / 10)


def rooms_heard(store: Store) -> list[RoomHeard]:
    """What `store` last heard of each of its rooms."""
    heard = []
    for room in store.rooms():
        second, event = store.latest_second(room), store.latest_event(room)
        times = [r.at for r in (second, event) if r is not None]
        stopped = event is not None and event.kind == STOPPED
        heard.append(RoomHeard(room, max(times) if times else None, stopped=stopped))
    return heard


class OfflineWatcher:
    """Pushes "monitor offline" and "back" for the rooms of `store` (see the module docstring).

    `settings` are the destination's (`[notify]`): how long a silence is, how often to alert.
    """

    def __init__(
        self,
        store: Store,
        destination: Destination,
        settings: NotifySettings,
        *,
        on_event: EventCallback,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.destination = destination
        self.settings = settings
        self.check_every_s = check_every_s(settings)
        self.n_pushed = 0
        self.n_dropped = 0
        self._on_event = on_event
        self._clock = clock
        self._memory: dict[str, RoomWatch] = {}
        self._store_memory = StoreWatch()
        self._unsent: list[Event] = []
        self._troubles: set[str] = set()  # "store", "push": what is failing now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch_forever, name="offline", daemon=True)

    def start(self) -> None:
        """Check now, then every `check_every_s`, until `close`."""
        self._thread.start()

    def close(self) -> None:
        """Stop checking (waiting up to `CLOSE_TIMEOUT_S` for a push under way)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(CLOSE_TIMEOUT_S)
        self.destination.close()

    def check(self) -> None:
        """One check: read the store, decide, push what is due (and what failed before)."""
        now = self._clock()
        try:
            heard = rooms_heard(self.store)
        except StorageError as e:
            heard = None
            self._trouble("store", f"{e}; trying again")
        else:
            self._over("store", f"{self.store.name} can be read again")
        self._store_memory, told = watch_store(
            heard is not None, self._store_memory, now=now, name=self.store.name,
            settings=self.settings,
        )  # fmt: skip
        pushes = [] if told is None else [told]
        if heard is not None:
            self._memory, monitors = watch(heard, self._memory, now=now, settings=self.settings)
            for push in monitors:
                status, last_heard = push.data["status"], push.data["last_heard"]
                self._report(f"monitor_{status}", f"{push.room}: last heard {last_heard}")
            pushes += monitors
        self._hold(pushes)
        self._push()

    def _watch_forever(self) -> None:
        if isinstance(self.destination, Reachable):
            try:
                self.destination.check()
            except DeliveryError as e:
                self._trouble("push", f"{self.destination.name}: {e}; pushes are tried anyway")
        while True:
            try:
                self.check()
            except Exception as e:  # a bug must not end the watch: it is tried again
                self._report("offline_watch_failed", repr(e))
            if self._stop.wait(self.check_every_s):
                return

    def _hold(self, pushes: list[Event]) -> None:
        self._unsent += pushes
        n_over = len(self._unsent) - MAX_UNSENT
        if n_over > 0:
            self.n_dropped += n_over
            del self._unsent[:n_over]
            self._report("offline_watch_push_dropped", f"{n_over} old push(es) never went out")

    def _push(self) -> None:
        while self._unsent:
            event = self._unsent[0]
            try:
                self.destination.send(event)
            except Exception as e:  # an apprise plugin's bug, as a service that is down
                reason = str(e) if isinstance(e, DeliveryError) else repr(e)
                self._trouble("push", f"{self.destination.name}: {reason}; trying again in "
                              f"{self.check_every_s:.0f} s")  # fmt: skip
                return
            del self._unsent[0]
            self.n_pushed += 1
            self._over("push", f"{self.destination.name}: pushing again")

    def _trouble(self, what: str, message: str) -> None:
        if what not in self._troubles:
            self._troubles.add(what)
            self._report(f"offline_watch_{what}_failed", message)

    def _over(self, what: str, message: str) -> None:
        if what in self._troubles:
            self._troubles.discard(what)
            self._report(f"offline_watch_{what}_resumed", message)

    def _report(self, kind: str, message: str) -> None:
        try:
            self._on_event(kind, message)
        except Exception:  # reporting must never end the watch
            return
