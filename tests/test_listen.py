"""`miserymeter listen` on real audio: files, stdin, and the streaming pipeline behind them."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import CliRunner, assert_one_error_line, cli_command, cli_env
from miserymeter.audio.archive import segment_path
from miserymeter.audio.episode_clips import ClipSettings, EpisodeClipKeeper
from miserymeter.audio.io import read_audio
from miserymeter.capture.sources import FileSource, SourceBlock, StdinSource
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import StorageError
from miserymeter.frontend.hops import HopFramer, SlidingWindow
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.frontend.noise_floor import NoiseFloor
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, EXAMPLES_DIR
from miserymeter.inference.classify import classify_file
from miserymeter.inference.model import Classifier
from miserymeter.pipeline import Listener, ListenSettings, detect_file
from miserymeter.records import (
    CryingContinues,
    Episode,
    ListenerStatus,
    MinuteSummary,
    Record,
    SecondRecord,
)
from miserymeter.rooms import MAX_ROOM_CHARS, require_room_name
from miserymeter.store import open_store

RATE_HZ = 16_000
CRYING = EXAMPLES_DIR / "crying-fullband-esc50-4-185575-B.flac"
QUIET = EXAMPLES_DIR / "quiet-room-synthetic.flac"
PHONE_CRYING = EXAMPLES_DIR / "crying-phone-donateacry-d6cda191.flac"
NOT_CRYING = ["speech-librispeech-198-209-0000.flac", "music-brahms-hungarian-dance-5.flac"]
START = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


def clip(path: Path) -> np.ndarray:
    return read_audio(path, sample_rate_hz=RATE_HZ).samples


def quiet(duration_s: float) -> np.ndarray:
    bed = clip(QUIET)
    return np.tile(bed, int(duration_s * RATE_HZ) // len(bed) + 1)[: int(duration_s * RATE_HZ)]


def small_night() -> np.ndarray:
    """20 s quiet, 20 s of crying (20-40 s), 20 s quiet, speech and music, 20 s quiet: 88 s."""
    pieces = [quiet(20), np.tile(clip(CRYING), 5), quiet(20)]
    pieces += [clip(EXAMPLES_DIR / name) for name in NOT_CRYING] + [quiet(20)]
    return np.concatenate(pieces).astype(np.float32)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("night") / "night.flac"
    sf.write(path, small_night(), RATE_HZ)
    return path


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(DEFAULT_MODEL_PATH)


class Collect:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.records += records

    def of(self, kind: type) -> list:
        return [r for r in self.records if isinstance(r, kind)]


class BlockSource:
    """A file cut into blocks of one size, to prove the results do not depend on it."""

    is_live = False
    is_device_paced = False
    backlog_s = 0.0
    name = "blocks"

    def __init__(self, samples: np.ndarray, *, block_frames: int, sample_rate_hz: int) -> None:
        self.samples = samples
        self.block_frames = block_frames
        self.sample_rate_hz = sample_rate_hz

    def blocks(self, stop: threading.Event) -> Iterator[SourceBlock]:
        for first in range(0, len(self.samples), self.block_frames):
            block = self.samples[first : first + self.block_frames]
            yield SourceBlock(block, START if first == 0 else None)
        yield SourceBlock(np.zeros(0, dtype=np.float32), ends_run=True)


class LaggingSource(BlockSource):
    """A live source that is always far behind: every window it has is stale."""

    is_live = True
    backlog_s = 60.0


def listen_to(source: object, classifier: Classifier, **settings: object) -> Collect:
    collect = Collect()
    listener = Listener(
        source,  # type: ignore[arg-type]
        classifier,
        ListenSettings(**settings),  # type: ignore[arg-type]
        sinks=[collect],
        clock=lambda: START,
    )
    listener.run(threading.Event())
    return collect


def heard(collect: Collect) -> list[Record]:
    """What the listener made of the audio (its statuses measure the machine, not the audio)."""
    return [r for r in collect.records if not isinstance(r, ListenerStatus)]


def test_hop_framer_gives_the_same_hops_whatever_the_block_size() -> None:
    samples = np.arange(10_000, dtype=np.float32)
    for block in (1, 7, 160, 999, 10_000):
        framer = HopFramer(1_000)
        hops = [
            h for i in range(0, len(samples), block) for h in framer.push(samples[i : i + block])
        ]
        assert np.array_equal(np.concatenate(hops), samples)
        assert len(framer.remainder()) == 0


def test_sliding_window_holds_the_latest_samples() -> None:
    window = SlidingWindow(4)
    window.advance(np.array([1, 2], dtype=np.float32))
    assert not window.is_full
    window.advance(np.array([3, 4], dtype=np.float32))
    window.advance(np.array([5, 6], dtype=np.float32))
    assert window.is_full
    assert window.samples.tolist() == [3, 4, 5, 6]


def test_noise_floor_is_the_quietest_second_of_the_horizon() -> None:
    floor = NoiseFloor(hop_s=1.0, horizon_s=20.0)
    levels = [-50.0] * 5 + [-70.0] + [-120.0] + [-40.0] * 10
    for level in levels:
        floor.add(level)
    assert floor.floor_dbfs == -70.0  # digital silence (-120) does not count
    for _ in range(20):
        floor.add(-45.0)
    assert floor.floor_dbfs == -45.0  # the quiet second has left the horizon


def test_streamed_scores_equal_offline_classify(classifier: Classifier) -> None:
    """Hop = window: the streamed windows are classify's back-to-back windows, resampled alike."""
    window_s = classifier.info.clip_duration_ms / 1000
    offline = classify_file(classifier, PHONE_CRYING)  # 8 kHz: resampled in both
    source = FileSource(PHONE_CRYING, clock=lambda: START)
    seconds = listen_to(source, classifier, hop_s=window_s, gate_db=None).of(SecondRecord)
    streamed = {s.offset_s: s.crying_probability for s in seconds}
    compared = 0
    for window in offline.windows:
        start_s = round(window.start_s, 3)
        if start_s in streamed and streamed[start_s] is not None:
            assert streamed[start_s] == pytest.approx(window.probabilities["crying"], abs=2e-3)
            compared += 1
    assert compared >= 2


