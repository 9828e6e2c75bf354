"""Checkers for chapter 3 (``03_s2_subsampling.ipynb``): S2, subsampling."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .compare import tensor
from .convolution import _by_hand
from .exercise import Case, Exercise, Verdict, declare

__all__ = ["avg_pool_2x2", "s2_counts"]


def _pool_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(3)
    inputs = [
        ("a 1x1x2x2 batch", torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])),
        ("a 1x1x4x4 batch of 0..15", torch.arange(16.0).reshape(1, 1, 4, 4)),
        ("a 1x1x4x6 batch (not square)", torch.randn(1, 1, 4, 6, generator=generator)),
        ("a 1x6x28x28 batch (C1's output)", torch.randn(1, 6, 28, 28, generator=generator)),
        ("a 3x16x10x10 batch (C3's output)", torch.randn(3, 16, 10, 10, generator=generator)),
    ]
    return [Case(label, x) for label, x in inputs]


AVG_POOL_2X2 = declare(
    Exercise(
        id="3.1",
        name="avg_pool_2x2",
        cases=_pool_cases,
        run=lambda fn, x: fn(x),
        reference=lambda x: nn.AvgPool2d(kernel_size=2)(x),
        compare=lambda got, expected: tensor(got, expected),
        hint="each output value is the mean of one 2x2 window; the windows start at even rows and even columns "
        "and do not overlap. Which four slices of x hold the four corners of every window?",
    )
)


def avg_pool_2x2(pool: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 3.1: ``pool(x)`` averages non-overlapping 2x2 windows of ``(N, C, H, W)``, H and W even.

    Compared with ``nn.AvgPool2d(2)``. Introduced in chapter 3.
    """
    return AVG_POOL_2X2.check(pool)


S2_COUNTS = declare(
    _by_hand(
        "3.2",
        "S2",
        12,
        5_880,
        "parameters belong to a map, not to a position; connections belong to every output unit: "
        "count what one S2 unit reads, its bias included, then multiply by the number of units.",
    )
)


def s2_counts(s2_parameters: int, s2_connections: int) -> Verdict:
    """Exercise 3.2: S2's trainable parameters and connections, counted by hand (two ints).

    Introduced in chapter 3.
    """
    return S2_COUNTS.check((s2_parameters, s2_connections))
