"""Checkers for chapter 3 (``03_s2_subsampling.ipynb``): S2, subsampling."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._core import Case, Verdict, report

__all__ = ["avg_pool_2x2", "s2_counts"]


def _close(got: object, expected: torch.Tensor) -> Verdict:
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return False
    return bool(torch.allclose(got.detach().cpu().double(), expected.double(), rtol=1e-5, atol=1e-6))


def avg_pool_2x2(pool: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 3.1: ``pool(x)`` averages non-overlapping 2x2 windows of ``(N, C, H, W)``, H and W even.

    Compared with ``nn.AvgPool2d(2)``. Introduced in chapter 3.
    """
    generator = torch.Generator().manual_seed(3)
    reference = nn.AvgPool2d(kernel_size=2)
    inputs = [
        ("a 1x1x2x2 batch", torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])),
        ("a 1x1x4x4 batch of 0..15", torch.arange(16.0).reshape(1, 1, 4, 4)),
        ("a 1x1x4x6 batch (not square)", torch.randn(1, 1, 4, 6, generator=generator)),
        ("a 1x6x28x28 batch (C1's output)", torch.randn(1, 6, 28, 28, generator=generator)),
        ("a 3x16x10x10 batch (C3's output)", torch.randn(3, 16, 10, 10, generator=generator)),
    ]
    cases = [Case(label, lambda x=x: pool(x.clone()), reference(x), equal=_close) for label, x in inputs]
    return report(
        "3.1",
        cases,
        "each output value is the mean of one 2x2 window; the windows start at even rows and even columns "
        "and do not overlap. Slicing with a step (x[..., 0::2, 0::2]) picks one corner of every window at once.",
    )


def s2_counts(parameters: int, connections: int) -> Verdict:
    """Exercise 3.2: S2's trainable parameters (12) and connections (5,880), counted by hand.

    Introduced in chapter 3.
    """
    cases = [
        Case("S2's parameters", lambda: parameters, 12),
        Case("S2's connections", lambda: connections, 5_880),
    ]
    return report(
        "3.2",
        cases,
        "parameters belong to a map, not to a position; connections belong to every output unit: "
        "count what one S2 unit reads, its bias included, then multiply by the number of units.",
    )