def test_results_do_not_depend_on_the_block_size(classifier: Classifier) -> None:
    samples = small_night()[: 50 * RATE_HZ]
    runs = [
        listen_to(BlockSource(samples, block_frames=n, sample_rate_hz=RATE_HZ), classifier)
        for n in (160, 1_000, 16_000)
    ]
    assert heard(runs[0]) == heard(runs[1]) == heard(runs[2])
    assert len(runs[0].of(Episode)) == 1


def test_the_listener_reports_its_cpu_use_and_dropped_windows(classifier: Classifier) -> None:
    samples = small_night()[: 30 * RATE_HZ]
    used_before_s = time.process_time()
    collect = listen_to(
        BlockSource(samples, block_frames=RATE_HZ, sample_rate_hz=RATE_HZ),
        classifier,
        gate_db=None,
        status_every_s=0.0,  # a status after every block
    )
    used_s = time.process_time() - used_before_s
    statuses = collect.of(ListenerStatus)
    assert len(statuses) >= 30 and all(s.n_dropped == 0 for s in statuses)
    reported_s = sum(s.cpu_percent * s.period_s for s in statuses) / 100
    # The reporter's periods and this measurement do not start at the same instant: a few ms.
    assert 0 < reported_s <= used_s + 0.01 and reported_s == pytest.approx(used_s, rel=0.3)
    (once,) = listen_to(
        BlockSource(samples, block_frames=RATE_HZ, sample_rate_hz=RATE_HZ), classifier
    ).of(ListenerStatus)  # a minute never passed: one status, when it stopped
    assert once.period_s < 60

    behind = listen_to(
        LaggingSource(samples, block_frames=RATE_HZ, sample_rate_hz=RATE_HZ),
        classifier,
        gate_db=None,
        status_every_s=0.0,
    )
    n_unscored = sum(s.crying_probability is None for s in behind.of(SecondRecord))
    assert sum(s.n_dropped for s in behind.of(ListenerStatus)) == n_unscored - 1 == 29


