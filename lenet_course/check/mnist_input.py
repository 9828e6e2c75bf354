"""Checkers for chapter 7 (``07_mnist.ipynb``): padding, the transform pipeline, class counts.

Every case uses images and labels made up here, so the verdicts are the same
whatever copy of MNIST is in use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._core import Case, Raises, Verdict, report

__all__ = ["padding_for", "mnist_transform", "class_counts"]


def padding_for(fn: Callable[..., int]) -> Verdict:
    """Exercise 7.1: ``fn(size, target=32)``, the padding on each side that turns ``size`` into ``target``."""
    cases = [
        Case("padding_for(28):", lambda: fn(28), 2),
        Case("padding_for(20):", lambda: fn(20), 6),
        Case("padding_for(32):", lambda: fn(32), 0),
        Case("padding_for(24, target=28):", lambda: fn(24, target=28), 2),
        Case("padding_for(28, target=31) (odd difference):", lambda: fn(28, target=31), Raises(ValueError)),
        Case("padding_for(36) (already too big):", lambda: fn(36), Raises(ValueError)),
    ]
    return report(
        "7.1",
        cases,
        hint="the padding is added on both sides, so (target - size) must be split in two equal halves; "
        "raise ValueError when it cannot be (a negative or odd difference)",
    )


def _digit_like(seed: int) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4:24, 4:24] = torch.randint(0, 256, (20, 20), generator=g, dtype=torch.uint8)
    return image.numpy()


def _expected(image: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(image).float().div(255).unsqueeze(0)
    return torch.nn.functional.pad(x, (2, 2, 2, 2))


def mnist_transform(transform: Callable) -> Verdict:
    """Exercise 7.2: a transform taking a 28x28 PIL image to a 1x32x32 tensor in [0, 1], padded by 2."""
    from PIL import Image

    images = [_digit_like(seed) for seed in (0, 1)] + [np.full((28, 28), 255, dtype=np.uint8)]

    def apply(image: np.ndarray):
        return transform(Image.fromarray(image))

    cases = [
        Case("output shape:", lambda: tuple(apply(images[0]).shape), (1, 32, 32)),
        Case("output dtype:", lambda: apply(images[0]).dtype, torch.float32),
    ]
    cases += [
        Case(f"pixels of test image {i}:", (lambda im=im: apply(im)), _expected(im)) for i, im in enumerate(images)
    ]
    return report(
        "7.2",
        cases,
        hint="transforms.Compose([transforms.Pad(...), transforms.ToTensor()]): pad the PIL image by 2 "
        "pixels of 0 on every side, then ToTensor scales 0..255 to 0..1; no Resize",
    )


def class_counts(fn: Callable[[torch.Tensor], list[int]]) -> Verdict:
    """Exercise 7.3: ``fn(labels)``, how many labels of each digit 0..9, as a list of 10 ints."""
    g = torch.Generator().manual_seed(3)
    random_labels = torch.randint(0, 10, (500,), generator=g)
    cases = [
        Case(
            "class_counts(tensor([0, 1, 1, 9])):",
            lambda: fn(torch.tensor([0, 1, 1, 9])),
            [1, 2, 0, 0, 0, 0, 0, 0, 0, 1],
        ),
        Case("class_counts of 0..9 three times:", lambda: fn(torch.arange(10).repeat(3)), [3] * 10),
        Case("class_counts of five 7s:", lambda: fn(torch.full((5,), 7)), [0] * 7 + [5, 0, 0]),
        Case(
            "class_counts of 500 random labels:",
            lambda: fn(random_labels.clone()),
            torch.bincount(random_labels, minlength=10).tolist(),
        ),
    ]
    return report(
        "7.3",
        cases,
        hint="return a plain list of 10 ints, one per digit 0..9, counting 0 for a digit that never occurs",
    )
