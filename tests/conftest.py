"""Shared fixtures: the CLI as users run it, a tiny real-audio dataset, one trained run.

Training and export are expensive, so they happen once per session: `train_dir` trains the
default architecture, `conv_checkpoint` a few steps of the tutorial's `conv`, and
`exported_model` exports the first. Only the tests marked `slow` ask for them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from file_microphone import FileMicrophone, alsa_capture_available
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.prepare.split import Split, which_set
from mosquitto_broker import MosquittoBroker, mosquitto_available
from postgres_server import PostgresServer, postgres_available

# Tiny batches train fastest on one thread, and with another process busy on the same cores
# torch's default thread pool makes each step up to a hundred times slower. Subprocesses
# inherit this, and torch (imported by some tests) reads it when it is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")

CLI_TIMEOUT_S = 120.0
CLIP_S = 1.2
VALIDATION_PERCENTAGE = 10.0
TESTING_PERCENTAGE = 10.0

# The tutorial's flags, as the brief for a quick run gives them: 40 steps in two phases.
TRAIN_FLAGS = (
    "--wanted_words=crying",
    "--sample_rate=16000",
    "--clip_duration_ms=1000",
    "--how_many_training_steps=30,10",
    "--learning_rate=0.001,0.0001",
    "--eval_step_interval=20",
    "--save_step_interval=10",
    "--batch_size=16",
    f"--validation_percentage={VALIDATION_PERCENTAGE:g}",
    f"--testing_percentage={TESTING_PERCENTAGE:g}",
)

CRYING_EXAMPLES = (
    "crying-fullband-esc50-4-185575-B.flac",
    "crying-phone-donateacry-d6cda191.flac",
)
NOISE_EXAMPLES = (
    "cat-esc50-4-133047-A.flac",
    "dog-esc50-4-184575-A.flac",
    "laughing-esc50-4-132810-A.flac",
    "music-brahms-hungarian-dance-5.flac",
    "speech-librispeech-198-209-0000.flac",
)
QUIET_EXAMPLE = "quiet-room-synthetic.flac"

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def cli_command() -> list[str]:
    """The `miserymeter` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("miserymeter")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "miserymeter"]