def test_a_night_gives_one_episode_where_the_crying_is(night: Path, classifier: Classifier) -> None:
    (episode,) = detect_file(night, classifier=classifier)
    assert 18.0 <= episode.start_offset_s <= 22.0
    assert 38.0 <= episode.end_offset_s <= 42.0
    assert episode.start_offset_s < episode.confirmed_offset_s <= episode.start_offset_s + 6
    assert episode.peak_probability > 0.6  # well above on_probability, after YAMNet


def test_the_rms_baseline_also_fires_on_speech_and_music(
    night: Path, classifier: Classifier
) -> None:
    settings = DetectorSettings(rms_threshold_dbfs=-40.0, merge_gap_s=10.0)
    found = detect_file(night, classifier=classifier, detector="rms", settings=settings)
    assert len(found) == 2  # the crying, and the speech and music after it
    assert all(e.detector == "rms" for e in found)


def test_seconds_and_minutes_are_recorded(night: Path, classifier: Classifier) -> None:
    collect = listen_to(FileSource(night, clock=lambda: START, start=START), classifier)
    seconds = collect.of(SecondRecord)
    assert len(seconds) == 88
    assert [s.at.second for s in seconds[:3]] == [0, 1, 2]
    crying_levels = [s.level_dbfs for s in seconds[20:40]]
    quiet_levels = [s.level_dbfs for s in seconds[2:18]]
    assert min(crying_levels) > max(quiet_levels)
    minutes = collect.of(MinuteSummary)
    assert [m.n_seconds for m in minutes] == [60, 28]
    # 20 s of crying; YAMNet takes back a few of the phone cry's quieter seconds
    assert minutes[0].crying_fraction == pytest.approx(20 / 60, abs=5 / 60)


def test_the_gate_skips_the_model_in_a_quiet_room_without_losing_the_episode(
    night: Path, classifier: Classifier
) -> None:
    gated = listen_to(FileSource(night, clock=lambda: START), classifier)
    ungated = listen_to(FileSource(night, clock=lambda: START), classifier, gate_db=None)
    n_skipped = sum(1 for s in gated.of(SecondRecord) if s.crying_probability is None)
    # quiet once the floor is known (10-20 s) and once the episode closed (70-88 s)
    assert n_skipped >= 25
    spans = [[(e.start_offset_s, e.end_offset_s) for e in c.of(Episode)] for c in (gated, ungated)]
    assert spans[0] == spans[1]


def white_noise_machine(duration_s: float, *, level_dbfs: float) -> np.ndarray:
    """A hissing white-noise machine: loud below 250 Hz and above 4 kHz, 20 dB softer between."""
    rng = np.random.default_rng(0)
    n = int(duration_s * RATE_HZ)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequencies_hz = np.fft.rfftfreq(n, d=1 / RATE_HZ)
    spectrum[(frequencies_hz > 250) & (frequencies_hz < 4_000)] *= 0.1
    hiss = np.fft.irfft(spectrum, n=n)
    return (hiss * 10 ** (level_dbfs / 20) / np.sqrt(np.mean(hiss**2))).astype(np.float32)


def test_the_gate_hears_a_cry_the_white_noise_machine_is_louder_than(tmp_path: Path) -> None:
    """The gate measures the band where crying is loud: a cry 6 dB under the machine's hiss
    raises the whole spectrum's level by 1 dB (under the 3 dB gate), that band's by far more."""
    night = white_noise_machine(60.0, level_dbfs=-25.0)
    cry = np.tile(clip(CRYING), 3)
    cry *= 10 ** (-31 / 20) / np.sqrt(np.mean(cry**2))
    night[20 * RATE_HZ : 20 * RATE_HZ + len(cry)] += cry
    assert rms_dbfs(night[21 * RATE_HZ : 23 * RATE_HZ]) < rms_dbfs(night[: RATE_HZ * 10]) + 3
    path = tmp_path / "hiss.flac"
    sf.write(path, night, RATE_HZ)
    classifier = Classifier(DEFAULT_MODEL_PATH)
    gated = listen_to(FileSource(path, clock=lambda: START), classifier)
    ungated = listen_to(FileSource(path, clock=lambda: START), classifier, gate_db=None)
    (episode,) = gated.of(Episode)
    assert 18.0 <= episode.start_offset_s <= 22.0
    assert [e.start_offset_s for e in ungated.of(Episode)] == [episode.start_offset_s]
    machine_alone = [s for s in gated.of(SecondRecord) if 10 <= s.offset_s < 19]
    assert all(s.crying_probability is None for s in machine_alone)  # skipped once floor known


