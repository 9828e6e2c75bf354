"""Checkers for chapter 10 (``10_augmentation.ipynb``): the augmentation pipeline, label-preserving transforms.

The pipeline checker looks at properties that do not depend on the random
draws (shapes, ranges, what the pipeline holds, what it does with zero
ranges and to a blank image). Where random draws are made, the CPU generator
is set from a private ``torch.Generator`` inside ``fork_rng``, so the verdict
is the same on every machine and the learner's own generators (CPU and CUDA)
are left exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .compare import Mismatch, fmt, show, tensor
from .exercise import AnswerError, Case, Exercise, Verdict, declare
from .quiz import quiz

__all__ = ["augmentation_pipeline", "label_preserving", "TRANSFORM_STATEMENTS"]


def _digit(seed: int) -> torch.Tensor:
    """A 28x28 uint8 picture with ink in the middle 20x20, like an MNIST digit."""
    g = torch.Generator().manual_seed(seed)
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4:24, 4:24] = torch.randint(0, 256, (20, 20), generator=g, dtype=torch.uint8)
    image[4:24, 4:14] = 0  # lopsided, so that any rotation or shear changes it
    return image


def _steps(transform: Any) -> list:
    """Every transform inside ``transform``, looking into Compose (v1 or v2)."""
    inner = getattr(transform, "transforms", None)
    if isinstance(inner, (list, tuple)):
        return [step for t in inner for step in _steps(t)]
    return [transform]


def _affine(transform: Any) -> Any:
    found = [t for t in _steps(transform) if type(t).__name__ == "RandomAffine"]
    if not found:
        raise AnswerError("cannot be read: the pipeline holds no RandomAffine")
    return found[0]


def _range(values: Any) -> tuple[float, ...] | None:
    if values is None:
        return None
    values = [float(v) for v in values]
    while len(values) > 2 and values[-1] == 0.0:  # shear=(-s, s, 0, 0) shears horizontally only, like (-s, s)
        values.pop()
    return tuple(values)


def _outputs(fn: Callable, x: dict[str, Any]) -> list:
    """``n`` outputs of ``fn(degrees, shear)`` for the case's image, the random draws seeded privately."""
    from PIL import Image

    pipeline = fn(x["degrees"], x["shear"])
    image = Image.fromarray(x["image"].numpy())
    with torch.random.fork_rng(devices=[]):  # the CPU generator only: torchvision draws from it
        torch.set_rng_state(torch.Generator().manual_seed(x["seed"]).get_state())
        return [pipeline(image) for _ in range(x["n"])]


def _run(fn: Callable, x: dict[str, Any]) -> Any:
    if x["look"] == "outputs":
        return _outputs(fn, x)
    pipeline = fn(x["degrees"], x["shear"])
    if x["look"] == "steps":
        return [type(t).__name__ for t in _steps(pipeline)]
    return _range(getattr(_affine(pipeline), x["look"]))


def _tensors(got: Any) -> list[torch.Tensor] | Mismatch:
    if not isinstance(got, list) or not got:
        return Mismatch("could not be read")
    for out in got:
        if not isinstance(out, torch.Tensor):
            return Mismatch(f"is not a tensor: the pipeline returned {show(out)}")
    return got


def _shape(got: Any, expected: tuple[int, ...]) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    return None if tuple(outs[0].shape) == expected else Mismatch(f"is {tuple(outs[0].shape)}, expected {expected}")


def _dtype(got: Any, expected: torch.dtype) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    return None if outs[0].dtype == expected else Mismatch(f"is {outs[0].dtype}, expected {expected}")


def _unit_range(got: Any, _expected: Any) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    low, high = min(float(o.min()) for o in outs if o.numel()), max(float(o.max()) for o in outs if o.numel())
    return None if 0 <= low and high <= 1 else Mismatch(f"is not true: the pixels run from {fmt(low)} to {fmt(high)}")


def _unchanged(got: Any, expected: torch.Tensor) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    return tensor(outs[0], expected, rtol=0, atol=1e-6)


def _vary(got: Any, _expected: Any) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    if any(o.shape != outs[0].shape or not torch.equal(o, outs[0]) for o in outs[1:]):
        return None
    return Mismatch(f"is not true: all {len(outs)} outputs are the same image")


