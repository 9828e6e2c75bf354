"""Checkers for chapter 9 (``09_prediction_gallery.ipynb``).

The least confident predictions, the confusion matrix, per-class accuracy.

Every case uses labels and probabilities made up here, so the verdicts are
the same whatever model was trained and whatever copy of MNIST is in use.
The references are the package's own ``lenet_course.plots`` functions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import plots
from ._core import Case, Verdict, report

__all__ = ["confusion_matrix", "least_confident", "per_class_accuracy"]


def _as_tensor(value):
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        return value


def _labels(seed: int, n: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y_true = torch.randint(0, 10, (n,), generator=g)
    noise = torch.randint(0, 10, (n,), generator=g)
    keep = torch.rand(n, generator=g) < 0.8
    return y_true, torch.where(keep, y_true, noise)


def _as_list(value):
    value = _as_tensor(value)
    return value.tolist() if isinstance(value, torch.Tensor) else value


def confusion_matrix(fn: Callable[..., torch.Tensor]) -> Verdict:
    """Exercise 9.2: ``fn(y_true, y_pred, num_classes=10)``, with ``cm[t, p]`` counting class t predicted as p."""
    y_true, y_pred = _labels(9)

    def case(label, t, p, **kw):
        t, p = torch.as_tensor(t), torch.as_tensor(p)
        return Case(
            label, lambda: _as_list(fn(t.clone(), p.clone(), **kw)), plots.confusion_matrix(t, p, **kw).tolist()
        )

    cases = [
        case("confusion_matrix([0, 1, 2], [0, 1, 2], num_classes=3) (all right):", [0, 1, 2], [0, 1, 2], num_classes=3),
        case(
            "confusion_matrix([1, 1, 1], [2, 2, 2], num_classes=3) (three 1s taken for 2s):",
            [1, 1, 1],
            [2, 2, 2],
            num_classes=3,
        ),
        case("confusion_matrix([0, 0, 1, 2], [0, 2, 1, 1], num_classes=3):", [0, 0, 1, 2], [0, 2, 1, 1], num_classes=3),
        case("confusion_matrix([0, 1, 1], [1, 1, 0], num_classes=2):", [0, 1, 1], [1, 1, 0], num_classes=2),
        case("confusion_matrix of 300 labels 0..9, 80% right (num_classes left at 10):", y_true, y_pred),
    ]
    return report(
        "9.2",
        cases,
        hint="start from torch.zeros(num_classes, num_classes, dtype=torch.long); rows are the true classes and "
        "columns the predicted ones, so each pair (t, p) adds 1 to cm[t, p]",
    )


def _probs(seed: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(n, 10, generator=g), dim=1)


def least_confident(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> Verdict:
    """Exercise 9.1: ``fn(probs, k)``, the indices of the k rows with the lowest top probability, lowest first."""
    hand = torch.tensor([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.34, 0.33, 0.33]])
    random = _probs(10, 500)

    def expected(probs, k):
        return torch.argsort(probs.max(1).values)[:k].tolist()

    def answer(probs, k):
        return lambda: [int(i) for i in _as_tensor(fn(probs.clone(), k)).flatten()]

    cases = [
        Case("least_confident of 5 hand-made rows, k=2:", answer(hand, 2), expected(hand, 2)),
        Case("least_confident of 5 hand-made rows, k=1:", answer(hand, 1), expected(hand, 1)),
        Case("least_confident of 5 hand-made rows, k=5 (all, in order):", answer(hand, 5), expected(hand, 5)),
        Case("least_confident of 500 random rows of 10, k=8:", answer(random, 8), expected(random, 8)),
    ]
    return report(
        "9.1",
        cases,
        hint="a prediction's confidence is its largest probability (max over dim 1); "
        "sort the confidences from low to high (torch.argsort) and keep the first k indices",
    )


def per_class_accuracy(fn: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 9.3: ``fn(cm)``, the share of each class's images predicted correctly, from a confusion matrix."""
    y_true, y_pred = _labels(11)
    big = plots.confusion_matrix(y_true, y_pred)
    small = torch.tensor([[8, 2], [1, 3]])
    perfect = torch.diag(torch.tensor([5, 1, 7]))

    def case(label, cm):
        return Case(label, lambda: _as_list(fn(cm.clone())), plots.per_class_accuracy(cm).tolist())

    cases = [
        case("per_class_accuracy([[8, 2], [1, 3]]):", small),
        case("per_class_accuracy of a diagonal matrix (all right):", perfect),
        case("per_class_accuracy of a 10x10 matrix from 300 labels:", big),
    ]
    return report(
        "9.3",
        cases,
        hint="row t of the matrix holds every image of class t; the correct ones are on the diagonal, "
        "so divide cm.diagonal() by the row sums (as floats)",
    )