def listen_to_samples(samples: np.ndarray, folder: Path) -> Collect:
    path = folder / f"night-{len(samples)}.flac"
    sf.write(path, samples, RATE_HZ)
    return listen_to(FileSource(path, clock=lambda: START), Classifier(DEFAULT_MODEL_PATH))


def test_still_crying_is_told_only_while_the_crying_goes_on(tmp_path: Path) -> None:
    """50 s of crying, then quiet: the episode stays open for the merge gap, but a minute after
    its start the baby is quiet, so no `still_crying` (it was told, lasting past the end)."""
    samples = np.concatenate([quiet(20.0), np.tile(clip(CRYING), 13)[: 50 * RATE_HZ], quiet(50.0)])
    collect = listen_to_samples(samples, tmp_path)
    (episode,) = collect.of(Episode)
    assert episode.end_offset_s - episode.start_offset_s < 60
    assert collect.of(CryingContinues) == []
    long_cry = np.concatenate(
        [quiet(20.0), np.tile(clip(CRYING), 25)[: 100 * RATE_HZ], quiet(40.0)]
    )
    told = listen_to_samples(long_cry, tmp_path).of(CryingContinues)
    (once,) = told  # a minute in, at the first second it is crying then
    assert 60 <= once.duration_s < 63


def test_listen_json_prints_each_episode_with_offsets(night: Path, run_cli: CliRunner) -> None:
    process = run_cli("listen", "--input", night, "--json", "--no-clips")
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    episode = json.loads(line)
    assert 18.0 <= episode["start_s"] <= 22.0 and 38.0 <= episode["end_s"] <= 42.0
    assert episode["detector"] == "model" and episode["clip"] is None
    assert "1 episode(s)" in process.stderr


