"""The freeze step: one self-contained ONNX file that takes a raw waveform."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.numpy_helper
import torch

from miserymeter import __version__
from miserymeter.atomic_write import atomic_write
from miserymeter.constants import (
    MIN_WINDOW_MS,
    MODEL_FORMAT_KEY,
    MODEL_FORMAT_VERSION,
    SECOND_OPINION_HEAD_KEY,
    SECOND_OPINION_KEY,
    SECOND_OPINION_LABEL_KEY,
    TRAINING_CLIPS_KEY,
    YAMNET_OPINION,
)
from miserymeter.errors import ModelError
from miserymeter.frontend.melspec import FrontEndConfig, analysis_window
from miserymeter.inference.model import INPUT_NAME, OUTPUT_NAME, Classifier
from miserymeter.inference.second_opinion import YAMNET_SAMPLE_RATE_HZ
from miserymeter.paths import writable_folder
from miserymeter.train.checkpoint import Checkpoint, load_checkpoint
from miserymeter.train.embedding_head import confirmed_label, wanted_labels, why_unconfirmed
from miserymeter.train.models import ProbabilityModel, build_model, convolutional_front_ends

_OPSET = 18
_MAX_WINDOW_S = 3600
_AGREEMENT_TOLERANCE = 1e-4
_DFT_KERNELS = "features.dft_kernels"
SECOND_OPINIONS = ("auto", YAMNET_OPINION, "none")


@dataclass(frozen=True)
class Exported:
    """What `export_checkpoint` wrote: the file's metadata, and why YAMNet was left out when
    `auto` left it out (None: it was asked for, or --second_opinion=none)."""

    metadata: dict[str, str]
    alone_because: str | None


def export_checkpoint(
    checkpoint_file: Path, output_file: Path, *, second_opinion: str = "auto"
) -> Exported:
    """Export `checkpoint_file` to `output_file`.

    `second_opinion`: `yamnet` confirms the crying label with YAMNet at run time (see
    `inference.second_opinion`), `none` does not, `auto` does for a 16 kHz model with a
    `crying` label whose checkpoint has the head over YAMNet's embedding."""
    _check_output_file(checkpoint_file, output_file)
    checkpoint = load_checkpoint(checkpoint_file)
    alone_because = None
    if second_opinion == "auto":
        alone_because = _why_not_yamnet(checkpoint)
        second_opinion = "none" if alone_because else YAMNET_OPINION
    metadata = _metadata(checkpoint)
    metadata.update(_second_opinion_metadata(checkpoint_file, checkpoint, second_opinion))
    _export(checkpoint_file, checkpoint, output_file, metadata)
    return Exported(metadata, alone_because)


def _why_not_yamnet(checkpoint: Checkpoint) -> str | None:
    """Why `auto` exports the network alone, or None when it asks YAMNet."""
    config = checkpoint.model_config
    if not confirmed_label(config.labels, config.frontend.sample_rate_hz):
        return why_unconfirmed(config.labels, config.frontend.sample_rate_hz)
    if checkpoint.embedding_head is None:
        return (
            "this checkpoint has no head over YAMNet's embedding (only the last one of a "
            "finished `train` has one, if its validation split held other sounds); export "
            "that one for YAMNet's second opinion"
        )
    return None


def _check_output_file(checkpoint_file: Path, output_file: Path) -> None:
    """Refuse an `output_file` that is the checkpoint itself, a folder, or in a folder that
    cannot be written."""
    if output_file.is_dir():
        raise ModelError(
            f"{output_file}: is a folder; pass a file to write, e.g. "
            f"--output_file={output_file / 'model.onnx'}"
        )
    if output_file.exists() and output_file.resolve() == checkpoint_file.resolve():
        raise ModelError(
            f"{output_file}: is the checkpoint being exported; pass another --output_file, "
            "e.g. model.onnx"
        )
    writable_folder(output_file.parent, option="--output_file", for_file=True)


def _second_opinion_metadata(
    checkpoint_file: Path, checkpoint: Checkpoint, second_opinion: str
) -> dict[str, str]:
    """The metadata that asks the runtime for YAMNet's opinion on the crying label."""
    config = checkpoint.model_config
    rate = config.frontend.sample_rate_hz
    label = confirmed_label(config.labels, rate)
    if second_opinion == "none":
        return {}
    if second_opinion != YAMNET_OPINION:
        raise ModelError(
            f"--second_opinion={second_opinion}: not one of {', '.join(SECOND_OPINIONS)}"
        )
    if not label:
        raise ModelError(
            f"{checkpoint_file}: YAMNet confirms one crying label at {YAMNET_SAMPLE_RATE_HZ} Hz, "
            f"this model has {wanted_labels(config.labels)} at {rate} Hz; export it with "
            "--second_opinion=none"
        )
    if checkpoint.embedding_head is None:
        raise ModelError(
            f"{checkpoint_file}: has no head over YAMNet's embedding (only the last checkpoint "
            "of a finished `train` has one, if its validation split held other sounds); export "
            "that one, or use --second_opinion=none"
        )
    return {
        SECOND_OPINION_KEY: YAMNET_OPINION,
        SECOND_OPINION_LABEL_KEY: label,
        SECOND_OPINION_HEAD_KEY: checkpoint.embedding_head,
    }