def _blank(got: Any, _expected: Any) -> Mismatch | None:
    outs = _tensors(got)
    if isinstance(outs, Mismatch):
        return outs
    brightest = max(float(o.max()) for o in outs if o.numel())
    if brightest == 0:
        return None
    return Mismatch(f"is not true: pixels up to {fmt(brightest)} appear where the picture was blank")


def _no_flip(got: Any, _expected: Any) -> Mismatch | None:
    if not isinstance(got, list) or not all(isinstance(name, str) for name in got):
        return Mismatch("could not be read")
    flips = [name for name in got if "Flip" in name]
    return Mismatch(f"is not true: it holds {', '.join(flips)}") if flips else None


def _range_of(got: Any, expected: tuple[float, float]) -> Mismatch | None:
    if isinstance(got, tuple) and len(got) == len(expected) and all(abs(g - e) < 1e-9 for g, e in zip(got, expected)):
        return None
    return Mismatch(f"is {show(got)}, expected {expected}")


def _pipeline_cases() -> list[Case]:
    digit, blank = _digit(0), torch.zeros(28, 28, dtype=torch.uint8)
    plain = torch.nn.functional.pad(digit.float().div(255)[None], (2, 2, 2, 2))

    def outputs(degrees: float, shear: float, n: int, image: torch.Tensor = digit) -> dict[str, Any]:
        return {"look": "outputs", "degrees": degrees, "shear": shear, "n": n, "image": image, "seed": 0}

    def look(what: str) -> dict[str, Any]:
        return {"look": what, "degrees": 15, "shear": 10}

    return [
        Case.fixed("the output's shape for fn(15, 10)", outputs(15, 10, 1), (1, 32, 32), _shape),
        Case.fixed("the output's dtype", outputs(15, 10, 1), torch.float32, _dtype),
        Case.fixed("all pixels of five outputs of fn(30, 20) between 0 and 1:", outputs(30, 20, 5), None, _unit_range),
        Case.fixed(
            "fn(0, 0) (no rotation, no shear) on a digit gives the padded digit:", outputs(0, 0, 1), plain, _unchanged
        ),
        Case.fixed("the RandomAffine's degrees for fn(15, 10)", look("degrees"), (-15.0, 15.0), _range_of),
        Case.fixed("the RandomAffine's shear for fn(15, 10)", look("shear"), (-10.0, 10.0), _range_of),
        Case.fixed("ten outputs of fn(30, 20) for one digit differ:", outputs(30, 20, 10), None, _vary),
        Case.fixed(
            "ten outputs of fn(30, 20) for a blank picture stay blank:", outputs(30, 20, 10, blank), None, _blank
        ),
        Case.fixed("the pipeline holds no flip:", look("steps"), None, _no_flip),
    ]


AUGMENTATION_PIPELINE = declare(
    Exercise(
        id="10.1",
        name="build_augmentation",
        cases=_pipeline_cases,
        run=_run,
        reference=lambda _inputs: None,
        compare=_no_flip,
        hint="one random affine transform draws both the rotation and the shear, each from a range centred on 0; "
        "the corners it uncovers must stay background (black, 0) like the padding; chapter 7's steps follow; "
        "and nothing that would turn one digit into another",
    )
)


def augmentation_pipeline(fn: Callable[[float, float], Callable]) -> Verdict:
    """Exercise 10.1: ``fn(degrees, shear)``, a pipeline from a 28x28 PIL digit to a rotated, sheared 1x32x32 tensor.

    Introduced in chapter 10.
    """
    return AUGMENTATION_PIPELINE.check(fn)


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

LABEL_PRESERVING = declare(
    quiz(
        "10.2",
        "label_preserving",
        TRANSFORM_STATEMENTS,
        {"a", "b", "c", "d", "h"},
        hint="a transform keeps the label when a person would still read the same digit after it; "
        "picture a 2, a 3, a 6 and a 7 under each one",
    )
)


def label_preserving(answer: Iterable[str]) -> Verdict:
    """Exercise 10.2: the letters of the transforms in ``TRANSFORM_STATEMENTS`` that keep a digit's label.

    A set of letters, or a string such as "a, b" or "ab". Introduced in chapter 10;
    the quiz widget's Check button calls it.
    """
    return LABEL_PRESERVING.check(answer)
