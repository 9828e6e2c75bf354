"""Checkers for chapter 6 (``06_assembling_lenet5.ipynb``): the forward pass and the parameter count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..models import LeNet5
from ._models import learner_model, lenet_weights, lenet_with
from .compare import Mismatch, count, equal, show, tensor
from .exercise import AnswerError, Case, Exercise, Verdict, declare

__all__ = ["lenet_forward", "parameter_counts"]

_LAYERS = ("c1", "s2", "c3", "s4", "c5", "f6", "f7")


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed))


def _forward_cases() -> list[Case]:
    weights = lenet_weights(0)
    one, batch = _images(1, 0), _images(8, 1)
    return [
        Case("output shape for a batch of 1 image:", {"weights": weights, "images": one}, compare=_shape_only),
        Case("output shape for a batch of 8 images:", {"weights": weights, "images": batch}, compare=_shape_only),
        Case("output (logits) for 1 image:", {"weights": weights, "images": one}),
        Case("output (logits) for 8 images:", {"weights": weights, "images": batch}),
    ]


def _shape_only(got: Any, expected: torch.Tensor) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"returned {show(got)}, where a tensor of logits is expected")
    return equal(tuple(got.shape), tuple(expected.shape))


def _run_forward(model_class: Any, x: dict[str, Any]) -> torch.Tensor:
    model = learner_model(model_class, x["weights"], "MyLeNet5")
    with torch.no_grad():
        return model(x["images"])


def _reference_forward(x: dict[str, Any]) -> torch.Tensor:
    with torch.no_grad():
        return lenet_with(x["weights"]).eval()(x["images"])


LENET_FORWARD = declare(
    Exercise(
        id="6.1",
        name="MyLeNet5",
        cases=_forward_cases,
        run=_run_forward,
        reference=_reference_forward,
        compare=lambda got, expected: tensor(got, expected, rtol=1e-4, atol=1e-5),
        hint="follow the table of chapter 5 layer by layer, printing x.shape after each step: every layer that "
        "computes something is followed by its activation, except the last one, whose outputs are the logits",
        namesakes=("lenet_course.models.LeNet5", "lenet_course.LeNet5"),
    )
)


def lenet_forward(model_class: type[nn.Module] | nn.Module) -> Verdict:
    """Exercise 6.1: a LeNet-5 class (or model) whose logits are ``LeNet5``'s for the same weights.

    Introduced in chapter 6. The checker builds the model, loads the same
    weights into it and into ``LeNet5``, and compares their logits.
    """
    return LENET_FORWARD.check(model_class)


def _layer_parameters(layer: str) -> int:
    with torch.device("meta"):
        model = LeNet5()
    return sum(p.numel() for p in getattr(model, layer).parameters())


def _params_item(params: Any, layer: str | None) -> Any:
    if not isinstance(params, Mapping):
        raise AnswerError(f"cannot be read: params is {show(params)}, where a dict is expected")
    if layer is None:
        return sorted(str(k) for k in params)
    if layer not in params:
        raise AnswerError(f"is missing: params has no key {layer!r}")
    return params[layer]


def _layer_names(got: Any, expected: list[str]) -> Mismatch | None:
    if got == expected:
        return None
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"extra {', '.join(extra)}"] if extra else [])
    return Mismatch(f"are {', '.join(got)}: {'; '.join(parts)}")


PARAMETER_COUNTS = declare(
    Exercise(
        id="6.2",
        name="params",
        cases=lambda: (
            [Case.fixed("the keys of params", None, sorted(_LAYERS), _layer_names)]
            + [Case(f"params[{layer!r}]", layer) for layer in _LAYERS]
        ),
        run=_params_item,
        reference=_layer_parameters,
        compare=lambda got, expected: count(got, expected, verb="is", reveal=False),
        hint="a convolution has one k x k kernel for every (input map, output map) pair plus one bias per output "
        "map; a linear layer one weight per (input, output) pair plus one bias per output; "
        "an average-pooling layer has nothing to learn",
    )
)


def parameter_counts(params: Mapping[str, int]) -> Verdict:
    """Exercise 6.2: the trainable parameters of each layer of ``LeNet5``, worked out by hand (ints).

    Introduced in chapter 6.
    """
    return PARAMETER_COUNTS.check(params)
