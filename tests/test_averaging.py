"""The moving average of the weights: a fresh one starts from the weights, a resumed one
goes on from its saved state."""

from __future__ import annotations

import torch
from torch import nn

from miserymeter.train.averaging import average_state, evaluated, weight_average


def network(value: float) -> nn.Module:
    norm = nn.BatchNorm1d(2)
    model = nn.Sequential(nn.Linear(2, 2), norm)
    with torch.no_grad():
        for tensor in model.parameters():
            tensor.fill_(value)
    norm.running_mean = torch.full((2,), value)
    return model


def test_no_decay_no_average() -> None:
    model = network(1.0)

    average = weight_average(model, 0.0)

    assert average is None
    assert evaluated(model, average) is model
    assert average_state(average) is None


def test_a_fresh_average_starts_from_the_weights_then_keeps_decay_of_itself() -> None:
    model = network(1.0)
    average = weight_average(model, 0.75)
    assert average is not None

    average.update_parameters(network(3.0))  # the first update copies
    average.update_parameters(network(7.0))

    state = average_state(average)
    assert state is not None
    for name in ("0.weight", "1.bias", "1.running_mean"):  # buffers are averaged too
        torch.testing.assert_close(state[name], torch.full_like(state[name], 0.75 * 3 + 0.25 * 7))


def test_a_resumed_average_goes_on_from_its_state() -> None:
    saved = average_state(weight_average(network(5.0), 0.75))
    assert saved is not None
    average = weight_average(network(0.0), 0.75, saved)
    assert average is not None

    average.update_parameters(network(1.0))

    state = evaluated(network(0.0), average).state_dict()
    torch.testing.assert_close(state["0.bias"], torch.full((2,), 0.75 * 5 + 0.25 * 1))
