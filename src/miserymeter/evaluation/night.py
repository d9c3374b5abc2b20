"""Build a long test night with known truth: crying episodes and other sounds on room tone.

Crying clips are strung into episodes (clips back to back with short pauses, each at its own
gain); other sounds are placed whole, or as an excerpt when longer than `excerpt_s`; quiet
stretches of room tone lie between events. Events never overlap, so the truth is exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.constants import DEFAULT_SAMPLE_RATE_HZ
from miserymeter.errors import AudioError
from miserymeter.evaluation.truth import CRYING_KIND, TruthEvent, write_truth
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.inference.bundled import example_clips

FADE_S = 0.01
MAX_PEAK = 0.9
# The last clip of an episode is cut to fit; a pause is shortened, or left out, rather than
# leave less than this for it.
MIN_FRAGMENT_S = 0.5
EXAMPLE_QUIET_ROOM = "quiet-room"

T = TypeVar("T")


@dataclass(frozen=True)
class Clip:
    """Mono samples at the night's rate; `kind` is `crying` or the kind of sound."""

    samples: np.ndarray
    kind: str


@dataclass(frozen=True)
class NightSettings:
    """The shape of a night; every range is (lowest, highest), drawn uniformly."""

    duration_s: float = 3600.0
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ
    episode_s: tuple[float, float] = (20.0, 90.0)
    pause_s: tuple[float, float] = (0.2, 2.0)
    excerpt_s: tuple[float, float] = (5.0, 60.0)
    quiet_s: tuple[float, float] = (15.0, 80.0)
    episode_level_dbfs: tuple[float, float] = (-40.0, -18.0)
    clip_gain_db: tuple[float, float] = (-4.0, 4.0)
    noise_level_dbfs: tuple[float, float] = (-42.0, -18.0)
    room_tone_dbfs: float = -55.0
    noise_events_per_episode: int = 3


# A few minutes from the bundled examples: `make demo`'s night.
EXAMPLE_NIGHT_SETTINGS = NightSettings(
    duration_s=180.0, episode_s=(20.0, 35.0), quiet_s=(5.0, 15.0)
)


@dataclass(frozen=True)
class Night:
    """The audio of a night and its truth."""

    samples: np.ndarray
    sample_rate_hz: int
    events: tuple[TruthEvent, ...]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


def make_night(
    cries: Sequence[Clip],
    noises: Sequence[Clip],
    *,
    rng: np.random.Generator,
    settings: NightSettings = NightSettings(),
    room_tone: np.ndarray | None = None,
) -> Night:
    """A night of `settings.duration_s`: events alternate between one crying episode and
    `noise_events_per_episode` other sounds, in shuffled order, with quiet stretches between.

    Clips are drawn from shuffled decks, so every clip is used before any is used twice.
    `room_tone` (any length) is looped under everything; default: pink noise.
    """
    if not cries or not noises:
        raise AudioError("a night needs at least one crying clip and one other sound")
    rate = settings.sample_rate_hz
    n_night = round(settings.duration_s * rate)
    samples = _bed(n_night, room_tone, rng=rng, settings=settings)
    cry_deck, noise_deck = _deck(cries, rng), _deck(noises, rng)
    kinds = _deck([CRYING_KIND] + ["noise"] * settings.noise_events_per_episode, rng)
    events = []
    start = _n_samples(settings.quiet_s, rng, rate)
    while True:
        if next(kinds) == CRYING_KIND:
            sound, kind = _episode(cry_deck, rng=rng, settings=settings), CRYING_KIND
        else:
            clip = next(noise_deck)
            sound, kind = _excerpt(clip.samples, rng=rng, settings=settings), clip.kind
        if start + len(sound) + round(settings.quiet_s[0] * rate) > n_night:
            break
        samples[start : start + len(sound)] += sound
        events.append(TruthEvent(start / rate, (start + len(sound)) / rate, kind))
        start += len(sound) + _n_samples(settings.quiet_s, rng, rate)
    return Night(np.clip(samples, -1.0, 1.0), rate, tuple(events))


def _episode(
    deck: Iterator[Clip], *, rng: np.random.Generator, settings: NightSettings
) -> np.ndarray:
    """Crying clips, each at its own gain, with pauses between; exactly `episode_s` long.

    The last clip is cut to fit; a pause that would leave less than MIN_FRAGMENT_S for it is
    shortened, down to the shortest pause, or left out (two clips back to back).
    """
    rate = settings.sample_rate_hz
    n_target = _n_samples(settings.episode_s, rng, rate)
    level_dbfs = rng.uniform(*settings.episode_level_dbfs)
    parts: list[np.ndarray] = []
    n_done = 0
    while n_done < n_target:
        if parts:
            n_pause = min(
                _n_samples(settings.pause_s, rng, rate),
                n_target - n_done - round(MIN_FRAGMENT_S * rate),
            )
            if n_pause >= round(settings.pause_s[0] * rate):
                parts.append(np.zeros(n_pause, dtype=np.float32))
                n_done += n_pause
        gain_db = level_dbfs + rng.uniform(*settings.clip_gain_db)
        clip = _at_level(next(deck).samples, gain_db)[: n_target - n_done]
        parts.append(_faded(clip, rate))
        n_done += len(clip)
    return np.concatenate(parts)