def _export(
    checkpoint_file: Path, checkpoint: Checkpoint, output_file: Path, metadata: dict[str, str]
) -> None:
    """Trace the trained network to ONNX, write it with `metadata`, and check it agrees."""
    config = checkpoint.model_config
    model = build_model(config)
    try:
        model.load_state_dict(checkpoint.weights)
    except RuntimeError as e:
        raise ModelError(
            f"{checkpoint_file}: its weights do not fit a '{config.architecture}' network; "
            "train it again with this version of miserymeter"
        ) from e
    trained = ProbabilityModel(model).eval()
    for_export = convolutional_front_ends(copy.deepcopy(trained))
    rate = config.frontend.sample_rate_hz
    example = torch.zeros(2, config.n_window)
    batch = torch.export.Dim("batch", min=1, max=4096)
    samples = torch.export.Dim(
        "samples", min=rate * MIN_WINDOW_MS // 1000, max=rate * _MAX_WINDOW_S
    )
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            for_export,
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
    _compute_dft_kernels_on_load(proto, config.frontend)
    onnx.helper.set_model_props(proto, metadata)
    _save_checked(proto, trained, output_file, n_window=config.n_window)


def _save_checked(
    proto: onnx.ModelProto, trained: torch.nn.Module, output_file: Path, *, n_window: int
) -> None:
    """Write `proto` beside `output_file`, check it agrees with `trained`, then move it into
    place: a model already there is replaced only by one that works, never half-written."""
    try:
        with atomic_write(output_file) as partial:
            onnx.save_model(proto, str(partial), save_as_external_data=False)
            _check_agreement(trained, partial, n_window=n_window, name=output_file)
    except OSError as e:
        raise ModelError(
            f"{output_file}: cannot write it ({e.strerror}); free some space or pass another "
            "--output_file"
        ) from e


def _compute_dft_kernels_on_load(proto: onnx.ModelProto, frontend: FrontEndConfig) -> None:
    """Swap the stored DFT kernels (more than the whole network's weights) for the few nodes
    that compute them; ONNX Runtime folds those into a constant when it loads the model."""
    graph = proto.graph
    (stored,) = [t for t in graph.initializer if t.name.endswith(_DFT_KERNELS)]
    n_bins, n_fft = stored.dims[0] // 2, frontend.n_fft
    prefix = f"{_DFT_KERNELS}."
    constants = [
        onnx.numpy_helper.from_array(np.array(value, dtype=dtype), prefix + name)
        for name, value, dtype in (
            ("zero", 0, np.int64),
            ("one", 1, np.int64),
            ("n_bins", n_bins, np.int64),
            ("n_fft", n_fft, np.int64),
            ("first_axis", [0], np.int64),
            ("second_axis", [1], np.int64),
            ("radians_per_turn", 2 * np.pi / n_fft, np.float32),
            ("window", analysis_window(frontend), np.float32),
        )
    ]

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> onnx.NodeProto:
        return onnx.helper.make_node(
            op, [prefix + i for i in inputs], [prefix + output], **attributes
        )

    nodes = [
        node("Range", ["zero", "n_bins", "one"], "bins"),
        node("Range", ["zero", "n_fft", "one"], "samples"),
        node("Unsqueeze", ["bins", "second_axis"], "bin_column"),
        node("Unsqueeze", ["samples", "first_axis"], "sample_row"),
        node("Mul", ["bin_column", "sample_row"], "products"),
        node("Mod", ["products", "n_fft"], "turns"),  # exact: angles stay below 2 pi
        node("Cast", ["turns"], "float_turns", to=onnx.TensorProto.FLOAT),
        node("Mul", ["float_turns", "radians_per_turn"], "angles"),
        node("Cos", ["angles"], "cosines"),
        node("Sin", ["angles"], "sines"),
        node("Neg", ["sines"], "negated_sines"),
        node("Concat", ["cosines", "negated_sines"], "basis", axis=0),
        node("Mul", ["basis", "window"], "windowed"),
    ]
    nodes.append(
        onnx.helper.make_node(
            "Unsqueeze", [prefix + "windowed", prefix + "second_axis"], [stored.name]
        )
    )
    graph.initializer.remove(stored)
    graph.initializer.extend(constants)
    for k, new_node in enumerate(nodes):
        graph.node.insert(k, new_node)


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
    metadata = {
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
    if checkpoint.training_clips is not None:  # a checkpoint of an earlier version has none
        metadata[TRAINING_CLIPS_KEY] = checkpoint.training_clips
    return metadata


def _check_agreement(model: torch.nn.Module, path: Path, *, n_window: int, name: Path) -> None:
    """ONNX Runtime must give on `path` (to be `name`) what the trained PyTorch model
    (torch.stft front end) gives, at the clip length and a longer one."""
    rng = np.random.default_rng(0)
    classifier = Classifier(path, second_opinion=False)
    for n_samples in (n_window, n_window + n_window // 2 + 7):
        waveform = (0.1 * rng.standard_normal((2, n_samples))).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(waveform)).numpy()
        difference = float(np.abs(classifier.score(waveform) - expected).max())
        if difference > _AGREEMENT_TOLERANCE:
            raise ModelError(
                f"{name}: ONNX Runtime differs from PyTorch by {difference:.2g}; "
                "report this with the checkpoint attached"
            )
