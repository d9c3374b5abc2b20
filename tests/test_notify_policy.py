"""Which events become pushes: crafted event sequences through the pure policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from miserymeter.delivery.notify.messages import duration_text, push_for
from miserymeter.delivery.notify.policy import NotifyPolicy
from miserymeter.delivery.notify.settings import QuietHours, notify_settings
from miserymeter.errors import ConfigError
from miserymeter.events import Event, events_from, make_event
from miserymeter.records import CryingContinues, CryingStarted, Episode, ListenerEvent

NIGHT = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
ROOM = "nursery"


def policy(**table: Any) -> NotifyPolicy:
    settings = notify_settings({"urls": ["json://x"], "time_zone": "UTC", **table}, where="t")
    return NotifyPolicy(settings)


def episode(start_min: float, duration_s: float, *, confirm_after_s: float = 5) -> list[Event]:
    """An episode's events: started, still crying every whole minute, stopped."""
    start = NIGHT + timedelta(minutes=start_min)
    offset_s = start_min * 60
    records: list[Any] = [
        CryingStarted(
            ROOM,
            start,
            start + timedelta(seconds=confirm_after_s),
            offset_s,
            offset_s + confirm_after_s,
            "model",
        )
    ]
    for minute in range(1, int(duration_s // 60) + 1):
        at = start + timedelta(minutes=minute)
        duration_s_now = 60.0 * minute
        records.append(
            CryingContinues(
                ROOM, start, at, duration_s_now, offset_s, offset_s + duration_s_now, "model"
            )
        )
    end = start + timedelta(seconds=duration_s)
    records.append(
        Episode(ROOM, start, end, offset_s, offset_s + duration_s, offset_s + 5, 0.9, 0.8, "model")
    )
    return events_from(records, dashboard_url="http://pi.local:8080")


def listener(kind: str, at_min: float) -> Event:
    record = ListenerEvent(ROOM, NIGHT + timedelta(minutes=at_min), kind, f"{kind} message")
    return events_from([record])[0]


def pushed(p: NotifyPolicy, events: list[Event]) -> list[tuple[str, str]]:
    """(kind, start or listener kind) of each event the policy wants, in order."""
    return [
        (e.kind, e.data.get("start") or e.data.get("event") or "") for e in events if p.wants(e)
    ]


def kinds(p: NotifyPolicy, events: list[Event]) -> list[str]:
    return [kind for kind, _ in pushed(p, events)]


def test_one_start_push_per_episode_and_nothing_for_minutes() -> None:
    minute = make_event(ROOM, NIGHT, "minute", {"label": "crying"})
    events = [minute, *episode(0, 30), minute, *episode(30, 90)]
    assert kinds(policy(escalate_after_min=0), events) == ["crying_started", "crying_started"]


def test_the_cooldown_counts_from_the_end_of_the_last_announced_episode() -> None:
    first = episode(0, 60)  # ends at 1 min
    within = episode(8, 30)  # starts 7 min after: held back, and does not extend the cooldown
    after = episode(11.5, 30)  # 10.5 min after the first ended: pushed
    events = first + within + after
    starts = [start for kind, start in pushed(policy(escalate_after_min=0), events)]
    assert starts == [first[0].data["start"], after[0].data["start"]]
    assert kinds(policy(cooldown_min=0, escalate_after_min=0), events) == ["crying_started"] * 3


def test_escalation_once_per_long_episode_and_off_at_zero() -> None:
    events = episode(0, 12 * 60) + episode(30, 3 * 60)
    assert kinds(policy(), events) == ["crying_started", "still_crying", "crying_started"]
    escalations = [e for e in events if policy().wants(e) and e.kind == "still_crying"]
    assert escalations[0].data["duration_s"] == 300.0  # the first one that reaches 5 minutes
    assert "still_crying" not in kinds(policy(escalate_after_min=0), events)


def test_the_end_is_pushed_with_its_duration_only_when_asked_and_announced() -> None:
    events = episode(0, 200)
    assert kinds(policy(on_end=True, escalate_after_min=0), events) == [
        "crying_started",
        "crying_stopped",
    ]
    stopped = events[-1]
    push = push_for(stopped, zone=UTC, now=stopped.at)
    assert push.title == "Crying stopped in nursery"
    assert push.body.startswith("Cried 3 min 20 s, 22:00-22:03.")
    short = push_for(episode(0, 24)[-1], zone=UTC, now=stopped.at)
    assert short.body.startswith("Cried 24 s, from 22:00.")  # not 22:00-22:00
    # not announced (start switched off, no escalation): its end is not pushed either
    assert kinds(policy(on_end=True, on_start=False, escalate_after_min=0), events) == []


def test_the_end_of_an_episode_a_killed_run_left_open_is_pushed_when_its_start_was() -> None:
    """The next run closes it (`episode_closed`): its policy never saw the start."""
    *_, stopped = episode(0, 120)  # 22:00-22:02
    assert kinds(policy(on_end=True), [stopped]) == ["crying_stopped"]
    assert kinds(policy(on_end=True, quiet_hours="21:00-23:00"), [stopped]) == []
    assert kinds(policy(on_end=True, on_start=False), [stopped]) == []
    assert kinds(policy(), [stopped]) == []  # on_end is off by default


def test_quiet_hours_hold_back_crying_pushes_but_not_alerts() -> None:
    p = policy(quiet_hours="21:00-23:00", on_end=True)  # 22:00 UTC is inside
    events = [*episode(0, 6 * 60), listener("microphone_lost", 10)]
    assert kinds(p, events) == ["listener"]
    # an episode running past the end of the quiet hours escalates once they are over
    late = episode(55, 8 * 60)  # 22:55-23:03: still crying after 5 min at 23:00
    assert kinds(p, late) == ["still_crying", "crying_stopped"]


def test_quiet_hours_may_span_midnight() -> None:
    quiet = QuietHours(time(22, 0), time(6, 30))
    assert time(23, 0) in quiet and time(3, 0) in quiet and time(6, 29) in quiet
    assert time(6, 30) not in quiet and time(12, 0) not in quiet
    daytime = QuietHours(time(8, 0), time(18, 0))
    assert time(8, 0) in daytime and time(18, 0) not in daytime


def test_quiet_hours_are_in_the_configured_time_zone() -> None:
    # 22:00 UTC is 23:00 in Paris in November
    table = {"urls": ["json://x"], "quiet_hours": "22:30-23:30", "time_zone": "Europe/Paris"}
    p = NotifyPolicy(notify_settings(table, where="t"))
    assert kinds(p, episode(0, 30)) == []
    assert kinds(policy(quiet_hours="22:30-23:30"), episode(0, 30)) == ["crying_started"]


def test_alerts_are_rate_limited_and_the_microphone_back_is_told_once() -> None:
    events = [listener("microphone_lost", m) for m in range(0, 65, 5)]  # every 5 min for 1 h
    events += [listener("microphone_reopened", 66), listener("microphone_reopened", 70)]
    events += [listener("microphone_lost", 75)]  # within 30 min of the last alert (at 60)
    events += [listener("microphone_reopened", 76)]  # nothing was pushed since the last "back"
    p = policy()
    assert [(e.kind, e.at) for e in events if p.wants(e)] == [
        ("listener", NIGHT),
        ("listener", NIGHT + timedelta(minutes=30)),
        ("listener", NIGHT + timedelta(minutes=60)),
        ("listener", NIGHT + timedelta(minutes=66)),
    ]
    every_10_min = [k for _, k in pushed(policy(alert_every_min=10), events)]
    assert every_10_min.count("microphone_lost") == 8  # 0, 10, ..., 60 and 75


def test_which_listener_events_alert() -> None:
    alerting = ["microphone_lost", "watchdog_flat", "watchdog_no_frames", "stopped"]
    quiet = ["started", "input_gap", "overflow", "clip_not_saved", "sink_failed"]
    for kind in alerting:
        assert policy().wants(listener(kind, 0)), kind
    for kind in quiet:
        assert not policy().wants(listener(kind, 0)), kind
    assert not policy(alerts=False).wants(listener("microphone_lost", 0))
    stopped = push_for(listener("stopped", 0), zone=UTC, now=NIGHT)
    assert stopped.title == "Monitor in nursery stopped listening"
    assert push_for(listener("watchdog_flat", 0), zone=UTC, now=NIGHT).title == (
        "Monitor in nursery is not hearing"
    )


def test_a_digest_is_pushed_once_and_only_for_a_night_with_crying() -> None:
    p = policy()
    digest = make_event(ROOM, NIGHT, "digest", {"n_episodes": 2}, detail="2026-11-25")
    empty = make_event("hall", NIGHT, "digest", {"n_episodes": 0}, detail="2026-11-25")
    assert [p.wants(digest), p.wants(digest), p.wants(empty)] == [True, False, False]


def test_the_start_push_says_when_and_links_the_episode() -> None:
    started = episode(0, 30)[0]
    push = push_for(started, zone=ZoneInfo("Europe/Paris"), now=NIGHT + timedelta(seconds=5))
    assert push.title == "Crying in nursery"
    assert push.body == (
        "Crying since 23:00.\nhttp://pi.local:8080/rooms/nursery/episodes/2026-11-25T22:00:00.000Z"
    )
    # a night replayed two days later (or a push that waited out an outage) says its day
    replayed = push_for(started, zone=ZoneInfo("Europe/Paris"), now=NIGHT + timedelta(days=2))
    assert replayed.body.startswith("Crying since Wed 25 Nov 23:00.\n")
    ended = push_for(episode(0, 200)[-1], zone=UTC, now=NIGHT + timedelta(days=2))
    assert ended.body.startswith("Cried 3 min 20 s, Wed 25 Nov 22:00-22:03.")
    assert duration_text(45) == "45 s" and duration_text(720) == "12 min"


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ({}, ["urls"]),
        ({"urls": "json://x", "cooldown": 3}, ["cooldown"]),
        ({"urls": []}, ["urls"]),
        ({"urls": ["json://x"], "quiet_hours": "8-18"}, ["quiet_hours", "HH:MM"]),
        ({"urls": ["json://x"], "quiet_hours": "25:00-06:00"}, ["quiet_hours"]),
        ({"urls": ["json://x"], "cooldown_min": -1}, ["cooldown_min"]),
        ({"urls": ["json://x"], "on_end": "yes"}, ["on_end"]),
        ({"urls": ["json://x"], "alert_every_min": 0}, ["alert_every_min"]),
        ({"urls": ["json://x"], "digest_at": "7am"}, ["digest_at"]),
        ({"urls": ["json://x"], "time_zone": "Mars/Olympus"}, ["time_zone", "Europe/Paris"]),
    ],
)
def test_bad_settings_are_one_clear_error(table: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        notify_settings(table, where="listen.toml: [notify]")
    message = str(raised.value)
    assert message.startswith("listen.toml: [notify]") and "\n" not in message
    for name in names:
        assert name in message
