"""Checkers for chapter 6 (``06_assembling_lenet5.ipynb``): the forward pass and the parameter count."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from ..models import LeNet5
from ._core import Case, Verdict, report

__all__ = ["lenet_forward", "parameter_counts"]

_LAYERS = ("c1", "s2", "c3", "s4", "c5", "f6", "f7")


def _reference() -> LeNet5:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return LeNet5().eval()


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed))


def lenet_forward(model_class: type[nn.Module] | nn.Module) -> Verdict:
    """Exercise 6.1: a LeNet-5 class whose forward gives the package's ``LeNet5`` output for the same weights."""
    reference = _reference()

    def build() -> nn.Module:
        with torch.random.fork_rng(devices=[]):  # building the learner's model leaves their seed alone
            model = copy.deepcopy(model_class) if isinstance(model_class, nn.Module) else model_class()
        model.load_state_dict(reference.state_dict())
        return model.eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return build()(x)

    one, batch = _images(1, 0), _images(8, 1)
    with torch.no_grad():
        expected_one, expected_batch = reference(one), reference(batch)
    cases = [
        Case("output shape for a batch of 1 image:", lambda: tuple(run(one).shape), (1, 10)),
        Case("output shape for a batch of 8 images:", lambda: tuple(run(batch).shape), (8, 10)),
        Case("output (logits) for 1 image:", lambda: run(one), expected_one),
        Case("output (logits) for 8 images:", lambda: run(batch), expected_batch),
    ]
    return report(
        "6.1",
        cases,
        hint="c1, tanh, s2, c3, tanh, s4, c5, tanh, flatten from dimension 1, f6, tanh, f7; "
        "no activation after f7 (it returns logits)",
    )


def parameter_counts(params: Mapping[str, int]) -> Verdict:
    """Exercise 6.2: the trainable parameters of each layer of ``LeNet5``, worked out by hand."""
    model = LeNet5()
    expected = {name: sum(p.numel() for p in getattr(model, name).parameters()) for name in _LAYERS}
    cases = [Case(f"params[{name!r}]:", (lambda name=name: params[name]), expected[name]) for name in _LAYERS]
    cases.append(Case("the total, sum(params.values()):", lambda: sum(params.values()), sum(expected.values())))
    return report(
        "6.2",
        cases,
        hint="a convolution has out_channels x (in_channels x k x k + 1) parameters, a linear layer "
        "out_features x (in_features + 1), an average-pooling layer none",
    )
