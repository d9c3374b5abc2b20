"""The courier and the webhook, in process: a real SQLite outbox and a real local HTTP server
that answers 500s, refuses events, stops and starts again."""

from __future__ import annotations

import hashlib
import hmac
import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from miserymeter.delivery.courier import Backoff, Courier
from miserymeter.delivery.destination import DeliveryError, EventRejected
from miserymeter.delivery.webhook.destination import WebhookDestination, WebhookSettings
from miserymeter.events import Event, events_from
from miserymeter.records import MinuteSummary
from miserymeter.store import Store, open_store
from miserymeter.store.outbox import OutboxCounts, OutboxEntry
from webhook_receiver import WebhookReceiver

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
ROOM = "blue"
FAST = Backoff(first_s=0.02, max_s=0.1)
KEEN_PATH = "/3.0/projects/P/events/crying?api_key=K"


def minutes(first: int, n: int) -> list[MinuteSummary]:
    return [
        MinuteSummary(ROOM, START + timedelta(minutes=k), 60, -50.0 + k, -40.0, 0.1, "_silence_")
        for k in range(first, first + n)
    ]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "outbox.db") as opened:
        yield opened


class Reports:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.lines]


def queue(store: Store, hook: WebhookDestination, first: int, n: int) -> list[Event]:
    records = minutes(first, n)
    events = events_from(records)
    store.write(records, outbox=[OutboxEntry(hook.name, e) for e in events])
    return events


def courier_for(store: Store, hook: WebhookDestination, reports: Reports) -> Courier:
    return Courier(store, hook, room=ROOM, on_event=reports, backoff=FAST, close_timeout_s=1.0)


def test_events_arrive_in_order_signed_with_their_headers(
    store: Store, receiver: WebhookReceiver
) -> None:
    hook = WebhookDestination(
        WebhookSettings(
            receiver.url(KEEN_PATH), headers={"Authorization": "Bearer T"}, secret="s3cret"
        )
    )
    events = queue(store, hook, 0, 5)
    reports = Reports()
    courier = courier_for(store, hook, reports)
    courier.start()
    receiver.wait_until(lambda: len(receiver.events) == 5)
    events += queue(store, hook, 5, 3)  # new entries wake the courier at once
    courier.wake()
    receiver.wait_until(lambda: len(receiver.events) == 8)
    courier.close()
    assert receiver.events == [e.to_json() for e in events]
    for post, event in zip(receiver.posts, events, strict=True):
        assert post.path == KEEN_PATH  # a Keen-style collection URL, unchanged
        assert post.headers["Authorization"] == "Bearer T"
        assert post.headers["X-MiseryMeter-Event"] == event.id
        assert post.headers["Content-Type"] == "application/json"
        expected = hmac.new(b"s3cret", post.body, hashlib.sha256).hexdigest()
        assert post.headers["X-MiseryMeter-Signature"] == f"sha256={expected}"
    shipped = {"timestamp", "room", "label", "probability", "loudness_dbfs"}  # the original's
    assert shipped <= set(events[0].to_json())
    assert store.outbox_counts(hook.name) == OutboxCounts(0, 0)
    assert reports.lines == [] and courier.n_delivered == 8


def delivered_after_answers(
    store: Store, receiver: WebhookReceiver, statuses: list[int], n_events: int
) -> tuple[WebhookDestination, list[Event], Reports]:
    """`n_events` queued and sent by a courier until all arrived, the receiver answering
    `statuses` first, then 200; the hook, the events and what the courier reported."""
    hook = WebhookDestination(WebhookSettings(receiver.url()))
    answers = iter(statuses)
    receiver.answer = lambda _body: next(answers, 200)
    events = queue(store, hook, 0, n_events)
    reports = Reports()
    courier = courier_for(store, hook, reports)
    courier.start()
    receiver.wait_until(lambda: len(receiver.events) == n_events)
    courier.close()
    return hook, events, reports


