"""Checkers for chapter 0 (``00_welcome.ipynb``): two warm-up exercises."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._core import Case, Verdict, report

__all__ = ["warmup_zeros", "warmup_linear_parameters"]


def warmup_zeros(x: object) -> Verdict:
    """Exercise 0.1: ``x`` is a batch of one 1-channel 32x32 image of zeros (float32).

    Introduced in chapter 0.
    """
    cases = [
        Case("x is a tensor:", lambda: isinstance(x, torch.Tensor), True),
        Case("x.shape", lambda: tuple(x.shape), (1, 1, 32, 32)),
        Case("x.dtype", lambda: str(x.dtype), "torch.float32"),
        Case("every value of x is 0:", lambda: bool((x == 0).all()), True),
    ]
    return report(
        "0.1",
        cases,
        "LeNet-5 reads a batch of (batch, channels, height, width) images: "
        "one image, one grey channel, 32 by 32 pixels, all zeros, in PyTorch's default float type.",
    )


def warmup_linear_parameters(linear_parameters: Callable[[int, int], int]) -> Verdict:
    """Exercise 0.2: ``linear_parameters(n_in, n_out)`` counts the parameters of ``nn.Linear(n_in, n_out)``.

    Introduced in chapter 0. Each case is compared with what PyTorch itself counts.
    """
    sizes = [(120, 84), (84, 10), (1, 1), (400, 120), (3, 7)]
    cases = []
    for n_in, n_out in sizes:
        layer = nn.Linear(n_in, n_out)
        expected = sum(p.numel() for p in layer.parameters())
        cases.append(
            Case(f"linear_parameters({n_in}, {n_out})", lambda a=n_in, b=n_out: linear_parameters(a, b), expected)
        )
    return report(
        "0.2",
        cases,
        "every one of the n_out output units has one weight per input, and one bias of its own.",
    )
