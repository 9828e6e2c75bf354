"""Checkers for chapter 0 (``00_welcome.ipynb``): two warm-up exercises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .compare import Mismatch, count, show
from .exercise import Case, Exercise, Verdict, declare

__all__ = ["warmup_zeros", "warmup_linear_parameters"]


def _is_tensor(got: Any, _expected: Any) -> Mismatch | None:
    return None if isinstance(got, torch.Tensor) else Mismatch(f"it is {show(got)}, not a tensor")


def _shape(got: Any, expected: tuple[int, ...]) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"is not defined: x is {show(got)}, not a tensor")
    return None if tuple(got.shape) == expected else Mismatch(f"is {tuple(got.shape)}, expected {expected}")


def _dtype(got: Any, expected: torch.dtype) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"is not defined: x is {show(got)}, not a tensor")
    return None if got.dtype == expected else Mismatch(f"is {got.dtype}, expected {expected}")


def _all_zero(got: Any, _expected: Any) -> Mismatch | None:
    if not isinstance(got, torch.Tensor) or got.numel() == 0:
        return Mismatch(f"is not true: x is {show(got)}")
    nonzero = int((got != 0).sum())
    return None if nonzero == 0 else Mismatch(f"is not true: {nonzero} of its {got.numel()} values are not 0")


WARMUP_ZEROS = declare(
    Exercise(
        id="0.1",
        name="x",
        cases=lambda: [
            Case.fixed("x is a tensor:", None, None, _is_tensor),
            Case.fixed("x.shape", None, (1, 1, 32, 32), _shape),
            Case.fixed("x.dtype", None, torch.float32, _dtype),
            Case.fixed("every value of x is 0:", None, None, _all_zero),
        ],
        run=lambda x, _inputs: x,
        reference=lambda _inputs: None,
        compare=_is_tensor,
        hint="LeNet-5 reads a batch of (batch, channels, height, width) images: "
        "one image, one grey channel, 32 by 32 pixels, all zeros, in PyTorch's default float type.",
    )
)


def warmup_zeros(x: object) -> Verdict:
    """Exercise 0.1: ``x`` is a batch of one 1-channel 32x32 image of zeros (float32).

    Introduced in chapter 0.
    """
    return WARMUP_ZEROS.check(x)


def _linear_parameters(inputs: dict[str, int]) -> int:
    with torch.device("meta"):  # counted by PyTorch itself, without memory or random numbers
        layer = nn.Linear(inputs["n_in"], inputs["n_out"])
    return sum(p.numel() for p in layer.parameters())


LINEAR_PARAMETERS = declare(
    Exercise(
        id="0.2",
        name="linear_parameters",
        cases=lambda: [
            Case(f"linear_parameters({n_in}, {n_out})", {"n_in": n_in, "n_out": n_out})
            for n_in, n_out in [(120, 84), (84, 10), (1, 1), (400, 120), (3, 7), (1, 5), (7, 1)]
        ],
        run=lambda fn, inputs: fn(inputs["n_in"], inputs["n_out"]),
        reference=_linear_parameters,
        compare=count,
        hint="every one of the n_out output units has one weight per input, and one bias of its own.",
    )
)


def warmup_linear_parameters(linear_parameters: Callable[[int, int], int]) -> Verdict:
    """Exercise 0.2: ``linear_parameters(n_in, n_out)`` counts the parameters of ``nn.Linear(n_in, n_out)``.

    Introduced in chapter 0. Each case is compared with what PyTorch itself counts.
    """
    return LINEAR_PARAMETERS.check(linear_parameters)
