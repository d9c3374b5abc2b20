"""The contract every destination (MQTT, webhook, push notifications) fulfils."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol, runtime_checkable

from miserymeter.errors import MiseryMeterError
from miserymeter.events import Event
from miserymeter.records import RecordSink


class DeliveryError(MiseryMeterError):
    """A destination could not take an event now (down, timed out): try again later."""


class EventRejected(DeliveryError):
    """A destination refused an event for good (e.g. HTTP 400): retrying cannot help."""


class PartsFailed(DeliveryError):
    """Some parts of a destination sent in parts did not take an event: `parts`, those that
    failed (`tried`: at least one did) or were left waiting for an earlier event."""

    def __init__(self, message: str, *, parts: frozenset[str], tried: bool) -> None:
        super().__init__(message)
        self.parts = parts
        self.tried = tried


class Destination(Protocol):
    """Somewhere events go. `name` is unique and stable across restarts: the outbox's key.
    Error messages name the destination the way its user wrote it (with secrets hidden)."""

    name: str

    def wants(self, event: Event) -> bool:
        """Whether this destination is sent `event` at all (decided when it is queued)."""
        ...

    def send(self, event: Event) -> None:
        """Deliver one event, or raise DeliveryError (retried) or EventRejected (dropped)."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


@runtime_checkable
class Reachable(Protocol):
    """A destination that can tell, without sending anything, whether it can be reached."""

    def check(self) -> None:
        """Raise DeliveryError if the destination cannot be reached now (a start-up check)."""
        ...


@runtime_checkable
class KeepsConnected(Protocol):
    """A destination that keeps a connection up by itself (MQTT's to its broker): its courier
    tells when it is lost, also while no event is due, and sends at once when it is back."""

    def why_down(self) -> str | None:
        """None while connected; else why not, in one line."""
        ...

    def on_connection_change(self, changed: Callable[[], None]) -> None:
        """Call `changed()` (from any thread) whenever the connection is lost or made again."""
        ...


@runtime_checkable
class SentInParts(Protocol):
    """A destination that sends each event to several parts (the push URLs of [notify]), each
    of which takes it or not. The courier keeps in the outbox which parts took an event, so
    that sending it again, also after a restart, goes to the others only; and a part that is
    down holds back only its own events, which it gets in order once it is back."""

    def send_to_rest(
        self,
        event: Event,
        *,
        taken: Collection[str],
        waiting: Collection[str],
        on_taken: Callable[[str], None],
    ) -> None:
        """`send`, to the parts in neither `taken` nor `waiting` (still to take an earlier
        event); `on_taken(part)` as each part takes it (a part is a short name, stable across
        restarts, that gives away none of the part's secrets: the outbox keeps it). PartsFailed
        names the parts that did not take it, waiting ones included."""
        ...


@runtime_checkable
class PartlyLeftOut(Protocol):
    """A destination used without some of its settings (one push URL of several is wrong):
    one message per part left out, naming it and the fix."""

    left_out: tuple[str, ...]


@runtime_checkable
class WithLiveState(Protocol):
    """A destination that also takes the live state of every second (MQTT's retained topics)."""

    state_sink: RecordSink