def test_failures_are_retried_with_backoff_until_all_arrive_in_order(
    store: Store, receiver: WebhookReceiver
) -> None:
    statuses = [500, 503, 429, 408, 502]
    hook, events, reports = delivered_after_answers(store, receiver, statuses, 6)
    assert receiver.events == [e.to_json() for e in events]
    assert [p.status for p in receiver.posts[:6]] == [*statuses, 200]
    assert {p.json["id"] for p in receiver.posts[:6]} == {events[0].id}  # the first, again
    assert reports.kinds() == ["delivery_failed", "delivery_resumed"]
    assert "HTTP 500" in reports.lines[0][1] and hook.name in reports.lines[0][1]
    assert "6 event(s) delivered" in reports.lines[1][1]


def test_events_wait_while_the_webhooks_credentials_are_refused(
    store: Store, receiver: WebhookReceiver
) -> None:
    """401, 403 and 404 are about the webhook's settings, not the event: none is lost while
    a token is fixed."""
    hook, events, reports = delivered_after_answers(store, receiver, [401, 403, 404], 3)
    assert receiver.events == [e.to_json() for e in events]
    assert store.outbox_counts(hook.name) == OutboxCounts(0, 0)
    assert reports.kinds() == ["delivery_failed", "delivery_resumed"]
    said = reports.lines[0][1]
    assert "HTTP 401" in said and "fix the webhook's credentials" in said, said


def test_a_refused_event_is_kept_and_not_sent_again(
    store: Store, receiver: WebhookReceiver
) -> None:
    hook = WebhookDestination(WebhookSettings(receiver.url("/hook?api_key=SECRET")))
    events = queue(store, hook, 0, 4)
    refused = {events[1].id, events[2].id}
    receiver.answer = lambda body: 422 if body["id"] in refused else 200
    reports = Reports()
    courier = courier_for(store, hook, reports)
    courier.start()
    receiver.wait_until(lambda: len(receiver.posts) == 4)
    courier.close()
    time.sleep(0.1)  # a courier that retried refused events would have posted again by now
    assert [p.json["id"] for p in receiver.posts] == [e.id for e in events]
    assert receiver.events == [events[0].to_json(), events[3].to_json()]
    assert store.outbox_counts(hook.name) == OutboxCounts(n_pending=0, n_rejected=2)
    assert reports.kinds() == ["delivery_rejected"]  # once per run of refusals
    assert "HTTP 422" in reports.lines[0][1]
    assert "SECRET" not in reports.lines[0][1] and "api_key=***" in reports.lines[0][1]


def test_a_stopped_server_gets_everything_in_order_when_it_returns(
    store: Store, receiver: WebhookReceiver
) -> None:
    hook = WebhookDestination(WebhookSettings(receiver.url()))
    reports = Reports()
    courier = courier_for(store, hook, reports)
    courier.start()
    events = queue(store, hook, 0, 3)
    courier.wake()
    receiver.wait_until(lambda: len(receiver.events) == 3)
    receiver.stop()
    events += queue(store, hook, 3, 4)
    courier.wake()
    deadline_s = time.monotonic() + 10
    while "delivery_failed" not in reports.kinds() and time.monotonic() < deadline_s:
        time.sleep(0.02)
    assert "Connection refused" in reports.lines[0][1]
    events += queue(store, hook, 7, 2)  # queued while it is down
    receiver.start()
    receiver.wait_until(lambda: len(receiver.events) == 9)
    courier.close()
    assert receiver.events == [e.to_json() for e in events]
    assert reports.kinds() == ["delivery_failed", "delivery_resumed"]


