"""The freeze step: one self-contained ONNX file that takes a raw waveform."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import torch

from miserymeter import __version__
from miserymeter.constants import MIN_WINDOW_MS, MODEL_FORMAT_KEY, MODEL_FORMAT_VERSION
from miserymeter.errors import ModelError
from miserymeter.inference.model import INPUT_NAME, OUTPUT_NAME, Classifier
from miserymeter.train.checkpoint import Checkpoint, load_checkpoint
from miserymeter.train.models import ProbabilityModel, build_model

_OPSET = 18
_MAX_WINDOW_S = 3600
_AGREEMENT_TOLERANCE = 1e-4


def export_checkpoint(checkpoint_file: Path, output_file: Path) -> dict[str, str]:
    """Export `checkpoint_file` to `output_file`; returns the metadata written into it."""
    checkpoint = load_checkpoint(checkpoint_file)
    config = checkpoint.model_config
    model = build_model(config)
    try:
        model.load_state_dict(checkpoint.model_state)
    except RuntimeError as e:
        raise ModelError(
            f"{checkpoint_file}: its weights do not fit a '{config.architecture}' network; "
            "train it again with this version of miserymeter"
        ) from e
    wrapped = ProbabilityModel(model).eval()
    rate = config.frontend.sample_rate_hz
    example = torch.zeros(2, config.n_window)
    batch = torch.export.Dim("batch", min=1, max=4096)
    samples = torch.export.Dim(
        "samples", min=rate * MIN_WINDOW_MS // 1000, max=rate * _MAX_WINDOW_S
    )
    output_file.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            wrapped,
            (example,),
            dynamo=True,
            opset_version=_OPSET,
            external_data=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"waveform": {0: batch, 1: samples}},
        )
    assert program is not None  # dynamo=True always returns the program
    proto = program.model_proto
    metadata = _metadata(checkpoint)
    onnx.helper.set_model_props(proto, metadata)
    onnx.save_model(proto, str(output_file), save_as_external_data=False)
    _check_agreement(wrapped, output_file, n_window=config.n_window)
    return metadata


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter prints progress and warns about packages it does not need."""
    exporter_logger = logging.getLogger("torch.onnx")
    level = exporter_logger.level
    exporter_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        exporter_logger.setLevel(level)


def _metadata(checkpoint: Checkpoint) -> dict[str, str]:
    config = checkpoint.model_config
    frontend = config.frontend
    return {
        MODEL_FORMAT_KEY: MODEL_FORMAT_VERSION,
        "labels": json.dumps(list(config.labels)),
        "sample_rate": str(frontend.sample_rate_hz),
        "clip_duration_ms": str(config.clip_duration_ms),
        "architecture": config.architecture,
        "frontend": json.dumps({k: getattr(frontend, k) for k in frontend.__dataclass_fields__}),
        "training_steps": str(checkpoint.step),
        "data_sha256": checkpoint.data_sha256,
        "trained_at": checkpoint.trained_at,
        "miserymeter_version": __version__,
    }


def _check_agreement(model: torch.nn.Module, path: Path, *, n_window: int) -> None:
    """ONNX Runtime must give what PyTorch gives, at the clip length and a longer one."""
    rng = np.random.default_rng(0)
    classifier = Classifier(path)
    for n_samples in (n_window, n_window + n_window // 2 + 7):
        waveform = (0.1 * rng.standard_normal((2, n_samples))).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(waveform)).numpy()
        difference = float(np.abs(classifier.score(waveform) - expected).max())
        if difference > _AGREEMENT_TOLERANCE:
            raise ModelError(
                f"{path}: ONNX Runtime differs from PyTorch by {difference:.2g}; "
                "report this with the checkpoint attached"
            )
