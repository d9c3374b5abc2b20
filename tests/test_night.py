"""Test nights: the truth matches the audio, the layout follows the settings, held-out clips."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from miserymeter.audio.recorded_time import recorded_start
from miserymeter.errors import DatasetError
from miserymeter.evaluation.night import (
    Clip,
    NightSettings,
    make_night,
    write_night,
)
from miserymeter.evaluation.truth import TruthEvent, read_truth
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.train.corpus import prepare_cry_corpus
from miserymeter.train.dataset import scan_dataset
from miserymeter.train.heldout import heldout_sounds

RATE_HZ = 16_000
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_night.py"
SETTINGS = NightSettings(
    duration_s=240.0,
    episode_s=(20.0, 30.0),
    excerpt_s=(5.0, 8.0),
    quiet_s=(3.0, 6.0),
)


def tone(duration_s: float, frequency_hz: float) -> np.ndarray:
    t_s = np.arange(round(duration_s * RATE_HZ)) / RATE_HZ
    return (0.3 * np.sin(2 * np.pi * frequency_hz * t_s)).astype(np.float32)


CRIES = [Clip(tone(1.5, 450.0 + 50 * k), "crying") for k in range(3)]
NOISES = [Clip(tone(2.0, 150.0), "dog"), Clip(tone(30.0, 220.0), "music")]


def frame_dbfs(samples: np.ndarray, frame_s: float = 0.01) -> np.ndarray:
    n = round(frame_s * RATE_HZ)
    frames = samples[: len(samples) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


@pytest.fixture(scope="module")
def night() -> tuple:
    made = make_night(CRIES, NOISES, rng=np.random.default_rng(7), settings=SETTINGS)
    return made, made.events


def test_events_are_ordered_apart_and_inside_the_night(night: tuple) -> None:
    made, events = night
    assert len(made.samples) == 240 * RATE_HZ and made.sample_rate_hz == RATE_HZ
    assert events[0].start_s >= SETTINGS.quiet_s[0]
    for before, after in itertools.pairwise(events):
        assert after.start_s - before.end_s >= SETTINGS.quiet_s[0] - 1e-9
    assert events[-1].end_s <= 240.0 - SETTINGS.quiet_s[0]
    kinds = [e.kind for e in events]
    assert set(kinds) == {"crying", "dog", "music"}
    assert kinds.count("crying") * SETTINGS.noise_events_per_episode >= len(kinds) // 2


def test_episodes_and_excerpts_have_the_lengths_asked_for(night: tuple) -> None:
    _, events = night
    for event in events:
        duration_s = event.end_s - event.start_s
        if event.kind == "crying":
            assert 20.0 <= duration_s <= 30.0
        elif event.kind == "dog":  # shorter than any excerpt: placed whole
            assert duration_s == pytest.approx(2.0)
        else:
            assert 5.0 <= duration_s <= 8.0


def test_the_truth_matches_the_audio(night: tuple) -> None:
    made, events = night
    inside = np.zeros(len(made.samples), dtype=bool)
    for event in events:
        inside[round(event.start_s * RATE_HZ) : round(event.end_s * RATE_HZ)] = True
    assert rms_dbfs(made.samples[~inside]) == pytest.approx(SETTINGS.room_tone_dbfs, abs=0.5)
    for event in events:
        sound = made.samples[round(event.start_s * RATE_HZ) : round(event.end_s * RATE_HZ)]
        low, high = (
            SETTINGS.episode_level_dbfs if event.kind == "crying" else SETTINGS.noise_level_dbfs
        )
        assert low - 6 < rms_dbfs(sound) < high + 6
        levels = frame_dbfs(sound)
        assert min(levels[1], levels[-2]) > SETTINGS.room_tone_dbfs + 10  # sound to both edges


def test_cries_are_strung_with_short_pauses_at_their_own_gains(night: tuple) -> None:
    made, events = night
    episode = next(e for e in events if e.kind == "crying")
    sound = made.samples[round(episode.start_s * RATE_HZ) : round(episode.end_s * RATE_HZ)]
    loud = frame_dbfs(sound) > SETTINGS.room_tone_dbfs + 10
    edges = np.flatnonzero(np.diff(loud.astype(int)))
    pauses_s = (edges[1::2] - edges[::2]) * 0.01  # from a loud→quiet edge to the next
    assert len(pauses_s) >= 5  # 1.5 s clips and pauses of at most 2 s in 20 s or more
    assert np.all((pauses_s >= 0.2 - 0.03) & (pauses_s <= 2.0 + 0.03))
    runs = np.split(frame_dbfs(sound), edges + 1)
    clip_levels_dbfs = [
        np.median(run)
        for run, is_loud in zip(runs, loud[np.r_[0, edges + 1]], strict=True)
        if is_loud
    ]
    assert np.ptp(clip_levels_dbfs) > 1.0


def test_the_same_seed_gives_the_same_night() -> None:
    short = NightSettings(duration_s=90.0, episode_s=(20.0, 25.0), quiet_s=(3.0, 6.0))
    a, b, c = (
        make_night(CRIES, NOISES, rng=np.random.default_rng(seed), settings=short)
        for seed in (3, 3, 4)
    )
    assert a.events == b.events and np.array_equal(a.samples, b.samples)
    assert a.events != c.events


def test_every_clip_is_used_before_any_is_used_twice() -> None:
    cries = [Clip(tone(1.0, 400.0 + 100 * k), "crying") for k in range(8)]
    settings = NightSettings(
        duration_s=200.0, episode_s=(20.0, 20.0), pause_s=(0.2, 0.2), quiet_s=(5.0, 5.0)
    )
    made = make_night(cries, NOISES, rng=np.random.default_rng(1), settings=settings)
    episode = next(e for e in made.events if e.kind == "crying")
    sound = made.samples[round(episode.start_s * RATE_HZ) : round(episode.end_s * RATE_HZ)]
    spectrum = np.abs(np.fft.rfft(sound[: 8 * RATE_HZ * 12 // 10]))  # the first 8 clips
    peaks_hz = np.fft.rfftfreq(8 * RATE_HZ * 12 // 10, 1 / RATE_HZ)[spectrum > spectrum.max() / 4]
    assert {round(f, -2) for f in peaks_hz} == {400.0 + 100 * k for k in range(8)}


def test_written_night_is_16_khz_flac_and_its_truth_reads_back(tmp_path: Path) -> None:
    settings = dataclasses.replace(SETTINGS, duration_s=60.0)
    made = make_night(CRIES, NOISES, rng=np.random.default_rng(2), settings=settings)
    assert made.events
    write_night(made, tmp_path / "night.flac", tmp_path / "night.csv")
    info = sf.info(tmp_path / "night.flac")
    assert (info.samplerate, info.channels, info.format, info.subtype) == (
        16_000,
        1,
        "FLAC",
        "PCM_16",
    )
    assert info.frames == 60 * RATE_HZ
    with (tmp_path / "night.csv").open() as f:
        assert next(csv.reader(f)) == ["start_s", "end_s", "kind"]
    read = read_truth(tmp_path / "night.csv")
    assert [e.kind for e in read] == [e.kind for e in made.events]
    for got, want in zip(read, made.events, strict=True):
        assert got.start_s == pytest.approx(want.start_s, abs=5e-4)
        assert got.end_s == pytest.approx(want.end_s, abs=5e-4)


def test_make_night_script_builds_a_demo_from_the_bundled_examples(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, SCRIPT, "--examples", "--seed", "1", "--out", tmp_path / "demo.flac"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    events = read_truth(tmp_path / "demo.csv")
    assert sf.info(tmp_path / "demo.flac").duration == 180.0
    kinds = {e.kind for e in events}
    assert "crying" in kinds and kinds <= {"crying", "cat", "dog", "laughing", "music", "speech"}
    assert f"{sum(e.kind == 'crying' for e in events)} crying episodes" in process.stdout


def test_the_demo_night_ends_when_it_is_made_not_in_the_future(tmp_path: Path) -> None:
    """`make demo`'s night carries the time it began, so `listen` replays it onto the minutes
    just past: a dashboard opened at once shows no episode after now."""
    out = tmp_path / "demo.flac"
    before = datetime.now(UTC)
    process = subprocess.run(
        [sys.executable, SCRIPT, "--examples", "--ending_now", "--out", out],
        capture_output=True,
        text=True,
        check=False,
    )
    after = datetime.now(UTC)
    assert process.returncode == 0, process.stderr
    start = recorded_start(out)
    assert start is not None, "the night carries no time"
    ended = start + timedelta(seconds=sf.info(out).duration)
    assert before - timedelta(seconds=1) <= ended <= after  # the tag keeps whole seconds


def write_fake_corpus(corpus: Path) -> None:
    """A cry corpus in miniature: phone cries of three families, a full-band cry, ESC-50 clips
    (with and without a category), and a music and a speech recording."""
    rows = []
    names = [
        *(
            f"crying/donateacry__{family}-14307261962{k}-1.7-m-04-hu.flac"
            for family in (
                "02c3b725-26e4-4a2c-9336-04ddc58836d9",
                "d6cda191-4962-4308-9a36-46d5648a95ed",
                "8f4dbf5a-b504-4452-b6ac-94e646a6a052",
            )
            for k in range(2)
        ),
        "crying/esc50__crying_baby__4-167077-A-20.flac",  # a full-band cry in training
        "crying/esc50__crying_baby__1-211527-A-20.flac",  # ...and one in validation
        *(f"noise/esc50__dog__1-{100032 + k}-A.flac" for k in range(12)),
        *(f"noise/esc50__1-{13571 + k}-A.flac" for k in range(12)),
    ]
    for name in names:
        rate = 8000 if "donateacry" in name else 22050
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(corpus / name, np.full(rate // 2, 0.1, dtype=np.float32), rate)
        rows.append((name, name.split("/")[0], "x", "x", rate, "x"))
    (corpus / "_background_noise_").mkdir()
    for name in ("music__a_piece", "speech__a_reader"):
        sf.write(corpus / "_background_noise_" / f"{name}.flac", np.zeros(22050 * 6), 22050)
    with (corpus / "manifest.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "label", "source", "detail", "sample_rate", "license")])
        csv.writer(f).writerows(rows)


def test_heldout_sounds_are_the_default_models_split_of_the_prepared_corpus(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    write_fake_corpus(corpus)
    prepared = prepare_cry_corpus(corpus, tmp_path / "prepared")
    index = scan_dataset(
        prepared.data_dir, wanted_words=["crying"], validation_percentage=15, testing_percentage=15
    )
    for split in ("testing", "validation"):
        sounds = heldout_sounds(corpus, split=split)
        prepared_in_split = index.in_split(split)
        clips = [
            s
            for s in (*sounds.cries, *sounds.fullband_cries, *sounds.sounds)
            if s.path.parent.name != "_background_noise_"
        ]
        assert {s.path.resolve() for s in clips} == {
            e.path.resolve() for e in prepared_in_split if e.path.is_symlink()
        }
        recordings = {s.kind for s in sounds.sounds} - {"crying", "dog", "other"}
        assert recordings == {
            e.path.parent.name for e in prepared_in_split if not e.path.is_symlink()
        }
        fullband = [s.path.name for s in sounds.fullband_cries]
        assert fullband == (
            ["esc50__crying_baby__1-211527-A-20.flac"] if split == "validation" else []
        )
    assert [p.name for p in prepared.heldout_fullband_cries] == ["esc50-1-211527_nohash_A-20.flac"]
    testing = heldout_sounds(corpus, split="testing")
    assert len(testing.cries) == 4  # two families of three
    assert sorted({s.kind for s in testing.sounds}) == ["dog", "other"]
    assert {s.kind for s in testing.seen_recordings} == {"music", "speech"}
    validation = heldout_sounds(corpus, split="validation")  # the reader is in validation
    assert sorted(s.kind for s in validation.sounds) == ["other", "other", "speech"]
    assert {s.kind for s in validation.seen_recordings} == {"music"}


def test_truth_events_know_which_are_crying() -> None:
    assert TruthEvent(0.0, 1.0, "crying").is_crying
    assert not TruthEvent(0.0, 1.0, "cat").is_crying


def test_a_spreadsheets_truth_csv_reads_and_one_in_another_encoding_is_one_error(
    tmp_path: Path,
) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark and may capitalise the kind: the
    header read as "\\ufeffstart_s" ("no start_s column") and "Crying" counted as another sound.
    A Latin-1 file was a UnicodeDecodeError traceback."""
    excel = tmp_path / "excel.csv"
    excel.write_bytes("start_s,end_s,kind\r\n12.5,40,Crying\r\n50,52,dog\r\n".encode("utf-8-sig"))
    assert read_truth(excel) == (TruthEvent(12.5, 40.0, "crying"), TruthEvent(50.0, 52.0, "dog"))
    assert read_truth(excel)[0].is_crying
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("start_s,end_s,kind\n1,2,bébé\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin1\.csv: not UTF-8 text; save it as CSV UTF-8"):
        read_truth(latin1)
