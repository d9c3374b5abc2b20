"""Load an exported `.onnx` classifier, check its metadata, and score waveforms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from miserymeter.constants import (
    MODEL_FORMAT_KEY,
    MODEL_FORMAT_VERSION,
    SECOND_OPINION_HEAD_KEY,
    SECOND_OPINION_KEY,
    SECOND_OPINION_LABEL_KEY,
    YAMNET_OPINION,
)
from miserymeter.errors import ModelError
from miserymeter.inference.bundled import YAMNET_MODEL_PATH
from miserymeter.inference.onnx_sessions import cpu_session
from miserymeter.inference.second_opinion import (
    YAMNET_SAMPLE_RATE_HZ,
    EmbeddingHead,
    SecondOpinion,
)

INPUT_NAME = "waveform"
OUTPUT_NAME = "probabilities"


@dataclass(frozen=True)
class ModelInfo:
    """What an exported model carries about itself."""

    labels: tuple[str, ...]
    sample_rate_hz: int
    clip_duration_ms: int
    metadata: dict[str, str]

    @property
    def n_window(self) -> int:
        """Samples in one window of the clip duration."""
        return self.sample_rate_hz * self.clip_duration_ms // 1000


class Scorer(Protocol):
    """What the listener needs of a model: its metadata and `score` (a Classifier, or a
    wrapper around one that measures it)."""

    info: ModelInfo

    def score(self, windows: np.ndarray) -> np.ndarray: ...


class Classifier:
    """An ONNX Runtime session over one exported model file, and over YAMNet when the file
    asks for its second opinion (metadata `second_opinion = yamnet`)."""

    def __init__(self, path: Path, *, n_threads: int = 1, second_opinion: bool = True) -> None:
        if not path.is_file():  # onnxruntime would call a missing file "not an ONNX model"
            raise ModelError(f"{path}: no such model file")
        self.path = path
        try:
            self._session = cpu_session(path, n_threads=n_threads)
        except Exception as e:  # onnxruntime raises its own unexported exception types
            raise ModelError(
                f"{path}: not an ONNX model ({str(e).splitlines()[0][:120]}); "
                "pass a file written by `miserymeter export`"
            ) from e
        self.info = _read_info(path, self._session)
        self._second_opinion = (
            _second_opinion(path, self.info, n_threads=n_threads) if second_opinion else None
        )

    def score(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities [n_windows, n_labels] of windows [n_windows, samples] at the model rate."""
        batch = np.ascontiguousarray(windows, dtype=np.float32)
        (probabilities,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: batch})
        if self._second_opinion is None:
            return np.asarray(probabilities)
        opinion, head, label = self._second_opinion
        return opinion.confirm(np.asarray(probabilities), batch, head=head, label=label)


def _second_opinion(
    path: Path, info: ModelInfo, *, n_threads: int
) -> tuple[SecondOpinion, EmbeddingHead, int] | None:
    """YAMNet, the head over its embedding and the index of the label they confirm, if
    `path` asks for them."""
    opinion = info.metadata.get(SECOND_OPINION_KEY)
    if opinion is None:
        return None
    label = info.metadata.get(SECOND_OPINION_LABEL_KEY, "")
    try:
        head = EmbeddingHead.from_json(info.metadata[SECOND_OPINION_HEAD_KEY])
    except (KeyError, ValueError, TypeError):
        head = None
    if (
        opinion != YAMNET_OPINION
        or head is None
        or label not in info.labels
        or info.sample_rate_hz != YAMNET_SAMPLE_RATE_HZ
    ):
        raise ModelError(
            f"{path}: asks for a second opinion this version cannot give ({opinion!r} on "
            f"{label!r} at {info.sample_rate_hz} Hz); train and export it again"
        )
    return (
        SecondOpinion(YAMNET_MODEL_PATH, n_threads=n_threads),
        head,
        info.labels.index(label),
    )


def _read_info(path: Path, session: ort.InferenceSession) -> ModelInfo:
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if (
        metadata.get(MODEL_FORMAT_KEY) != MODEL_FORMAT_VERSION
        or inputs != [INPUT_NAME]
        or (OUTPUT_NAME not in outputs)
    ):
        raise ModelError(
            f"{path}: not a Misery Meter model (no '{MODEL_FORMAT_KEY}' metadata or wrong "
            "inputs); pass a file written by `miserymeter export`"
        )
    try:
        labels = tuple(json.loads(metadata["labels"]))
        sample_rate_hz = int(metadata["sample_rate"])
        clip_duration_ms = int(metadata["clip_duration_ms"])
    except (KeyError, ValueError, TypeError) as e:
        raise ModelError(
            f"{path}: its metadata is incomplete ({e}); export it again with `miserymeter export`"
        ) from e
    return ModelInfo(labels, sample_rate_hz, clip_duration_ms, metadata)
