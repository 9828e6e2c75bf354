"""Checkers for chapter 10 (``10_augmentation.ipynb``): the augmentation pipeline, label-preserving transforms.

The pipeline checker looks at deterministic properties only (shapes, ranges,
what the pipeline holds, what it does with zero ranges), with its own seeded
random numbers, so the verdict is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from ._core import Case, Verdict, report
from ._quiz import judge_statements

__all__ = ["augmentation_pipeline", "label_preserving", "TRANSFORM_STATEMENTS"]


def _digit(seed: int) -> np.ndarray:
    """A 28x28 uint8 picture with ink in the middle 20x20, like an MNIST digit."""
    g = torch.Generator().manual_seed(seed)
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4:24, 4:24] = torch.randint(0, 256, (20, 20), generator=g, dtype=torch.uint8)
    image[4:24, 4:14] = 0  # lopsided, so that any rotation or shear changes it
    return image.numpy()


def _steps(transform) -> list:
    """Every transform inside ``transform``, looking into Compose (v1 or v2)."""
    inner = getattr(transform, "transforms", None)
    if isinstance(inner, (list, tuple)):
        return [step for t in inner for step in _steps(t)]
    return [transform]


def _affine(transform):
    found = [t for t in _steps(transform) if type(t).__name__ == "RandomAffine"]
    if not found:
        raise ValueError("the pipeline holds no RandomAffine")
    return found[0]


def _range(values) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(v) for v in values)


def _largest_difference(got, expected: torch.Tensor):
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return f"a {type(got).__name__} of shape {tuple(getattr(got, 'shape', ()))}"
    return round(float((got.float() - expected).abs().max()), 4)


def augmentation_pipeline(fn: Callable[[float, float], Callable]) -> Verdict:
    """Exercise 10.1: ``fn(degrees, shear)``, a pipeline from a 28x28 PIL digit to a rotated, sheared 1x32x32 tensor."""
    from PIL import Image

    digit = Image.fromarray(_digit(0))
    plain = torch.nn.functional.pad(torch.from_numpy(_digit(0)).float().div(255)[None], (2, 2, 2, 2))

    def seeded(thunk):
        def run():
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                return thunk()

        return run

    def outputs(degrees, shear, n):
        pipeline = fn(degrees, shear)
        return [pipeline(digit) for _ in range(n)]

    def in_unit_range():
        x = outputs(15, 10, 1)[0]
        return bool(x.min() >= 0 and x.max() <= 1)

    def varies():
        xs = outputs(30, 20, 10)
        return any(not torch.equal(xs[0], x) for x in xs[1:])

    def no_flip():
        return not any("Flip" in type(t).__name__ for t in _steps(fn(15, 10)))

    cases = [
        Case("the output's shape for fn(15, 10):", seeded(lambda: tuple(outputs(15, 10, 1)[0].shape)), (1, 32, 32)),
        Case("the output's dtype:", seeded(lambda: outputs(15, 10, 1)[0].dtype), torch.float32),
        Case("all pixels between 0 and 1:", seeded(in_unit_range), True),
        Case(
            "fn(0, 0) on a digit (no rotation, no shear), the largest pixel difference from the padded digit:",
            seeded(lambda: _largest_difference(outputs(0, 0, 1)[0], plain)),
            0.0,
        ),
        Case("the RandomAffine's degrees for fn(15, 10):", lambda: _range(_affine(fn(15, 10)).degrees), (-15.0, 15.0)),
        Case("the RandomAffine's shear for fn(15, 10):", lambda: _range(_affine(fn(15, 10)).shear), (-10.0, 10.0)),
        Case("ten outputs of fn(30, 20) for one digit differ:", seeded(varies), True),
        Case("it holds no flip:", no_flip, True),
    ]
    return report(
        "10.1",
        cases,
        hint="transforms.Compose([transforms.RandomAffine(degrees=..., shear=...), transforms.Pad(2), "
        "transforms.ToTensor()]): one RandomAffine with both ranges, background filled with 0, no flips",
    )


TRANSFORM_STATEMENTS = {
    "a": "rotate by a random angle between -15 and +15 degrees",
    "b": "shear horizontally by up to 10 degrees",
    "c": "shift by up to 2 pixels in any direction",
    "d": "scale by a factor between 0.9 and 1.1",
    "e": "flip left to right (a mirror image)",
    "f": "flip upside down",
    "g": "rotate by 180 degrees",
    "h": "add a little random noise to the pixels",
}
_LABEL_PRESERVING = {"a", "b", "c", "d", "h"}


def label_preserving(answer: Iterable[str]) -> Verdict:
    """Exercise 10.2: the set of letters of the transforms in ``TRANSFORM_STATEMENTS`` that keep a digit's label."""
    return judge_statements(
        "10.2",
        TRANSFORM_STATEMENTS,
        answer,
        _LABEL_PRESERVING,
        hint="a transform keeps the label when a person would still read the same digit after it; "
        "picture a 2, a 3, a 6 and a 7 under each one",
    )
