"""The episode state machine on crafted score sequences: exact starts, ends and confirmations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from miserymeter.detect.episodes import (
    DetectedEpisode,
    DetectorOutput,
    EpisodeConfirmed,
    EpisodeDetector,
)
from miserymeter.detect.replay import (
    A_BREATH_S,
    Replayed,
    RollingReplay,
    last_burst,
    replay,
    replay_start,
    time_at,
)
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import ConfigError
from miserymeter.records import SecondRecord

SETTINGS = DetectorSettings(
    on_probability=0.6,
    off_probability=0.35,
    smoothing_s=3.0,
    min_duration_s=3.0,
    merge_gap_s=5.0,
)


def run(
    scores: Sequence[float | None], settings: DetectorSettings = SETTINGS
) -> list[DetectorOutput]:
    """Feed one score per 1 s hop (hop i ends at i + 1 s), then flush."""
    detector = EpisodeDetector(settings, hop_s=1.0)
    outputs: list[DetectorOutput] = []
    for i, score in enumerate(scores):
        outputs += detector.feed(score, end_s=i + 1.0)
    return outputs + detector.flush()


def episodes(outputs: list[DetectorOutput]) -> list[DetectedEpisode]:
    return [o for o in outputs if isinstance(o, DetectedEpisode)]


def test_silence_gives_nothing() -> None:
    assert run([0.0] * 60) == []


def test_a_burst_of_crying_is_one_episode_with_exact_bounds() -> None:
    outputs = run([0.0] * 10 + [1.0] * 10 + [0.0] * 20)
    # smoothed over 3 hops: reaches 0.67 >= on at hop 11 (ends 12 s); the burst began at 10 s.
    assert outputs == [
        EpisodeConfirmed(start_s=10.0, confirmed_s=13.0),
        DetectedEpisode(
            start_s=10.0, end_s=20.0, confirmed_s=13.0, peak_probability=1.0, mean_probability=1.0
        ),
    ]


def test_crying_is_timed_from_its_rise_and_confirmed_as_on_is_reached_when_long_enough() -> None:
    settings = DetectorSettings(
        on_probability=0.7, off_probability=0.3, smoothing_s=2.0, min_duration_s=3.0
    )
    # Doubtful hops (0.5, at or above "off") from 5 s, sure ones from 8 s: smoothed over 2 hops
    # the score reaches "on" with the hop ending at 9 s. The rise counts back the minimum
    # duration's 3 hops (to 6 s), so the crying has lasted 3 s and is confirmed then.
    outputs = run([0.0] * 5 + [0.5] * 3 + [1.0] * 5 + [0.0] * 40, settings)

    assert outputs[0] == EpisodeConfirmed(start_s=6.0, confirmed_s=9.0)
    (episode,) = episodes(outputs)
    assert (episode.start_s, episode.end_s) == (6.0, 13.0)
    assert episode.mean_probability == pytest.approx((2 * 0.5 + 5 * 1.0) / 7)


def test_the_episode_is_handed_out_once_the_merge_gap_has_passed() -> None:
    detector = EpisodeDetector(SETTINGS, hop_s=1.0)
    scores = [1.0] * 8 + [0.0] * 10
    ends = {}
    for i, score in enumerate(scores):
        for output in detector.feed(score, end_s=i + 1.0):
            ends[type(output).__name__] = i + 1.0
    # last crying hop ends at 8 s; smoothed falls below "off" at 10 s; 8 + 5 s gap passed at 14 s.
    assert ends == {"EpisodeConfirmed": 3.0, "DetectedEpisode": 14.0}


def test_a_blip_shorter_than_the_minimum_duration_is_dropped() -> None:
    assert run([0.0] * 5 + [1.0, 1.0] + [0.0] * 20) == []


def test_bursts_closer_than_the_merge_gap_are_one_episode() -> None:
    found = episodes(run([1.0] * 6 + [0.0] * 4 + [1.0] * 6 + [0.0] * 20))
    assert [(e.start_s, e.end_s) for e in found] == [(0.0, 16.0)]
    assert found[0].mean_probability == pytest.approx(12 / 16)


def test_bursts_further_apart_than_the_merge_gap_are_two_episodes() -> None:
    found = episodes(run([1.0] * 6 + [0.0] * 12 + [1.0] * 6 + [0.0] * 20))
    assert [(e.start_s, e.end_s) for e in found] == [(0.0, 6.0), (18.0, 24.0)]


def test_hysteresis_keeps_an_episode_through_a_dip_above_off() -> None:
    scores = [0.9] * 5 + [0.4] * 5 + [0.9] * 5 + [0.0] * 20
    found = episodes(run(scores))
    assert [(e.start_s, e.end_s) for e in found] == [(0.0, 15.0)]
    assert found[0].peak_probability == 0.9


def test_scores_that_never_reach_on_never_start_an_episode() -> None:
    assert run([0.55] * 30) == []


def test_an_episode_open_at_the_end_of_the_input_is_flushed() -> None:
    found = episodes(run([0.0] * 3 + [1.0] * 10))
    assert [(e.start_s, e.end_s) for e in found] == [(3.0, 13.0)]


def test_a_missing_score_repeats_the_last_one() -> None:
    with_gaps = run([0.0] * 3 + [1.0, None, None, 1.0, None] + [0.0] * 20)
    assert episodes(with_gaps) == episodes(run([0.0] * 3 + [1.0] * 5 + [0.0] * 20))


def test_thresholds_are_checked() -> None:
    with pytest.raises(ConfigError, match="off <= on"):
        DetectorSettings(on_probability=0.3, off_probability=0.5)
    with pytest.raises(ConfigError, match="merge_gap_s"):
        DetectorSettings(merge_gap_s=-1)


def bursty_seconds(rng: np.random.Generator, n_seconds: int) -> list[SecondRecord]:
    """A run's seconds: low scores (some gated, None) with bursts of crying, short and long,
    near and far apart, some ending in the last seconds."""
    scores = np.where(rng.random(n_seconds) < 0.2, np.nan, rng.uniform(0.0, 0.3, n_seconds))
    for _ in range(int(rng.integers(0, 12))):
        start, n = int(rng.integers(0, n_seconds)), int(rng.integers(1, 30))
        scores[start : start + n] = rng.uniform(rng.uniform(0.0, 0.6), 1.0, len(scores[start:][:n]))
    first_at = datetime(2026, 11, 24, 20, 0, 0, 250_000, tzinfo=UTC)
    return [
        SecondRecord("nursery", first_at + timedelta(seconds=k), 100.0 + k, -40.0,
                     None if np.isnan(p) else float(p), None)
        for k, p in enumerate(scores)
    ]  # fmt: skip


@pytest.mark.parametrize("settings", [SETTINGS, DetectorSettings()])
def test_a_replay_from_the_last_burst_ends_as_one_from_the_start(
    settings: DetectorSettings,
) -> None:
    rng = np.random.default_rng(11)
    n_open = 0
    for _ in range(300):
        seconds = bursty_seconds(rng, 200)
        crying_at = [
            s.at for s in seconds if (s.crying_probability or 0.0) >= settings.off_probability
        ]
        whole = replay(seconds, settings, hop_s=1.0)
        burst = last_burst(crying_at, seconds[-1].at, settings, hop_s=1.0)
        if burst is None:
            assert whole.open_episode is None and not whole.crying_now
            continue
        start = replay_start(burst, settings, hop_s=1.0)
        part = replay([s for s in seconds if s.at >= start], settings, hop_s=1.0)
        assert part == whole
        n_open += whole.open_episode is not None
    assert n_open > 20  # the open episodes were compared, not only the idle ends


@pytest.mark.parametrize("settings", [SETTINGS, DetectorSettings()])
def test_a_rolling_replay_fed_in_parts_ends_as_a_replay_from_the_last_burst(
    settings: DetectorSettings,
) -> None:
    rng = np.random.default_rng(12)
    n_open = 0
    for _ in range(200):
        seconds = bursty_seconds(rng, 200)
        rolling = RollingReplay(settings, hop_s=1.0, since=seconds[0].at - timedelta(hours=1))
        taken = 0
        while taken < len(seconds):
            part = seconds[taken : taken + int(rng.integers(1, 40))]
            taken += len(part)
            assert rolling.extend(part)
            heard = seconds[:taken]
            crying_at = [
                s.at for s in heard if (s.crying_probability or 0.0) >= settings.off_probability
            ]
            burst = last_burst(crying_at, heard[-1].at, settings, hop_s=1.0)
            assert rolling.burst_at(heard[-1].at) == burst
            if burst is None:
                assert rolling.replayed() == Replayed(None, False)
                continue
            start = replay_start(burst, settings, hop_s=1.0)
            replayed = [s for s in heard if s.at >= start]
            assert rolling.replayed() == replay(replayed, settings, hop_s=1.0)
            episode = rolling.replayed().open_episode
            if episode is not None:
                assert rolling.time_at(episode.start_s) == time_at(replayed, episode.start_s)
                n_open += 1
    assert n_open > 100  # open episodes were compared, not only idle ends


def test_a_rolling_replay_cannot_replay_a_burst_from_before_what_it_knows() -> None:
    first_at = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    seconds = [
        SecondRecord("nursery", first_at + timedelta(seconds=k), float(k), -40.0, p, None)
        for k, p in enumerate([0.0, 0.0, 0.9, 0.9])
    ]
    assert not RollingReplay(SETTINGS, hop_s=1.0, since=first_at).extend(seconds)


def test_crying_now_holds_through_a_breath_not_a_longer_pause() -> None:
    """With off = on (no hysteresis) the detector goes idle in every dip of a cry; a parent's
    "crying now" holds through a pause of up to A_BREATH_S, then says quiet while the episode
    is still open (inside the merge gap)."""
    settings = DetectorSettings()
    first_at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

    def heard(scores: list[float]) -> list[SecondRecord]:
        return [
            SecondRecord("nursery", first_at + timedelta(seconds=k), float(k), -30.0, p, None)
            for k, p in enumerate(scores)
        ]

    crying = [0.95] * 20
    breath = replay(heard(crying + [0.1] * 6), settings, hop_s=1.0)
    assert breath.open_episode is not None and breath.crying_now
    pause = replay(heard(crying + [0.1] * int(A_BREATH_S + 5)), settings, hop_s=1.0)
    assert pause.open_episode is not None and not pause.crying_now
    assert settings.merge_gap_s > A_BREATH_S + 5