def test_an_event_sent_while_the_store_cannot_record_it_is_not_sent_again(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """Another program locks the database as the first event arrives: the courier cannot take
    the events it sent out of the outbox, and must not send them again when it reads them."""
    path = tmp_path / "outbox.db"
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock_the_database(_body: dict[str, Any]) -> int:
        receiver.answer = lambda _body: 200  # once
        locker.execute("BEGIN EXCLUSIVE")
        return 200

    with open_store(path, busy_timeout_s=0.05) as store:
        hook = WebhookDestination(WebhookSettings(receiver.url()))
        events = queue(store, hook, 0, 3)
        receiver.answer = lock_the_database
        courier = courier_for(store, hook, Reports())
        courier.start()
        receiver.wait_until(lambda: len(receiver.events) >= 3)
        locker.execute("ROLLBACK")
        receiver.wait_until(lambda: store.outbox_counts(hook.name) == OutboxCounts(0, 0))
        courier.close()
        assert receiver.events == [e.to_json() for e in events]
    locker.close()


def test_an_event_due_during_the_backoff_is_tried_at_once(
    store: Store, receiver: WebhookReceiver
) -> None:
    """A backoff of an hour: only the new event's arrival can bring the backlog out soon."""
    hook = WebhookDestination(WebhookSettings(receiver.url()))
    reports = Reports()
    hour = Backoff(first_s=3600.0, max_s=3600.0, early_max_s=3600.0)
    courier = Courier(store, hook, room=ROOM, on_event=reports, backoff=hour, close_timeout_s=1)
    receiver.stop()
    courier.start()
    events = queue(store, hook, 0, 2)
    courier.wake()
    deadline_s = time.monotonic() + 30
    while "delivery_failed" not in reports.kinds() and time.monotonic() < deadline_s:
        time.sleep(0.02)
    assert reports.kinds() == ["delivery_failed"]
    receiver.start()
    events += queue(store, hook, 2, 1)  # an alert, say
    courier.wake()
    receiver.wait_until(lambda: len(receiver.events) == 3)
    courier.close()
    assert receiver.events == [e.to_json() for e in events]


def test_closing_is_bounded_and_leaves_the_rest_for_the_next_courier(
    store: Store, receiver: WebhookReceiver
) -> None:
    hook = WebhookDestination(WebhookSettings(receiver.url()))
    receiver.stop()
    events = queue(store, hook, 0, 5)
    reports = Reports()
    courier = Courier(
        store, hook, room=ROOM, on_event=reports, backoff=Backoff(60.0, 60.0), close_timeout_s=1.0
    )
    courier.start()
    started_s = time.monotonic()
    courier.close()  # in its 60 s backoff: one last try, then it gives up
    assert time.monotonic() - started_s < 10.0  # not the backoff's 60 s (a busy machine's margin)
    assert [p.event for p in store.pending(hook.name, room=ROOM)] == events
    assert reports.kinds() == ["delivery_failed"]  # the start-up check: the port is closed
    receiver.start()
    next_run = courier_for(store, hook, Reports())
    next_run.start()
    receiver.wait_until(lambda: len(receiver.events) == 5)
    next_run.close()
    assert receiver.events == [e.to_json() for e in events]


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hook = WebhookDestination(WebhookSettings(f"http://127.0.0.1:{port}/", timeout_s=0.2))
        event = events_from(minutes(0, 1))[0]
        started_s = time.monotonic()
        with pytest.raises(DeliveryError, match=r"no answer within 0.2 s") as failed:
            hook.send(event)
        assert time.monotonic() - started_s < 10.0  # not forever (a busy machine's margin)
        assert not isinstance(failed.value, EventRejected)
        hook.close()


def test_backoff_stays_short_early_in_an_outage_then_doubles_up_to_its_cap() -> None:
    assert [Backoff().delay_s(n, outage_s=60.0) for n in range(1, 7)] == [
        1.0, 2.0, 4.0, 5.0, 5.0, 5.0
    ]  # fmt: skip
    long_outage_s = Backoff().early_s
    assert [Backoff().delay_s(n, outage_s=long_outage_s) for n in range(1, 11)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0
    ]  # fmt: skip
    assert Backoff().delay_s(10_000, outage_s=long_outage_s) == 300.0