def cli_env() -> dict[str, str]:
    """The caller's environment, without settings that would colour or resize rich's output."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    return {**env, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def zone_at_midnight_now() -> str:
    """A fixed-offset time zone (Etc/GMT...) whose local time is within an hour of midnight
    now: a test that streams minutes ahead of the clock then stays in one night (nights turn
    at noon)."""
    hour = datetime.now(UTC).hour
    return f"Etc/GMT+{hour}" if hour <= 12 else f"Etc/GMT-{24 - hour}"


def run_miserymeter(
    *args: str | Path, timeout_s: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run `miserymeter ARGS...` in a subprocess, as a user would, and capture its output."""
    return subprocess.run(
        [*cli_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=cli_env(),
        check=False,
    )


def assert_one_error_line(process: subprocess.CompletedProcess[str], *names: str | Path) -> str:
    """Exit code 1, no traceback, one `error:` line on stderr naming every one of `names`."""
    assert process.returncode == 1, process.stdout + process.stderr
    assert "Traceback" not in process.stderr + process.stdout
    lines = process.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{process.stderr}"
    (line,) = lines
    assert line.startswith("error: ")
    for name in names:
        assert str(name) in line, f"{name} not in {line!r}"
    return line


def assert_one_warning_line(process: subprocess.CompletedProcess[str], *names: str | Path) -> str:
    """Exit code 0, no traceback, one `warning:` line on stderr naming every one of `names`, and
    the command went on (`listen`'s summary line)."""
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Traceback" not in process.stderr + process.stdout
    lines = [line for line in process.stderr.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 1, f"expected one warning line on stderr, got:\n{process.stderr}"
    (line,) = lines
    for name in names:
        assert str(name) in line, f"{name} not in {line!r}"
    assert "listened to " in process.stderr
    return line


@pytest.fixture(scope="session", autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data folder (database, clips, archive) of every command the tests run: never ~."""
    saved = os.environ.get("XDG_DATA_HOME")
    data_home = tmp_path_factory.mktemp("xdg-data")
    os.environ["XDG_DATA_HOME"] = str(data_home)
    yield data_home / "miserymeter"
    if saved is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture(scope="session")
def run_cli() -> CliRunner:
    """`run_cli("classify", path, "--json")` → the finished subprocess."""
    return run_miserymeter


@pytest.fixture(scope="session")
def miserymeter_command() -> list[str]:
    """The command that starts the CLI, for tests that need `subprocess.Popen`."""
    return cli_command()


@pytest.fixture(scope="session")
def miserymeter_env() -> dict[str, str]:
    """The environment `run_cli` gives the CLI."""
    return cli_env()


def group_in_split(prefix: str, split: Split) -> str:
    """A `_nohash_` group name starting with `prefix` that the stable hash puts in `split`."""
    for n in range(10_000):
        group = f"{prefix}-{n}"
        if (
            which_set(
                Path(f"{group}_nohash_0.wav"),
                validation_percentage=VALIDATION_PERCENTAGE,
                testing_percentage=TESTING_PERCENTAGE,
            )
            == split
        ):
            return group
    raise AssertionError(f"no group name for {prefix} lands in {split}")


def cut_into_clips(source: Path, folder: Path, *, prefix: str, splits: list[Split]) -> None:
    """Cut `source` into consecutive CLIP_S clips, the k-th one in a group of `splits[k]`.

    Clips sent to the same split share one `_nohash_` group, as clips of one recording should.
    Files keep their own sample rate, so an 8 kHz source makes training resample.
    """
    samples, rate_hz = sf.read(source, dtype="float32")
    n_clip = round(CLIP_S * rate_hz)
    assert len(samples) >= n_clip * len(splits), f"{source} is too short for {len(splits)} clips"
    folder.mkdir(parents=True, exist_ok=True)
    for k, split in enumerate(splits):
        clip = samples[k * n_clip : (k + 1) * n_clip]
        sf.write(folder / f"{group_in_split(prefix, split)}_nohash_{k}.wav", clip, rate_hz)


def build_tiny_dataset(data_dir: Path) -> Path:
    """`crying/` and `noise/` cut from the example clips, the quiet room as background noise.

    Every split gets some crying and some noise, so validation and testing are never empty.
    """
    every_split: list[Split] = ["training", "validation", "testing"]
    crying_dir = data_dir / "crying"
    cut_into_clips(
        EXAMPLES_DIR / CRYING_EXAMPLES[0], crying_dir, prefix="fullband", splits=every_split
    )
    cut_into_clips(
        EXAMPLES_DIR / CRYING_EXAMPLES[1],
        crying_dir,
        prefix="phone",
        splits=["training", "training", "training", "validation", "testing"],
    )
    for name in NOISE_EXAMPLES:
        prefix = name.split("-")[0]
        cut_into_clips(EXAMPLES_DIR / name, data_dir / "noise", prefix=prefix, splits=every_split)
    background_dir = data_dir / "_background_noise_"
    background_dir.mkdir()
    samples, rate_hz = sf.read(EXAMPLES_DIR / QUIET_EXAMPLE, dtype="float32")
    sf.write(background_dir / "quiet-room.wav", samples, rate_hz)
    return data_dir


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder of 1.2 s clips cut from the bundled examples (about 25 files)."""
    return build_tiny_dataset(tmp_path_factory.mktemp("tiny") / "data")


def with_flags(*overrides: str) -> tuple[str, ...]:
    """TRAIN_FLAGS, each `--name=value` of `overrides` replacing or adding that flag."""
    names = {flag.split("=", 1)[0] for flag in overrides}
    return (*(f for f in TRAIN_FLAGS if f.split("=", 1)[0] not in names), *overrides)


@pytest.fixture(scope="session")
def train_flags() -> Callable[..., tuple[str, ...]]:
    """`train_flags("--batch_size=4")`: the session run's flags, some changed (resuming needs
    the same labels, clip duration and front end)."""
    return with_flags


@dataclass(frozen=True)
class TrainingRun:
    train_dir: Path
    process: subprocess.CompletedProcess[str]


def train(data_dir: Path, train_dir: Path, *overrides: str) -> TrainingRun:
    process = run_miserymeter(
        "train", f"--data_dir={data_dir}", f"--train_dir={train_dir}", *with_flags(*overrides)
    )
    return TrainingRun(train_dir, process)


@pytest.fixture(scope="session")
def _training(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainingRun:
    return train(tiny_dataset, tmp_path_factory.mktemp("training") / "run")


@pytest.fixture(scope="session")
def train_output(_training: TrainingRun) -> subprocess.CompletedProcess[str]:
    """The finished `miserymeter train` process of the session's training run."""
    return _training.process


@pytest.fixture(scope="session")
def train_dir(_training: TrainingRun) -> Path:
    """The `--train_dir` of a successful 40-step `tcresnet` run on the tiny dataset."""
    process = _training.process
    assert process.returncode == 0, f"training failed:\n{process.stdout}\n{process.stderr}"
    return _training.train_dir


def ten_step_checkpoint(
    architecture: str, tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The final checkpoint of 10 training steps of `architecture` on the tiny dataset."""
    run = train(
        tiny_dataset,
        tmp_path_factory.mktemp(f"training-{architecture}") / "run",
        f"--model_architecture={architecture}",
        "--how_many_training_steps=10",
        "--learning_rate=0.001",
        "--eval_step_interval=10",
    )
    assert run.process.returncode == 0, f"training failed:\n{run.process.stderr}"
    return run.train_dir / f"{architecture}.ckpt-10.pt"


@pytest.fixture(scope="session")
def conv_checkpoint(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 steps of the tutorial's `conv` architecture."""
    return ten_step_checkpoint("conv", tiny_dataset, tmp_path_factory)


@pytest.fixture(scope="session")
def cnn2d_checkpoint(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 steps of `cnn2d`, the small 2-D CNN."""
    return ten_step_checkpoint("cnn2d", tiny_dataset, tmp_path_factory)


@pytest.fixture(scope="session")
def exported_model(train_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session run's last checkpoint, exported by `miserymeter export` into its own folder."""
    output_file = tmp_path_factory.mktemp("export") / "model.onnx"
    checkpoint = train_dir / "tcresnet.ckpt-40.pt"
    process = run_miserymeter(
        "export", f"--start_checkpoint={checkpoint}", f"--output_file={output_file}"
    )
    assert process.returncode == 0, f"export failed:\n{process.stdout}\n{process.stderr}"
    return output_file


def write_tone(
    path: Path,
    *,
    duration_s: float,
    sample_rate_hz: int = 16_000,
    frequency_hz: float = 440.0,
    n_channels: int = 1,
) -> Path:
    """Write a half-scale sine tone, the same in every channel; returns `path`."""
    t_s = np.arange(round(duration_s * sample_rate_hz)) / sample_rate_hz
    tone = (0.5 * np.sin(2 * np.pi * frequency_hz * t_s)).astype(np.float32)
    sf.write(path, np.repeat(tone[:, None], n_channels, axis=1), sample_rate_hz)
    return path


@pytest.fixture(scope="session")
def make_tone() -> Callable[..., Path]:
    """`make_tone(path, duration_s=1.0, sample_rate_hz=..., frequency_hz=..., n_channels=...)`."""
    return write_tone


@pytest.fixture
def synthetic_dataset(tmp_path: Path) -> Path:
    """A minimal valid dataset of tones: `crying/` and `noise/`, three 1.2 s clips each."""
    data_dir = tmp_path / "data"
    for label, frequency_hz in (("crying", 450.0), ("noise", 120.0)):
        (data_dir / label).mkdir(parents=True)
        for k in range(3):
            write_tone(
                data_dir / label / f"{label}{k}_nohash_0.wav",
                duration_s=1.2,
                frequency_hz=frequency_hz * (k + 1),
            )
    return data_dir


def require_system(missing: str | None) -> None:
    """Skip the test when a system part is `missing` (None: nothing is), or fail instead where
    MISERYMETER_REQUIRE_SYSTEM is set (`make test` sets it after installing them all)."""
    if missing is None:
        return
    if os.environ.get("MISERYMETER_REQUIRE_SYSTEM"):
        pytest.fail(f"missing {missing}: run scripts/install_system_deps.sh test")
    pytest.skip(f"missing {missing} (scripts/install_system_deps.sh test installs it)")


@pytest.fixture
def file_microphone(tmp_path: Path) -> Iterator[FileMicrophone]:
    """The `testmic` ALSA capture device, backed by a file or FIFO (see file_microphone.py).

    Skips when PortAudio or alsa-utils are missing (see `require_system`).
    """
    require_system(alsa_capture_available())
    home = tmp_path / "home"
    home.mkdir()
    microphone = FileMicrophone(home)
    yield microphone
    microphone.close()


@pytest.fixture
def no_microphone() -> None:
    """A machine on which PortAudio finds no input at all, as CI's (no sound card, no test
    microphone configured); skipped where a microphone is plugged in."""
    require_system(alsa_capture_available())
    devices = run_miserymeter("devices")
    assert devices.returncode == 0, devices.stderr
    if "no microphones found" not in devices.stdout:
        pytest.skip("this machine has a microphone")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this session on loopback (see postgres_server.py).

    Skips when PostgreSQL is not installed (see `require_system`).
    """
    require_system(postgres_available())
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def mosquitto() -> Iterator[Callable[..., MosquittoBroker]]:
    """`mosquitto(users={"name": "password"}, tls=True)` starts a broker of this test on
    loopback (see mosquitto_broker.py); every one is stopped at the end.

    Skips when mosquitto is not installed (see `require_system`).
    """
    require_system(mosquitto_available())
    brokers: list[MosquittoBroker] = []

    def start(**options: Any) -> MosquittoBroker:
        brokers.append(MosquittoBroker(**options))
        return brokers[-1]

    yield start
    for broker in brokers:
        broker.close()


def mount_tmpfs(mount_point: Path, size: str, *options: str) -> None:
    """Mount a tmpfs of `size` (root only); skip the test where mounting is not allowed."""
    mount_point.mkdir(exist_ok=True)
    # ... unmounted lazily at the end of the session, whatever the test left open in it.
    _mounted.append(mount_point)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", mount_point],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")


def without_permission_override(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a user whom file permissions bind: root, minus its right to ignore them
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), when the tests run as root."""
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to take root's file-permission override")
    prefix = drop if os.geteuid() == 0 else []
    command = [*prefix, *cli_command(), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=cli_env(), timeout=120)


_mounted: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def unmount_tmpfs() -> Iterator[None]:
    yield
    for mount_point in _mounted:
        subprocess.run(["umount", "--lazy", mount_point], check=False, capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    """A 256 KB tmpfs, to fill up."""
    mount_tmpfs(tmp_path / "tiny", "256k")
    return tmp_path / "tiny"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database for the store: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store" / "miserymeter.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@dataclass(frozen=True)
class DemoNight:
    """A store and clip folder the real listener filled from the 3-minute example night."""

    db: Path
    clips_dir: Path


@pytest.fixture(scope="session")
def demo_night(tmp_path_factory: pytest.TempPathFactory) -> DemoNight:
    """`make demo`'s night: make_night.py --examples, then `listen` into SQLite with clips."""
    folder = tmp_path_factory.mktemp("demo")
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_night.py"
    made = subprocess.run(
        [
            sys.executable,
            script,
            "--examples",
            "--seed",
            "1",
            "--ending_now",
            "--out",
            folder / "night.flac",
        ],  # as `make demo`: heard in the minutes just past
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    night = DemoNight(folder / "demo.db", folder / "clips")
    listened = run_miserymeter(
        "listen", "--input", folder / "night.flac", "--room", "demo",
        "--db", night.db, "--clips", night.clips_dir,
    )  # fmt: skip
    assert listened.returncode == 0, listened.stderr
    return night


def chromium_available() -> str | None:
    """None when headless Chromium can be driven (Debian's chromium and playwright)."""
    if not Path(CHROMIUM).is_file():
        return f"chromium ({CHROMIUM})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package (pip install -e '.[dev]')"
    return None


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, for playwright (never a downloaded browser); see `require_system`."""
    require_system(chromium_available())
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    """Headless Chromium through playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield launched
        launched.close()


# The sizes every page is tried at: a laptop's window and a phone's.
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
PAGE_WAIT_MS = 15_000


@contextmanager
def page_of_size(browser: object, width: int, height: int) -> Iterator[Any]:
    """A fresh page `width` x `height` px, in a browser context of its own, waiting up to
    PAGE_WAIT_MS for what it is asked."""
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.set_default_timeout(PAGE_WAIT_MS)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest, browser: object) -> Iterator[object]:
    """A fresh page at each of `SIZES`."""
    with page_of_size(browser, *SIZES[request.param]) as opened:
        yield opened
