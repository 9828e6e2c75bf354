"""Checkers for chapter 7 (``07_mnist.ipynb``): padding, the transform pipeline, class counts.

Every case uses images and labels made up here, so the verdicts are the same
whatever copy of MNIST is in use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .compare import Mismatch, count, int_sequence, show, tensor
from .exercise import Case, Exercise, Raises, Verdict, declare

__all__ = ["padding_for", "mnist_transform", "class_counts"]


def _padding_reference(x: dict[str, int]) -> int | Raises:
    difference = x["target"] - x["size"]
    return Raises("ValueError") if difference < 0 or difference % 2 else difference // 2


def _padding_cases() -> list[Case]:
    pairs = [(28, 32), (20, 32), (32, 32), (30, 32), (24, 28), (28, 31), (36, 32), (31, 32), (33, 32)]
    notes = {(28, 31): " (odd difference)", (36, 32): " (already too big)", (31, 32): " (odd difference)"}
    cases = []
    for size, target in pairs:
        call = f"padding_for({size})" if target == 32 else f"padding_for({size}, target={target})"
        cases.append(Case(f"{call}{notes.get((size, target), '')}:", {"size": size, "target": target}))
    return cases


PADDING_FOR = declare(
    Exercise(
        id="7.1",
        name="padding_for",
        cases=_padding_cases,
        run=lambda fn, x: fn(x["size"]) if x["target"] == 32 else fn(x["size"], target=x["target"]),
        reference=_padding_reference,
        compare=count,
        hint="the padding is a number of pixels, the same on both sides: when the missing width cannot be shared "
        "out that way (or nothing is missing because the image is too big), there is no answer, and the function "
        "says so with ValueError",
    )
)


def padding_for(fn: Callable[..., int]) -> Verdict:
    """Exercise 7.1: ``fn(size, target=32)``, the padding (an int) on each side that turns ``size`` into ``target``.

    Introduced in chapter 7.
    """
    return PADDING_FOR.check(fn)


def _digit_like(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4:24, 4:24] = torch.randint(0, 256, (20, 20), generator=g, dtype=torch.uint8)
    return image


def _padded(image: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.pad(image.float().div(255).unsqueeze(0), (2, 2, 2, 2))


def _apply(transform: Any, image: torch.Tensor) -> Any:
    from PIL import Image

    return transform(Image.fromarray(image.numpy()))


def _shape(got: Any, expected: torch.Tensor) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"is not a tensor: the pipeline returned {show(got)}")
    return None if got.shape == expected.shape else Mismatch(f"is {tuple(got.shape)}, expected {tuple(expected.shape)}")


def _dtype(got: Any, expected: torch.Tensor) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"is not a tensor's: the pipeline returned {show(got)}")
    return None if got.dtype == expected.dtype else Mismatch(f"is {got.dtype}, expected {expected.dtype}")


def _transform_cases() -> list[Case]:
    images = [_digit_like(0), _digit_like(1), torch.full((28, 28), 255, dtype=torch.uint8)]
    return [
        Case("the output's shape", images[0], compare=_shape),
        Case("the output's dtype", images[0], compare=_dtype),
    ] + [Case(f"the pixels of test image {i}:", image) for i, image in enumerate(images)]


MNIST_TRANSFORM = declare(
    Exercise(
        id="7.2",
        name="transform",
        cases=_transform_cases,
        run=_apply,
        reference=_padded,
        compare=lambda got, expected: tensor(got, expected, rtol=0, atol=1e-6),
        hint="compare your output with the image in: LeNet-5 wants 32x32 where MNIST has 28x28, and the new "
        "border must be background; the pixel values must become floats from 0 to 1, nothing else changed "
        "(no resizing, no normalising)",
        namesakes=("lenet_course.data.mnist_transform",),
    )
)


def mnist_transform(transform: Callable) -> Verdict:
    """Exercise 7.2: a transform taking a 28x28 PIL image to a 1x32x32 float32 tensor in [0, 1], padded by 2.

    Introduced in chapter 7.
    """
    return MNIST_TRANSFORM.check(transform)


def _counts_cases() -> list[Case]:
    g = torch.Generator().manual_seed(3)
    return [
        Case("class_counts(tensor([0, 1, 1, 9])):", torch.tensor([0, 1, 1, 9])),
        Case("class_counts of 0..9 three times:", torch.arange(10).repeat(3)),
        Case("class_counts of five 7s:", torch.full((5,), 7)),
        Case("class_counts of 0s and 8s only (no 9):", torch.tensor([8, 0, 8, 8, 0])),
        Case("class_counts of no labels at all:", torch.zeros(0, dtype=torch.long)),
        Case("class_counts of 500 random labels:", torch.randint(0, 10, (500,), generator=g)),
    ]


CLASS_COUNTS = declare(
    Exercise(
        id="7.3",
        name="class_counts",
        cases=_counts_cases,
        run=lambda fn, labels: fn(labels),
        reference=lambda labels: [int((labels == d).sum()) for d in range(10)],
        compare=lambda got, expected: int_sequence(got, expected),
        hint="return a plain list of 10 ints, one per digit 0..9 in order, with 0 for a digit that never occurs, "
        "even when the largest label present is below 9",
    )
)


def class_counts(fn: Callable[[torch.Tensor], list[int]]) -> Verdict:
    """Exercise 7.3: ``fn(labels)``, how many labels of each digit 0..9, as a list of 10 ints.

    Introduced in chapter 7.
    """
    return CLASS_COUNTS.check(fn)
