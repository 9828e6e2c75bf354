"""Checkers for chapter 9 (``09_prediction_gallery.ipynb``).

The least confident predictions, the confusion matrix, per-class accuracy.

Every case uses labels and probabilities made up here, so the verdicts are
the same whatever model was trained and whatever copy of MNIST is in use.
The references are the package's own ``lenet_course.plots`` functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .. import plots
from .compare import Mismatch, int_sequence, tensor
from .exercise import Case, Exercise, Verdict, declare

__all__ = ["confusion_matrix", "least_confident", "per_class_accuracy"]

_INTEGER_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def _labels(seed: int, n: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y_true = torch.randint(0, 10, (n,), generator=g)
    noise = torch.randint(0, 10, (n,), generator=g)
    keep = torch.rand(n, generator=g) < 0.8
    return y_true, torch.where(keep, y_true, noise)


def _probs(seed: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(n, 10, generator=g), dim=1)


def _indices(got: Any, expected: list[int]) -> Mismatch | None:
    """Indices as a 1-D tensor of an integer dtype or a list of ints, compared in order."""
    if isinstance(got, torch.Tensor):
        if got.dtype not in _INTEGER_DTYPES:
            return Mismatch(f"returned a tensor of dtype {got.dtype}, where indices (integers) are expected")
        if got.dim() != 1:
            return Mismatch(f"returned a tensor of shape {tuple(got.shape)}, where a 1-D tensor of indices is expected")
        got = got.tolist()
    return int_sequence(got, expected)


def _least_confident_cases() -> list[Case]:
    hand = torch.tensor([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.34, 0.33, 0.33]])
    return [
        Case("least_confident of 5 hand-made rows, k=2:", [hand, 2]),
        Case("least_confident of 5 hand-made rows, k=1:", [hand, 1]),
        Case("least_confident of 5 hand-made rows, k=5 (all, in order):", [hand, 5]),
        Case("least_confident of 5 hand-made rows, k=0 (none):", [hand, 0]),
        Case("least_confident of 500 random rows of 10, k=8:", [_probs(10, 500), 8]),
    ]


LEAST_CONFIDENT = declare(
    Exercise(
        id="9.1",
        name="least_confident",
        cases=_least_confident_cases,
        run=lambda fn, x: fn(x[0], x[1]),
        reference=lambda x: torch.argsort(x[0].max(1).values, stable=True)[: x[1]].tolist(),
        compare=_indices,
        hint="a prediction's confidence is one number per row, the probability of the class it predicts; rank the "
        "rows by it, least confident first, and answer with row numbers (indices), not with the confidences",
        namesakes=("lenet_course.plots.least_confident_gallery",),
    )
)


def least_confident(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> Verdict:
    """Exercise 9.1: ``fn(probs, k)``, the indices of the k rows with the lowest top probability, lowest first.

    A 1-D tensor of an integer dtype or a list of ints. Introduced in chapter 9.
    """
    return LEAST_CONFIDENT.check(fn)


def _confusion_cases() -> list[Case]:
    def case(label: str, t: list[int] | torch.Tensor, p: list[int] | torch.Tensor, num_classes: int | None) -> Case:
        return Case(label, {"y_true": torch.as_tensor(t), "y_pred": torch.as_tensor(p), "num_classes": num_classes})

    y_true, y_pred = _labels(9)
    return [
        case("confusion_matrix([0, 1, 2], [0, 1, 2], num_classes=3) (all right):", [0, 1, 2], [0, 1, 2], 3),
        case("confusion_matrix([1, 1, 1], [2, 2, 2], num_classes=3) (three 1s taken for 2s):", [1, 1, 1], [2, 2, 2], 3),
        case("confusion_matrix([0, 0, 1, 2], [0, 2, 1, 1], num_classes=3):", [0, 0, 1, 2], [0, 2, 1, 1], 3),
        case("confusion_matrix([0, 1, 1], [1, 1, 0], num_classes=2):", [0, 1, 1], [1, 1, 0], 2),
        case("confusion_matrix([0, 2, 2], [0, 2, 0], num_classes=4) (class 3 never occurs):", [0, 2, 2], [0, 2, 0], 4),
        case("confusion_matrix of 300 labels 0..9, 80% right (num_classes left at 10):", y_true, y_pred, None),
    ]


def _run_confusion(fn: Callable, x: dict[str, Any]) -> Any:
    if x["num_classes"] is None:
        return fn(x["y_true"], x["y_pred"])
    return fn(x["y_true"], x["y_pred"], num_classes=x["num_classes"])


CONFUSION_MATRIX = declare(
    Exercise(
        id="9.2",
        name="confusion_matrix",
        cases=_confusion_cases,
        run=_run_confusion,
        reference=lambda x: plots.confusion_matrix(x["y_true"], x["y_pred"], num_classes=x["num_classes"] or 10),
        compare=lambda got, expected: tensor(got, expected, dtypes=(torch.int64, torch.int32)),
        hint="the matrix is num_classes x num_classes whatever labels occur, rows for the true class and columns for "
        "the predicted one, counted as integers; every pair (true, predicted) adds one, even when the same pair "
        "comes again",
        namesakes=("lenet_course.plots.confusion_matrix",),
    )
)


def confusion_matrix(fn: Callable[..., torch.Tensor]) -> Verdict:
    """Exercise 9.2: ``fn(y_true, y_pred, num_classes=10)``, with ``cm[t, p]`` counting class t predicted as p.

    A tensor of integer counts (int64 or int32). Introduced in chapter 9.
    """
    return CONFUSION_MATRIX.check(fn)


def _per_class_cases() -> list[Case]:
    y_true, y_pred = _labels(11)
    return [
        Case("per_class_accuracy([[8, 2], [1, 3]]):", torch.tensor([[8, 2], [1, 3]])),
        Case("per_class_accuracy of a diagonal matrix (all right):", torch.diag(torch.tensor([5, 1, 7]))),
        Case(
            "per_class_accuracy([[2, 1, 0], [0, 0, 0], [1, 0, 3]]) (class 1 has no images: nan):",
            torch.tensor([[2, 1, 0], [0, 0, 0], [1, 0, 3]]),
        ),
        Case("per_class_accuracy of a 10x10 matrix from 300 labels:", plots.confusion_matrix(y_true, y_pred)),
    ]


PER_CLASS_ACCURACY = declare(
    Exercise(
        id="9.3",
        name="per_class_accuracy",
        cases=_per_class_cases,
        run=lambda fn, cm: fn(cm),
        reference=lambda cm: plots.per_class_accuracy(cm).float(),
        compare=lambda got, expected: tensor(got, expected, dtypes=(torch.float32, torch.float64)),
        hint="which cells of the matrix hold class t's images, and which of them were predicted correctly? The "
        "answer is one float per class (a class with no images has no accuracy: 0 / 0 gives nan)",
        namesakes=("lenet_course.plots.per_class_accuracy",),
    )
)


def per_class_accuracy(fn: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 9.3: ``fn(cm)``, the share of each class's images predicted correctly, as a float tensor.

    Introduced in chapter 9.
    """
    return PER_CLASS_ACCURACY.check(fn)
