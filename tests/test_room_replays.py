"""The rooms' states now with their replays kept between answers (web.now.RoomReplays): every
answer is the one a replay from scratch gives, and a kept replay reads only what is new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from miserymeter.detect.settings import DetectorSettings
from miserymeter.records import SecondRecord
from miserymeter.store import Store, open_store
from miserymeter.web import now as room_states
from miserymeter.web.health import rooms_heard
from miserymeter.web.now import RoomReplays, rooms_now
from store_records import seconds_heard
from web_helpers import ZONE

DETECTION = DetectorSettings()
FIRST_AT = datetime(2026, 11, 24, 20, 0, 0, 250_000, tzinfo=UTC)
N_SECONDS = 1_200


def crying_room(room: str, rng: np.random.Generator) -> list[SecondRecord]:
    """A listener's seconds: low scores (a fifth gated) with bursts of crying, a few long
    enough to reach back past the look-back; its listener restarted halfway (offsets from 0)."""
    scores = np.where(rng.random(N_SECONDS) < 0.2, np.nan, rng.uniform(0.0, 0.25, N_SECONDS))
    for _ in range(8):
        start, n = int(rng.integers(0, N_SECONDS)), int(rng.integers(5, 400))
        part = scores[start : start + n]
        part[:] = np.where(rng.random(len(part)) < 0.1, 0.1, rng.uniform(0.3, 1.0, len(part)))
    offsets = [k if k < N_SECONDS // 2 else k - N_SECONDS // 2 for k in range(N_SECONDS)]
    return [
        SecondRecord(room, FIRST_AT + timedelta(seconds=k), float(offsets[k]), -40.0,
                     None if np.isnan(p) else float(p), "crying")
        for k, p in enumerate(scores)
    ]  # fmt: skip


def states(store: Store, replays: RoomReplays, *, now: datetime) -> dict[str, dict[str, Any]]:
    heard = rooms_heard(store, now=now, zone=ZONE)
    return rooms_now(store, heard, DETECTION, now=now, zone=ZONE, replays=replays)


def test_every_answer_is_the_one_a_replay_from_scratch_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_states, "LOOKBACK", timedelta(minutes=5))  # long bursts reach it
    rng = np.random.default_rng(5)
    rooms = {room: crying_room(room, rng) for room in ("a", "b", "c")}
    rooms["c"] = [s for s in rooms["c"] if not 500 <= (s.at - FIRST_AT).total_seconds() < 600]
    kept, seen = RoomReplays(), set()
    with open_store(tmp_path / "store.db") as store:
        written_s = 0
        while written_s < N_SECONDS:
            step_s = int(rng.integers(1, 25))
            until = FIRST_AT + timedelta(seconds=written_s + step_s)
            store.write(
                [s for seconds in rooms.values() for s in seconds
                 if FIRST_AT + timedelta(seconds=written_s) <= s.at < until]
            )  # fmt: skip
            written_s += step_s
            now = until + timedelta(seconds=0.5)
            answer = states(store, kept, now=now)
            assert answer == states(store, RoomReplays(), now=now), f"after {written_s} s"
            seen |= {(room, state["state"]) for room, state in answer.items()}
    assert {state for _, state in seen} == {"crying", "quiet", "not listening"}


def counting(rows: list[int], query: Callable[..., dict[str, list[Any]]]) -> Callable[..., Any]:
    """`query` (a store method answering lists by room), adding how many rows it returned."""

    def counted(*args: Any, **kwargs: Any) -> dict[str, list[Any]]:
        found = query(*args, **kwargs)
        rows.append(sum(len(v) for v in found.values()))
        return found

    return counted


def test_a_kept_replay_reads_only_the_seconds_stored_since(tmp_path: Path) -> None:
    last_at = datetime.now(UTC).replace(microsecond=0)
    kept, rows = RoomReplays(), list[int]()
    with open_store(tmp_path / "store.db") as store:
        store.write(seconds_heard("crying", [0.05] * 60 + [0.9] * 1200, last_at=last_at))
        store.write(seconds_heard("calm", [0.05] * 1260, last_at=last_at))
        store.seconds_since = counting(rows, store.seconds_since)  # type: ignore[method-assign]
        store.crying_times = counting(rows, store.crying_times)  # type: ignore[method-assign]
        first = states(store, kept, now=last_at)
        assert first["crying"]["state"] == "crying" and sum(rows) > 1200  # the burst, once
        rows.clear()
        for room in ("crying", "calm"):
            more = seconds_heard(room, [0.9, 0.9], last_at=last_at + timedelta(seconds=2))
            store.write([replace(s, offset_s=s.offset_s + 1260) for s in more])  # the same run
        then = states(store, kept, now=last_at + timedelta(seconds=2))
    episode = first["crying"]["open_episode"]
    assert then["crying"] == {
        **first["crying"],
        "for_s": first["crying"]["for_s"] + 2,
        "open_episode": {**episode, "crying_s": episode["crying_s"] + 2},
    }
    assert sum(rows) <= 4  # the two new seconds of each room
