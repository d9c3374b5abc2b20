"""The episode a listener left open when it was killed (SIGKILL, a power cut, a crash): found
again from the seconds it stored, so that its `crying_started` gets its `crying_stopped`.

The detector is replayed over the stored crying probabilities (a second the gate skipped
counts as 0, as it did live); the episode still open after the last second is the one the
run never finished. It ends where the crying last reached the off threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

from miserymeter.detect.episodes import DetectedEpisode, EpisodeDetector
from miserymeter.detect.settings import DetectorSettings
from miserymeter.records import SecondRecord


def episode_left_open(
    seconds: Sequence[SecondRecord], settings: DetectorSettings, *, hop_s: float
) -> DetectedEpisode | None:
    """The confirmed episode still open after the last of `seconds` (offsets as stored)."""
    detector = EpisodeDetector(settings, hop_s=hop_s)
    for second in seconds:
        detector.feed(second.crying_probability or 0.0, end_s=second.offset_s + hop_s)
    finished = [o for o in detector.flush() if isinstance(o, DetectedEpisode)]
    return finished[0] if finished else None
