"""An exponential moving average of the weights (`--ema_decay`): what is evaluated and exported.

The last steps' weights jitter with each batch; their running average (torch's AveragedModel,
batch-norm statistics included) is steadier. On the cry corpus it gave fewer false alarms at
night than the last step's weights (the model card's "Averaging the weights").
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def weight_average(
    model: nn.Module, decay: float, state: dict[str, Any] | None = None
) -> AveragedModel | None:
    """An average of `model`'s weights that keeps `decay` of itself at each update; None when
    `decay` is 0. `state` (a checkpoint's `average_state`) resumes one; without it the first
    update copies the weights."""
    if decay == 0.0:
        return None
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    if state is not None:
        average.module.load_state_dict(state)
        average.n_averaged.fill_(1)  # updates average into it instead of copying over it
    return average


def evaluated(model: nn.Module, average: AveragedModel | None) -> nn.Module:
    """The network to validate, test and export: the average if there is one."""
    return model if average is None else average.module


def average_state(average: AveragedModel | None) -> dict[str, torch.Tensor] | None:
    """What a checkpoint stores of the average (None without one)."""
    return None if average is None else average.module.state_dict()
