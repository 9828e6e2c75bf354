"""Checkers for chapter 2 (``02_c1_convolution.ipynb``): C1, the first convolution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .compare import count, tensor
from .exercise import Case, Exercise, Verdict, declare

__all__ = ["c1_counts", "conv2d_single_channel"]


def _by_hand(number: str, layer: str, parameters: int, connections: int, hint: str) -> Exercise:
    """An exercise that asks for a layer's parameters and connections, counted by hand (2.1, 3.2)."""
    low = layer.lower()
    return Exercise(
        id=number,
        name=f"{low}_parameters, {low}_connections",
        cases=lambda: [
            Case.fixed(f"{low}_parameters, {layer}'s trainable parameters,", 0, parameters),
            Case.fixed(f"{low}_connections, {layer}'s connections,", 1, connections),
        ],
        run=lambda answer, i: answer[i],
        reference=lambda _inputs: None,
        compare=lambda got, expected: count(got, expected, verb="is", reveal=False),
        hint=hint,
    )


C1_COUNTS = declare(
    _by_hand(
        "2.1",
        "C1",
        156,
        122_304,
        "a parameter is shared by every position of its kernel, a connection is not: count weights and biases "
        "once per kernel for the first; for the second, count what every one of the output units reads, "
        "its bias included, and how many output units there are.",
    )
)


def c1_counts(c1_parameters: int, c1_connections: int) -> Verdict:
    """Exercise 2.1: C1's trainable parameters and connections, counted by hand (two ints).

    Introduced in chapter 2.
    """
    return C1_COUNTS.check((c1_parameters, c1_connections))


def _conv2d_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(2)
    shapes = [
        ("a 3x3 image and a 2x2 kernel", (3, 3), (2, 2), 0.0),
        ("a 5x5 image and a 3x3 kernel, bias 0.5", (5, 5), (3, 3), 0.5),
        ("a 6x9 image and a 3x2 kernel (not square)", (6, 9), (3, 2), 0.0),
        ("a 5x5 image and a 5x5 kernel (one position)", (5, 5), (5, 5), -1.0),
        ("a 32x32 image and a 5x5 kernel, bias 0.1 (C1's size)", (32, 32), (5, 5), 0.1),
    ]
    cases = []
    for label, image_shape, kernel_shape, bias in shapes:
        image = torch.randn(image_shape, generator=generator)
        kernel = torch.randn(kernel_shape, generator=generator)
        cases.append(Case(label, {"image": image, "kernel": kernel, "bias": bias}))
    # a kernel that is not symmetric tells a cross-correlation from a flipped convolution
    image = torch.arange(16.0).reshape(4, 4)
    kernel = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    cases.append(
        Case("a 4x4 image and a kernel that picks its top-left pixel", {"image": image, "kernel": kernel, "bias": 0.0})
    )
    return cases


def _conv2d_reference(x: dict[str, Any]) -> torch.Tensor:
    return F.conv2d(x["image"][None, None], x["kernel"][None, None], torch.tensor([x["bias"]]))[0, 0]


CONV2D_SINGLE_CHANNEL = declare(
    Exercise(
        id="2.2",
        name="conv2d_single_channel",
        cases=_conv2d_cases,
        run=lambda fn, x: fn(x["image"], x["kernel"], x["bias"]),
        reference=_conv2d_reference,
        compare=lambda got, expected: tensor(got, expected, rtol=1e-4, atol=1e-5),
        hint="work out one output value by hand: which patch of the image lies under the kernel when its top-left "
        "corner is at (i, j), and how many positions fit along each side? Keep the kernel the way it is given.",
    )
)


def conv2d_single_channel(conv2d: Callable[..., torch.Tensor]) -> Verdict:
    """Exercise 2.2: ``conv2d(image, kernel, bias)`` by loops, compared with ``torch.nn.functional.conv2d``.

    ``image`` is ``(H, W)``, ``kernel`` is ``(Fh, Fw)``, ``bias`` a number; the
    answer is a float32 ``(H - Fh + 1, W - Fw + 1)`` tensor: stride 1, no
    padding, and no flip of the kernel (PyTorch, like every deep-learning
    library, computes a cross-correlation). Introduced in chapter 2.
    """
    return CONV2D_SINGLE_CHANNEL.check(conv2d)