def _excerpt(
    samples: np.ndarray, *, rng: np.random.Generator, settings: NightSettings
) -> np.ndarray:
    """The whole sound, or a random excerpt of `excerpt_s` if it is longer."""
    rate = settings.sample_rate_hz
    n_excerpt = min(len(samples), _n_samples(settings.excerpt_s, rng, rate))
    offset = int(rng.integers(0, len(samples) - n_excerpt + 1))
    level_dbfs = rng.uniform(*settings.noise_level_dbfs)
    return _faded(_at_level(samples[offset : offset + n_excerpt], level_dbfs), rate)


def _at_level(samples: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Scaled to an RMS of `level_dbfs`, or less where that would take a peak above MAX_PEAK."""
    gain = 10 ** ((level_dbfs - rms_dbfs(samples)) / 20)
    peak = float(np.abs(samples).max())
    return (samples * min(gain, MAX_PEAK / max(peak, 1e-9))).astype(np.float32)


def _faded(samples: np.ndarray, rate: int) -> np.ndarray:
    """Faded in and out over FADE_S (half the length at most), so no edge clicks."""
    n_fade = min(len(samples) // 2, round(FADE_S * rate))
    ramp = np.linspace(0.0, 1.0, n_fade, dtype=np.float32)
    faded = samples.copy()
    faded[:n_fade] *= ramp
    faded[len(faded) - n_fade :] *= ramp[::-1]
    return faded


def _bed(
    n: int, room_tone: np.ndarray | None, *, rng: np.random.Generator, settings: NightSettings
) -> np.ndarray:
    """Room tone for the whole night: `room_tone` looped from a random offset, or pink noise."""
    if room_tone is None:
        room_tone = pink_noise(min(n, round(60 * settings.sample_rate_hz)), rng=rng)
    looped = np.resize(np.roll(room_tone, int(rng.integers(len(room_tone)))), n)
    gain = 10 ** ((settings.room_tone_dbfs - rms_dbfs(room_tone)) / 20)
    return (looped * gain).astype(np.float32)


def pink_noise(n: int, *, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of pink (1/f power) noise, peak-normalised."""
    return coloured_noise(n, exponent=0.5, rng=rng)


def coloured_noise(n: int, *, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of noise whose amplitude spectrum falls as 1 / f**exponent (0: white,
    0.5: pink, 1: brown), peak-normalised."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    noise = np.fft.irfft(spectrum / np.maximum(np.arange(len(spectrum)), 1) ** exponent, n=n)
    return (noise / np.abs(noise).max()).astype(np.float32)


def _deck(items: Sequence[T], rng: np.random.Generator) -> Iterator[T]:
    """Endless draws: the items in shuffled order, reshuffled after each pass."""
    while True:
        for i in rng.permutation(len(items)):
            yield items[i]


def _n_samples(range_s: tuple[float, float], rng: np.random.Generator, rate: int) -> int:
    """A duration drawn uniformly from `range_s`, in samples."""
    return round(rng.uniform(*range_s) * rate)


def example_night_clips(*, sample_rate_hz: int) -> tuple[list[Clip], list[Clip], np.ndarray]:
    """The bundled example clips: cries, other sounds (kind from the file name), quiet room."""
    cries, noises, room_tone = [], [], None
    for path in example_clips():
        samples = read_audio(path, sample_rate_hz=sample_rate_hz).samples
        kind = path.stem.split("-", 1)[0]
        if path.stem.startswith(EXAMPLE_QUIET_ROOM):
            room_tone = samples
        elif kind == CRYING_KIND:
            cries.append(Clip(samples, kind))
        else:
            noises.append(Clip(samples, kind))
    if room_tone is None:
        raise AudioError(f"no {EXAMPLE_QUIET_ROOM} clip among the bundled examples")
    return cries, noises, room_tone


def write_night(
    night: Night, audio_path: Path, truth_path: Path, *, recorded_at: datetime | None = None
) -> None:
    """The audio as 16-bit FLAC (or whatever `audio_path`'s suffix says) and the truth CSV;
    `recorded_at` (timezone-aware), when given, in the audio's date tag: `listen` replays the
    night from then."""
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(audio_path, "w", night.sample_rate_hz, 1, subtype="PCM_16") as f:
        if recorded_at is not None:
            f.date = recorded_at.isoformat(timespec="seconds")
        f.write(night.samples)
    write_truth(night.events, truth_path)
