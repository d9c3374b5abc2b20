"""The dataset's clips scored by the model, each once: cached by path, modification time and
size, so a page that shows them stays fast and a replaced file is scored again."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from miserymeter.errors import AudioError
from miserymeter.inference.classify import classify_file
from miserymeter.inference.model import Classifier


class ClipScorer:
    """A clip's crying probability: the highest of its windows (None: unreadable audio)."""

    def __init__(self, classifier: Classifier, *, crying_label: str) -> None:
        self.classifier = classifier
        self.crying_label = crying_label
        self._cache: dict[Path, tuple[int, int, float | None]] = {}
        self._lock = threading.Lock()

    def scores(self, paths: Sequence[Path]) -> list[float | None]:
        """The score of each of `paths`, scoring only those not seen as they are now."""
        with self._lock:
            return [self._score(path) for path in paths]

    def _score(self, path: Path) -> float | None:
        try:
            stat = path.stat()
        except OSError:
            return None  # removed since it was listed
        cached = self._cache.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        try:
            score: float | None = classify_file(self.classifier, path).peak[self.crying_label]
        except AudioError:
            score = None
        self._cache[path] = (stat.st_mtime_ns, stat.st_size, score)
        return score

    @property
    def n_cached(self) -> int:
        """How many clips have a score kept."""
        return len(self._cache)