def test_episode_audio_is_saved_with_pre_and_post_roll(
    night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    clips = tmp_path / "clips"
    process = run_cli(
        "listen",
        "--input",
        night,
        "--json",
        "--clips",
        clips,
        "--pre_roll_s",
        "2",
        "--post_roll_s",
        "3",
    )
    assert process.returncode == 0, process.stderr
    episode = json.loads(process.stdout)
    saved = clips / episode["clip"]
    audio, rate_hz = sf.read(saved)
    assert rate_hz == RATE_HZ
    assert len(audio) / rate_hz == pytest.approx(episode["duration_s"] + 5, abs=0.01)
    start = round((episode["start_s"] - 2) * RATE_HZ)
    assert np.allclose(audio, small_night()[start : start + len(audio)], atol=1e-4)
    assert [p.name for p in clips.rglob("*.flac")] == [saved.name]


def test_an_episode_whose_audio_cannot_be_saved_is_still_recorded_and_announced(
    night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    """The night's folder in --clips is a file: the clip fails, the episode does not (it was
    lost before)."""
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "2026-01-01").write_text("a file where the night's folder goes")
    db = tmp_path / "night.db"
    process = run_cli(
        "listen",
        "--input",
        night,
        "--start",
        "2026-01-01 00:00+00:00",
        "--json",
        "--clips",
        clips,
        "--db",
        db,
    )
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    assert json.loads(line)["clip"] is None
    warnings = [w for w in process.stderr.splitlines() if "clip_not_saved" in w]
    assert len(warnings) == 1 and "cannot save the episode's audio" in warnings[0]
    assert "Traceback" not in process.stderr
    (stored,) = open_store(db).episodes("nursery")
    assert stored.clip_path is None


def test_clips_that_cannot_be_kept_are_refused_when_listening_starts(
    night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    """--clips naming a file listened all night and kept no audio: refused at the start."""
    not_a_folder = tmp_path / "clips"
    not_a_folder.write_text("a file")
    process = run_cli(
        "listen", "--input", night, "--clips", not_a_folder, "--db", tmp_path / "night.db"
    )
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f"error: {not_a_folder}: cannot write there (a file is in the way); pass --clips a "
        "folder you can write, or --no-clips"
    ]
    kept = run_cli(
        "listen", "--input", night, "--clips", tmp_path / "new" / "clips", "--no-db", "--json"
    )
    assert kept.returncode == 0, kept.stderr
    assert stat.S_IMODE((tmp_path / "new" / "clips").stat().st_mode) == 0o700


def test_a_full_disk_fails_the_clip_in_one_error_and_leaves_no_partial_file(
    tmp_path: Path,
) -> None:
    """The kernel's ENOSPC, from /dev/full where the clip goes; libsndfile never sees it."""
    keeper = EpisodeClipKeeper(
        ClipSettings(tmp_path / "clips"), sample_rate_hz=RATE_HZ, lookback_s=10.0
    )
    keeper.add(clip(CRYING), start_s=0.0, open_since_s=0.0)
    day = tmp_path / "clips" / "2026-11-25"
    day.mkdir(parents=True)
    (day / "nursery_20261125T213000Z.flac").symlink_to("/dev/full")
    with pytest.raises(StorageError, match=r"cannot save the episode.s audio.*No space left"):
        keeper.write(room="nursery", start=START, start_s=1.0, end_s=3.0)
    assert not (day / "nursery_20261125T213000Z.flac").exists()


@pytest.mark.parametrize("room", ["../../Room 2/B", "Гномики"])
def test_any_room_name_saves_its_clips_inside_the_clip_folder(
    room: str, night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    clips = tmp_path / "archive" / "clips"
    process = run_cli("listen", "--input", night, "--json", "--room", room, "--clips", clips)
    assert process.returncode == 0, process.stderr
    saved = (clips / json.loads(process.stdout)["clip"]).resolve()
    assert saved.is_file() and saved.is_relative_to(clips.resolve())
    assert [p.resolve() for p in tmp_path.rglob("*.flac") if p != night] == [saved]


# The longest names allowed, of letters that spell as one, two (ß: ss) or six ASCII ones
# (㎯: rad/s2), of letters with no ASCII spelling, and mixed.
LONGEST_ROOMS = ["x" * MAX_ROOM_CHARS, "ß" * MAX_ROOM_CHARS, "㎯" * MAX_ROOM_CHARS]
LONGEST_ROOMS += ["ひ" * MAX_ROOM_CHARS, ("Bärenhöhle ㎯ ひよこ組 " * 4)[:MAX_ROOM_CHARS]]


@pytest.mark.parametrize("room", LONGEST_ROOMS)
def test_a_room_name_of_the_longest_allowed_saves_its_clips(room: str, tmp_path: Path) -> None:
    """A clip's file name stays below 255 bytes for every name --room takes."""
    require_room_name(room)
    keeper = EpisodeClipKeeper(
        ClipSettings(tmp_path / "clips"), sample_rate_hz=RATE_HZ, lookback_s=10.0
    )
    keeper.add(clip(CRYING), start_s=0.0, open_since_s=0.0)
    saved = tmp_path / "clips" / keeper.write(room=room, start=START, start_s=1.0, end_s=3.0)
    assert saved.is_file() and len(saved.name.encode()) < 255


@pytest.mark.parametrize(
    ("room", "named"),
    [
        ("", "give the room a name"),
        ("   ", "give the room a name"),
        (" Toddlers ", "write --room 'Toddlers'"),
        ("Toddlers " * 32, f"at most {MAX_ROOM_CHARS}"),
        ("ひよこ組" * 17, "68 characters long"),
    ],
)
def test_a_blank_padded_or_too_long_room_name_is_one_error_line(
    room: str, named: str, tmp_path: Path, run_cli: CliRunner
) -> None:
    """On the command line or in the config file: refused before anything starts."""
    args = ("listen", "--input", QUIET, "--no-db", "--no-clips")
    assert_one_error_line(run_cli(*args, "--room", room), "--room", named)
    config = tmp_path / "listen.toml"
    config.write_text(f"[listen]\nroom = {json.dumps(room)}\n")
    assert_one_error_line(run_cli(*args, "--config", config), "--room", named)


def test_listen_reads_raw_pcm_from_stdin(night: Path, run_cli: CliRunner) -> None:
    pcm = (np.clip(sf.read(night, dtype="float32")[0], -1, 1) * 32767).astype("<i2")
    stereo_22k = np.repeat(read_audio(night, sample_rate_hz=22_050).samples[:, None], 2, axis=1)
    for data, rate, channels in (
        (pcm.tobytes(), "16000", "1"),
        ((stereo_22k * 32767).astype("<i2").tobytes(), "22050", "2"),
    ):
        process = subprocess.run(
            [
                *cli_command(),
                "listen",
                "--input",
                "-",
                "--json",
                "--no-clips",
                "--sample_rate",
                rate,
                "--channels",
                channels,
            ],
            input=data,
            capture_output=True,
            env=cli_env(),
            timeout=120,
            check=False,
        )
        assert process.returncode == 0, process.stderr
        (line,) = process.stdout.decode().splitlines()
        assert 18.0 <= json.loads(line)["start_s"] <= 22.0


def test_sigterm_ends_the_open_episode_and_exits_cleanly(night: Path) -> None:
    """Stdin stays open (a live stream); SIGTERM mid-crying flushes the episode and exits 0."""
    samples = sf.read(night, dtype="int16")[0][: 35 * RATE_HZ]  # ends in the middle of the crying
    process = subprocess.Popen(
        [*cli_command(), "listen", "--input", "-", "--no-clips"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.buffer.write(samples.astype("<i2").tobytes())  # type: ignore[attr-defined]
    process.stdin.flush()
    confirmed = process.stdout.readline()  # blocks until the listener is sure
    assert "crying in nursery" in confirmed
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    (episode,) = stdout.splitlines()
    assert "crying" in episode and "peak" in episode
    assert "stopped" in stderr


def test_a_config_file_sets_options_and_the_command_line_wins(
    night: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(
        '[listen]\nroom = "daycare-2"\nno_clips = true\ndetector = "rms"\njson = true\n'
    )
    process = run_cli("listen", "--input", night, "--config", config, "--detector", "model")
    assert process.returncode == 0, process.stderr
    (episode,) = [json.loads(line) for line in process.stdout.splitlines()]
    assert episode["room"] == "daycare-2" and episode["detector"] == "model"


def test_a_config_file_with_a_typo_is_one_clear_error(tmp_path: Path, run_cli: CliRunner) -> None:
    config = tmp_path / "listen.toml"
    config.write_text("[listen]\nromo = 'x'\n")
    assert_one_error_line(run_cli("listen", "--input", QUIET, "--config", config), config, "romo")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--input", "missing.flac"], ["missing.flac"]),
        (["--input", str(QUIET), "--detector", "loud"], ["--detector"]),
        (["--input", str(QUIET), "--label", "dog"], ["--label", "crying"]),
        (["--input", str(QUIET), "--hop_s", "5"], ["--hop_s"]),
        (["--input", str(QUIET), "--on_probability", "0.2"], ["on_probability"]),
        (["--input", str(QUIET), "--model", "nope.onnx"], ["nope.onnx"]),
        (["--input", "-", "--sample_rate", "0"], ["--sample_rate 0", "8000 Hz"]),
    ],
)
def test_bad_listen_input_is_one_clear_error(
    args: list[str], names: list[str], run_cli: CliRunner
) -> None:
    assert_one_error_line(run_cli("listen", *args), *names)


def test_corrupt_and_empty_files_are_one_clear_error(tmp_path: Path, run_cli: CliRunner) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00garbage")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), RATE_HZ)
    for path in (corrupt, empty):
        assert_one_error_line(run_cli("listen", "--input", path), path)


def test_audio_waiting_in_the_stdin_pipe_is_dated_by_when_it_was_heard() -> None:
    """`arecord | miserymeter listen --input -`: arecord may have filled the pipe (2 s at
    16 kHz) before the listener reads; the run starts that long before the first read."""
    read_end, write_end = os.pipe()
    waiting = (np.sin(np.arange(RATE_HZ) / 10) * 10_000).astype("<i2")  # 1 s in the pipe
    os.write(write_end, waiting.tobytes())
    os.close(write_end)
    now = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    with open(read_end, "rb") as stream:
        source = StdinSource(sample_rate_hz=RATE_HZ, n_channels=1, clock=lambda: now, stream=stream)
        first = next(source.blocks(threading.Event()))
    assert first.run_start == now - timedelta(seconds=1)
    assert len(first.samples) == RATE_HZ


def test_a_wav_header_on_stdin_is_one_clear_error() -> None:
    process = subprocess.run(
        [*cli_command(), "listen", "--input", "-"],
        input=b"RIFF" + b"\x00" * 4000,
        capture_output=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert process.returncode == 1
    assert process.stderr.decode().splitlines()[-1].startswith("error: standard input")


def test_a_summer_night_is_dated_in_summer_time_whatever_the_season_now(night: Path) -> None:
    """New York is UTC-4 in July and UTC-5 in December: 21:00 on 5 July is 01:00 UTC."""
    process = subprocess.run(
        [*cli_command(), "listen", "--input", str(night), "--no-clips", "--no-db", "--json",
         "--start", "2026-07-05 21:00"],
        capture_output=True, text=True, env={**cli_env(), "TZ": "America/New_York"}, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    (episode,) = [json.loads(line) for line in process.stdout.splitlines()]
    assert datetime.fromisoformat(episode["start"]) == datetime(
        2026, 7, 6, 1, 0, tzinfo=UTC
    ) + timedelta(seconds=episode["start_s"])


def test_a_closed_stdout_is_one_warning_and_every_episode_is_still_stored(
    night: Path, tmp_path: Path
) -> None:
    """`listen --json | head -1`: the reader goes; listening goes on into the database."""
    db = tmp_path / "night.db"
    process = subprocess.Popen(
        [*cli_command(), "listen", "--input", str(night), "--json", "--no-clips", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdout is not None
    process.stdout.close()  # before the first episode is printed
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert "warning: standard output was closed" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    with open_store(db) as store:
        assert len(store.episodes("nursery")) == 1
        assert [e.kind for e in store.events("nursery")][-1] == "stopped"


def test_start_replays_a_recording_onto_its_night(night: Path, run_cli: CliRunner) -> None:
    process = run_cli("listen", "--input", night, "--json", "--no-clips", "--no-db",
                      "--start", "2026-12-05 21:00")  # fmt: skip
    assert process.returncode == 0, process.stderr
    (episode,) = [json.loads(line) for line in process.stdout.splitlines()]
    heard_from = datetime(2026, 12, 5, 21, 0).astimezone()  # the machine's local time
    assert datetime.fromisoformat(episode["start"]) == heard_from + timedelta(
        seconds=episode["start_s"]
    )
    with_offset = run_cli("listen", "--input", night, "--json", "--no-clips", "--no-db",
                          "--start", "2026-12-05T21:00+09:00")  # fmt: skip
    (tokyo,) = [json.loads(line) for line in with_offset.stdout.splitlines()]
    assert datetime.fromisoformat(tokyo["start"]) == datetime(
        2026, 12, 5, 12, 0, tzinfo=UTC
    ) + timedelta(seconds=tokyo["start_s"])
    assert tokyo["start"].endswith("+00:00") and tokyo["end"].endswith("+00:00")  # UTC


@pytest.mark.parametrize(
    "written", [" 2026-12-05T12:00Z ", "2026-12-05 12:00:00Z", "2026-12-05T13:00+01:00"]
)
def test_start_takes_a_time_as_people_write_it(
    night: Path, run_cli: CliRunner, written: str
) -> None:
    """Spaces around it, `Z` or an offset, `T` or a space, seconds or none: one moment."""
    process = run_cli("listen", "--input", night, "--json", "--no-clips", "--no-db",
                      "--start", written)  # fmt: skip
    assert process.returncode == 0, process.stderr
    (episode,) = [json.loads(line) for line in process.stdout.splitlines()]
    assert datetime.fromisoformat(episode["start"]) == datetime(
        2026, 12, 5, 12, 0, tzinfo=UTC
    ) + timedelta(seconds=episode["start_s"])


def test_lines_show_the_machines_local_time_whatever_the_recordings_offset(night: Path) -> None:
    """Heard from 21:00 in Tokyo (12:00 UTC): 13:00 on a machine one hour east of UTC."""
    process = subprocess.run(
        [*cli_command(), "listen", "--input", str(night), "--no-clips", "--no-db",
         "--start", "2026-12-05T21:00+09:00"],
        capture_output=True, text=True, env={**cli_env(), "TZ": "CET-1"}, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    crying, episode = process.stdout.splitlines()
    assert crying.startswith("2026-12-05 13:0") and episode.startswith("2026-12-05 13:0")


def first_episode_start(run_cli: CliRunner, path: Path) -> tuple[datetime, float]:
    """The first episode `listen --input path` (no --start) finds: its start, and its offset."""
    process = run_cli("listen", "--input", path, "--json", "--no-clips", "--no-db")
    assert process.returncode == 0, process.stderr
    (episode,) = [json.loads(line) for line in process.stdout.splitlines()]
    return datetime.fromisoformat(episode["start"]), episode["start_s"]


def test_a_file_that_carries_its_time_replays_at_it(
    night: Path, run_cli: CliRunner, tmp_path: Path
) -> None:
    """`record`'s segment names and a FLAC/WAV date tag date a replay; other files end now
    (a replay's episodes never lie in the future)."""
    recorded = datetime(2026, 12, 5, 20, 0, 30, tzinfo=UTC)
    segment = segment_path(tmp_path / "archive", recorded)  # the name `record` gives it
    segment.parent.mkdir(parents=True)
    segment.write_bytes(night.read_bytes())
    tagged = tmp_path / "phone-recorder.flac"
    samples, rate_hz = sf.read(night)
    with sf.SoundFile(tagged, "w", rate_hz, 1, format="FLAC") as f:
        f.date = "2026-12-05T22:15:00+01:00"
        f.write(samples)
    day_only = tmp_path / "day-only.wav"
    with sf.SoundFile(day_only, "w", rate_hz, 1, format="WAV") as f:
        f.date = "2026-12-05"  # a day alone dates no sample
        f.write(samples)
    for path, heard_from in [
        (segment, recorded),
        (tagged, datetime(2026, 12, 5, 21, 15, tzinfo=UTC)),
    ]:
        start, start_s = first_episode_start(run_cli, path)
        assert start == heard_from + timedelta(seconds=start_s), path.name
    duration = timedelta(seconds=sf.info(day_only).duration)
    before = datetime.now(UTC)
    start, start_s = first_episode_start(run_cli, day_only)
    assert before <= start - timedelta(seconds=start_s) + duration <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--input", "NIGHT", "--start", "yesterday"], ["--start 'yesterday'", "2026-11-25 21:00"]),
        (["--input", "-", "--start", "2026-12-05 21:00"], ["--start", "--input FILE"]),
    ],
)
def test_a_bad_start_is_one_clear_error(
    night: Path, run_cli: CliRunner, args: list[str], names: list[str]
) -> None:
    args = [str(night) if a == "NIGHT" else a for a in args]
    assert_one_error_line(run_cli("listen", *args, "--no-db"), *names)


@pytest.mark.parametrize(
    ("flag", "value"), [("--hop_s", "nan"), ("--hop_s", "0"), ("--duration_s", "nan")]
)
def test_a_duration_that_is_not_positive_is_one_line(
    night: Path, tmp_path: Path, run_cli: CliRunner, flag: str, value: str
) -> None:
    """--hop_s nan passed the check (nan <= 0 is false) and crashed converting it to samples."""
    process = run_cli("listen", "--input", night, "--no-db", flag, value)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [f"error: {flag} must be positive, not {value}"]
