"""`listen --serve` as a user runs it, on audio fed to its standard input in real time."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

import numpy as np

from conftest import cli_command, cli_env
from postgres_server import free_port

RATE_HZ = 16_000
CHUNK_S = 0.1
WAIT_S = 30.0
STARTED = " started: "  # the listener's log line once it reads its input


def pcm(samples: np.ndarray) -> bytes:
    """Float samples as the raw S16_LE PCM `listen --input -` reads."""
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


class LiveListener:
    """`listen --input - --serve` (without --serve when `serve` is False) fed `samples`
    (16 kHz) at their own pace from the moment it says it started (audio from standard input
    is dated by its sample count from then: fed earlier, on a machine slow to start it, the
    backlog would be dated into the future); stdin is closed after the last one, which ends
    the listener. `base` is the dashboard's URL; `lines` what it printed (stdout and stderr)."""

    def __init__(
        self,
        samples: np.ndarray,
        *,
        room: str,
        db: Path | str,
        args: tuple[str, ...] = (),
        serve: bool = True,
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        serving = ("--serve", "--serve_port", str(self.port)) if serve else ()
        self.process = subprocess.Popen(
            [
                *cli_command(),
                "listen",
                "--input",
                "-",
                "--room",
                room,
                "--db",
                str(db),
                "--no-clips",
                *serving,
                *args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        self.lines: list[str] = []
        self._heard = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._feeder = threading.Thread(target=self._feed, args=(pcm(samples),), daemon=True)
        self._feeder.start()

    def wait_for(self, text: str, *, timeout_s: float = WAIT_S) -> str:
        """The first line printed holding `text`, waiting for it."""
        deadline_s = time.monotonic() + timeout_s
        with self._heard:
            while True:
                found = [line for line in self.lines if text in line]
                if found:
                    return found[0]
                left_s = deadline_s - time.monotonic()
                assert left_s > 0 and self.process.poll() is None, f"no {text!r} in {self.lines}"
                self._heard.wait(left_s)

    def finish(self, *, timeout_s: float = WAIT_S) -> int:
        """Wait for the audio to run out and the listener to end; its exit code."""
        self._feeder.join(timeout_s)
        code = self.process.wait(timeout_s)
        self._reader.join(timeout_s)
        return code

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def __enter__(self) -> LiveListener:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._heard:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._heard.notify_all()
        with self._heard:  # the listener is gone: wake whoever waits for a line
            self._heard.notify_all()

    def _feed(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self._heard:
            self._heard.wait_for(
                lambda: (
                    any(STARTED in line for line in self.lines) or self.process.poll() is not None
                ),
                timeout=WAIT_S,
            )
        chunk_bytes = 2 * round(CHUNK_S * RATE_HZ)
        started_s = time.monotonic()
        try:
            for k, first in enumerate(range(0, len(data), chunk_bytes)):
                time.sleep(max(0.0, started_s + k * CHUNK_S - time.monotonic()))
                self.process.stdin.write(data[first : first + chunk_bytes])
                self.process.stdin.flush()
            self.process.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # the listener is gone: the test says why
