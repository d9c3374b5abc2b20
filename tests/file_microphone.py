"""A real ALSA capture device backed by a file, for tests on machines without a sound card.

ALSA's `file` plugin on top of the `null` device reads a headerless S16_LE mono file as if it
were a microphone; `arecord` and PortAudio (sounddevice) capture from it sample-exactly. The
config goes in an `.asoundrc` under a HOME the test owns; the environment variable
MISERYMETER_TEST_MIC names the file. The `null` device sets no pace: a regular file is read as
fast as it is asked for, and past its end the plugin repeats stale audio, so a capture from a
regular file must stop (`--duration_s`) before the file ends.

For a microphone that goes quiet, comes back, or is unplugged, the file is a FIFO this test
process writes into (holding it open for reading and writing, so that PortAudio's probes and
reopenings never block and never make it lose data). A reader faster than the writer gets short
reads, which the plugin pads with stale audio: through a FIFO only the flow is realistic, not
the samples.
"""

from __future__ import annotations

import ctypes.util
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

DEVICE_NAME = "testmic"
RATE_HZ = 22_050
ENV_VAR = "MISERYMETER_TEST_MIC"
# How long a test waits for a capturing process to do something.
WAIT_S = 30.0

ASOUNDRC = f"""\
pcm.{DEVICE_NAME}_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    format "raw"
    infile {{
        @func getenv
        vars [ {ENV_VAR} ]
        default "/dev/null"
    }}
}}
pcm.{DEVICE_NAME} {{
    type plug
    slave {{
        pcm "{DEVICE_NAME}_file"
        format S16_LE
        rate {RATE_HZ}
        channels 1
    }}
}}
"""


def alsa_capture_available() -> str | None:
    """None if PortAudio and arecord are installed, else what is missing."""
    missing = []
    if shutil.which("arecord") is None:
        missing.append("alsa-utils (arecord)")
    if ctypes.util.find_library("portaudio") is None:  # not importing sounddevice here: that
        missing.append("libportaudio2")  # starts PortAudio, which can fail once on a busy machine
    return ", ".join(missing) or None


class FileMicrophone:
    """The `testmic` ALSA device, configured under `home`, reading `source`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.config = home / ".asoundrc"
        self.source = home / "microphone.raw"
        self._fifo_fd: int | None = None
        self.plug()
        self._writer: threading.Thread | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment a process needs to capture from this device."""
        return {**os.environ, "HOME": str(self.home), ENV_VAR: str(self.source)}

    def plug(self) -> None:
        """Make the device exist (again); in FIFO mode, with a new FIFO, made before the
        configuration names it."""
        if self._fifo_fd is not None:
            self.open_fifo()
        self._configure(ASOUNDRC)

    def break_config(self) -> None:
        """Give ALSA a configuration it cannot parse: PortAudio then fails to start."""
        self._configure(ASOUNDRC[: len(ASOUNDRC) // 2])

    def _configure(self, text: str) -> None:
        """Replace `.asoundrc` at once: a PortAudio restarting meanwhile (a process retrying
        its microphone) reads the old file or the new one, never half of one."""
        written = self.config.with_suffix(".new")
        written.write_text(text)
        written.replace(self.config)

    def unplug(self) -> None:
        """Make the device vanish: from ALSA's configuration, and its file from the disk.

        ALSA caches its configuration inside a running process, so only the missing file makes
        a reopening fail there. A FIFO stays open for `feed`, to unblock a stuck reader.
        """
        self.config.unlink()
        self.source.unlink()

    def load(self, samples: np.ndarray) -> None:
        """Make the device read these int16 samples from a regular file."""
        self.source.unlink(missing_ok=True)
        samples.astype("<i2").tofile(self.source)

    def open_fifo(self) -> None:
        """Make the device read from a (new) FIFO that `feed` writes into."""
        self.source.unlink(missing_ok=True)
        os.mkfifo(self.source)
        old_fd, self._fifo_fd = self._fifo_fd, os.open(self.source, os.O_RDWR)
        if old_fd is not None:
            os.close(old_fd)

    def feed(self, samples: np.ndarray, *, speed: float = 4.0) -> threading.Thread:
        """Write int16 samples into the FIFO from a thread, `speed` times faster than real time."""
        assert self._fifo_fd is not None, "open_fifo() first"
        fd = self._fifo_fd
        chunk_frames = RATE_HZ // 20

        def write() -> None:
            started_s = time.monotonic()
            for first in range(0, len(samples), chunk_frames):
                try:
                    os.write(fd, samples[first : first + chunk_frames].astype("<i2").tobytes())
                except OSError:  # the test is over and closed the FIFO
                    return
                due_s = started_s + first / RATE_HZ / speed
                time.sleep(max(0.0, due_s - time.monotonic()))

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        if self._fifo_fd is not None:
            os.close(self._fifo_fd)
            self._fifo_fd = None

    def arecord(self, n_frames: int) -> np.ndarray:
        """Capture `n_frames` with alsa-utils' arecord."""
        process = subprocess.run(
            [
                "arecord",
                "-q",
                "-D",
                DEVICE_NAME,
                "-f",
                "S16_LE",
                "-c",
                "1",
                "-r",
                str(RATE_HZ),
                "-s",
                str(n_frames),
                "-t",
                "raw",
            ],
            capture_output=True,
            env=self.env,
            check=True,
            timeout=30,
        )
        return np.frombuffer(process.stdout, dtype="<i2")


class MicrophoneProcess:
    """A `miserymeter` process capturing from the device, whose log lines a test can wait for.

    Its stderr log lines read `<date> <time> <kind>: <message>`; stdout is kept for the end.
    """

    def __init__(self, command: list[str], microphone: FileMicrophone) -> None:
        self.process = subprocess.Popen(
            command, env=microphone.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.log: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)

    def wait_for(self, kind: str, *, saying: str = "") -> str:
        """Wait for a log line of this event kind (whose message holds `saying`); return it."""
        deadline_s = time.monotonic() + WAIT_S
        while time.monotonic() < deadline_s:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.log.append(line)
            if f" {kind}: " in line and saying in line:
                return line
        pytest.fail(f"no {kind!r} event within {WAIT_S} s; log so far: {self.log}")

    def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit code and stdout."""
        self.process.send_signal(signal.SIGTERM)
        stdout, _ = self.process.communicate(timeout=WAIT_S)
        return self.process.returncode, stdout
