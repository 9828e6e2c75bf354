"""Checkers for chapter 2 (``02_c1_convolution.ipynb``): C1, the first convolution."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import Case, Verdict, report

__all__ = ["c1_counts", "conv2d_single_channel"]


def c1_counts(parameters: int, connections: int) -> Verdict:
    """Exercise 2.1: C1's trainable parameters (156) and connections (122,304), counted by hand.

    Introduced in chapter 2.
    """
    cases = [
        Case("C1's parameters", lambda: parameters, 156),
        Case("C1's connections", lambda: connections, 122_304),
    ]
    return report(
        "2.1",
        cases,
        "a parameter is shared by every position of its kernel, a connection is not: count weights and biases "
        "once per kernel for the first; for the second, count what every one of the 6x28x28 output units reads, "
        "its bias included.",
    )


def _close(got: object, expected: torch.Tensor) -> Verdict:
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return False
    return bool(torch.allclose(got.detach().cpu().double(), expected.double(), rtol=1e-4, atol=1e-5))


def conv2d_single_channel(conv2d: Callable[..., torch.Tensor]) -> Verdict:
    """Exercise 2.2: ``conv2d(image, kernel, bias)`` by loops, compared with ``torch.nn.functional.conv2d``.

    ``image`` is ``(H, W)``, ``kernel`` is ``(F, F)`` (or ``(Fh, Fw)``), ``bias`` a number;
    the answer is ``(H - Fh + 1, W - Fw + 1)``: stride 1, no padding, and no flip of the
    kernel (PyTorch, like every deep-learning library, computes a cross-correlation).
    Introduced in chapter 2.
    """
    generator = torch.Generator().manual_seed(2)
    shapes = [
        ("a 3x3 image and a 2x2 kernel", (3, 3), (2, 2), 0.0),
        ("a 5x5 image and a 3x3 kernel, bias 0.5", (5, 5), (3, 3), 0.5),
        ("a 6x9 image and a 3x2 kernel", (6, 9), (3, 2), 0.0),
        ("a 5x5 image and a 5x5 kernel", (5, 5), (5, 5), -1.0),
        ("a 32x32 image and a 5x5 kernel, bias 0.1 (C1's size)", (32, 32), (5, 5), 0.1),
    ]
    cases = []
    for label, image_shape, kernel_shape, bias in shapes:
        image = torch.randn(image_shape, generator=generator)
        kernel = torch.randn(kernel_shape, generator=generator)
        expected = F.conv2d(image[None, None], kernel[None, None], torch.tensor([bias]))[0, 0]
        cases.append(
            Case(label, lambda i=image, k=kernel, b=bias: conv2d(i.clone(), k.clone(), b), expected, equal=_close)
        )
    # a kernel that is not symmetric tells a cross-correlation from a flipped convolution
    image = torch.arange(16.0).reshape(4, 4)
    kernel = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    expected = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    cases.append(
        Case(
            "a 4x4 image and a kernel that picks its top-left pixel",
            lambda: conv2d(image.clone(), kernel.clone(), 0.0),
            expected,
            equal=_close,
        )
    )
    return report(
        "2.2",
        cases,
        "the output has (H - Fh + 1) x (W - Fw + 1) values; value [i, j] is the sum of image[i:i+Fh, j:j+Fw] "
        "times the kernel, element by element, plus the bias. Do not flip the kernel.",
    )
