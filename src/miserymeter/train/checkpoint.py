"""Checkpoints: weights, optimizer state, step and the model's own config, in one file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from miserymeter import __version__
from miserymeter.atomic_write import atomic_write
from miserymeter.errors import ModelError, StorageError
from miserymeter.train.models import ModelConfig

_FORMAT = "miserymeter-checkpoint-1"


@dataclass(frozen=True)
class Checkpoint:
    """A training state that can be resumed or exported."""

    model_config: ModelConfig
    model_state: dict[str, Any]
    optimizer_state: dict[str, Any]
    step: int
    data_sha256: str
    trained_at: str
    average_state: dict[str, Any] | None = None
    embedding_head: str | None = None  # JSON of the head over YAMNet's embedding, when fitted
    training_clips: str | None = None  # the training split's fingerprints (prepare.fingerprints)

    @property
    def weights(self) -> dict[str, Any]:
        """The weights to export: the moving average's when training kept one."""
        return self.model_state if self.average_state is None else self.average_state

    def save(self, path: Path) -> None:
        """Write atomically: an interrupted save never leaves a broken checkpoint behind."""
        state = {
            "format": _FORMAT,
            "miserymeter_version": __version__,
            "model_config": self.model_config.to_dict(),
            "model_state": self.model_state,
            "optimizer_state": self.optimizer_state,
            "step": self.step,
            "data_sha256": self.data_sha256,
            "trained_at": self.trained_at,
            "average_state": self.average_state,
            "embedding_head": self.embedding_head,
            "training_clips": self.training_clips,
        }
        try:
            with atomic_write(path) as partial:
                torch.save(state, partial)
        except (OSError, RuntimeError) as e:  # torch's writer raises RuntimeError (disk full)
            reason = e.strerror if isinstance(e, OSError) else "the disk may be full"
            raise StorageError(
                f"{path}: cannot write the checkpoint ({reason}); free some space or pass "
                "another --train_dir (the checkpoints already written are kept)"
            ) from e


def checkpoint_path(train_dir: Path, architecture: str, step: int) -> Path:
    """`<train_dir>/<architecture>.ckpt-<step>.pt`, as the tutorial names them."""
    return train_dir / f"{architecture}.ckpt-{step}.pt"


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by `miserymeter train`."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as e:
        raise ModelError(f"{path}: no such checkpoint; pass a .pt file from --train_dir") from e
    except Exception as e:  # torch raises many types for a file that is not a checkpoint
        raise ModelError(
            f"{path}: not a Misery Meter checkpoint ({type(e).__name__}); "
            "pass a .pt file written by `miserymeter train`"
        ) from e
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ModelError(
            f"{path}: not a Misery Meter checkpoint; pass a .pt file written by `miserymeter train`"
        )
    return Checkpoint(
        model_config=ModelConfig.from_dict(data["model_config"]),
        model_state=data["model_state"],
        optimizer_state=data["optimizer_state"],
        step=int(data["step"]),
        data_sha256=data["data_sha256"],
        trained_at=data["trained_at"],
        average_state=data.get("average_state"),
        embedding_head=data.get("embedding_head"),
        training_clips=data.get("training_clips"),
    )
