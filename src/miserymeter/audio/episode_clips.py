"""Keep the audio of crying episodes, with some before and after, and nothing else.

Privacy by default: only the last few seconds of the room are held in memory, and only while
an episode may be starting or is open; an episode's audio is written as FLAC when it ends.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter.errors import StorageError
from miserymeter.rooms import room_slug

CLIP_SUFFIX = ".flac"
DEFAULT_PRE_ROLL_S = 5.0
DEFAULT_POST_ROLL_S = 5.0
# The home's audio is its owner's only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


@dataclass(frozen=True)
class ClipSettings:
    """Where clips go, and how much audio surrounds each episode."""

    clips_dir: Path
    pre_roll_s: float = DEFAULT_PRE_ROLL_S
    post_roll_s: float = DEFAULT_POST_ROLL_S


class EpisodeClipKeeper:
    """Fed every hop; writes `[start - pre_roll, end + post_roll]` of each finished episode."""

    def __init__(self, settings: ClipSettings, *, sample_rate_hz: int, lookback_s: float) -> None:
        self.settings = settings
        self.sample_rate_hz = sample_rate_hz
        self._lookback_s = lookback_s
        self._hops: deque[tuple[float, np.ndarray]] = deque()  # (start offset s, samples)

    def add(self, samples: np.ndarray, *, start_s: float, open_since_s: float | None) -> None:
        """Keep one hop; forget what no episode can need (`open_since_s`: episode in progress)."""
        self._hops.append((start_s, samples))
        end_s = start_s + len(samples) / self.sample_rate_hz
        keep_from_s = end_s - self._lookback_s - self.settings.pre_roll_s
        if open_since_s is not None:
            keep_from_s = min(keep_from_s, open_since_s - self.settings.pre_roll_s)
        while (
            self._hops
            and self._hops[0][0] + len(self._hops[0][1]) / self.sample_rate_hz <= keep_from_s
        ):
            self._hops.popleft()

    def forget(self) -> None:
        """The input broke off: what is held no longer continues."""
        self._hops.clear()

    def write(self, *, room: str, start: datetime, start_s: float, end_s: float) -> str:
        """Write an episode's audio; returns its path relative to the clip folder."""
        from_s = start_s - self.settings.pre_roll_s
        to_s = end_s + self.settings.post_roll_s
        pieces = [
            samples[
                _clip_index(from_s - s, self.sample_rate_hz, len(samples)) : _clip_index(
                    to_s - s, self.sample_rate_hz, len(samples)
                )
            ]
            for s, samples in self._hops
        ]
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{room_slug(room)}_{stamp}{CLIP_SUFFIX}"  # any room name is one safe file name
        relative = Path(start.astimezone(UTC).strftime("%Y-%m-%d")) / name
        path = self.settings.clips_dir / relative
        encoded = io.BytesIO()  # encoded in memory: a full disk fails in Python, not in libsndfile
        sf.write(encoded, audio, self.sample_rate_hz, format="FLAC", subtype="PCM_16")
        try:
            self.settings.clips_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            path.parent.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(encoded.getbuffer())
        except OSError as e:
            with contextlib.suppress(OSError):  # no partial clip left, where one could be
                path.unlink(missing_ok=True)
            raise StorageError(
                f"{path}: cannot save the episode's audio ({e}); free some space, or pass "
                "--clips a folder you can write"
            ) from e
        return relative.as_posix()


def _clip_index(offset_s: float, sample_rate_hz: int, n_samples: int) -> int:
    return min(n_samples, max(0, round(offset_s * sample_rate_hz)))
