"""Checkers for chapter 5 (``05_c5_f6_output.ipynb``): C5's size, softmax, the RBF output."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..shapes import conv_output_size, pool_output_size
from ._core import Case, Raises, Verdict, report

__all__ = ["c5_output_size", "softmax", "rbf_output"]


def _reference_c5(size: int) -> int:
    for step in ("conv", "pool", "conv", "pool", "conv"):
        size = conv_output_size(size, 5) if step == "conv" else pool_output_size(size, 2)
    return size


def c5_output_size(fn: Callable[[int], int]) -> Verdict:
    """Exercise 5.1: ``fn(size)``, the side of C5's output for a ``size`` x ``size`` input."""
    cases = [Case(f"c5_output_size({s}):", (lambda s=s: fn(s)), _reference_c5(s)) for s in (32, 36, 40, 44, 64, 100)]
    cases.append(Case("c5_output_size(28):", lambda: fn(28), Raises(ValueError)))
    return report(
        "5.1",
        cases,
        hint="chain C1 (5x5 convolution), S2 (2x2 pooling), C3, S4 and C5 with conv_output_size and "
        "pool_output_size; they raise ValueError when a layer does not fit, as it should for 28x28",
    )


def _logits(shape: tuple[int, int], seed: int, scale: float = 3.0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


def softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 5.2: ``fn(z)``, the softmax of each row of a batch of logits ``z`` (N, C)."""
    batch = _logits((4, 10), 0)

    def row(values: list[float]) -> list[float]:
        """The learner's softmax of one row, rounded for display."""
        out = fn(torch.tensor([values], dtype=torch.float64))
        return [round(float(v), 4) for v in out[0]]

    def expected_row(values: list[float]) -> list[float]:
        return [round(float(v), 4) for v in torch.softmax(torch.tensor(values, dtype=torch.float64), dim=0)]

    cases = [
        Case("softmax of a (4, 10) batch of logits:", lambda: fn(batch.clone()), torch.softmax(batch, dim=1)),
        Case("softmax of [[0, 0, 0, 0]]:", lambda: row([0.0, 0.0, 0.0, 0.0]), expected_row([0.0, 0.0, 0.0, 0.0])),
        Case(
            "softmax of [[1000, 1001, 1002]] (large logits):",
            lambda: row([1000.0, 1001.0, 1002.0]),
            expected_row([1000.0, 1001.0, 1002.0]),
        ),
        Case(
            "softmax of [[-1000, 0]] (a very negative logit):",
            lambda: row([-1000.0, 0.0]),
            expected_row([-1000.0, 0.0]),
        ),
        Case("softmax of a (3, 84) batch:", lambda: fn(_logits((3, 84), 1)), torch.softmax(_logits((3, 84), 1), dim=1)),
    ]
    return report(
        "5.2",
        cases,
        hint="exponentiate, then divide each row by its sum (dim=1, keepdim=True); subtract each row's "
        "maximum first so that exp cannot overflow (softmax does not change when a row is shifted)",
    )


def _reference_rbf(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return ((x[:, None, :] - w[None, :, :]) ** 2).sum(dim=2)


def rbf_output(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 5.3: ``fn(x, w)``, the RBF outputs y[n, i] = sum_j (x[n, j] - w[i, j])^2."""
    x_small = torch.tensor([[1.0, -1.0, 0.5]], dtype=torch.float64)
    w_small = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0]], dtype=torch.float64)
    g = torch.Generator().manual_seed(2)
    x = torch.tanh(torch.randn(5, 84, generator=g, dtype=torch.float64))
    w = torch.randint(0, 2, (10, 84), generator=g).double() * 2 - 1
    cases = [
        Case(
            "one input of 3 features, 2 classes:",
            lambda: fn(x_small.clone(), w_small.clone()),
            _reference_rbf(x_small, w_small),
        ),
        Case(
            "5 inputs of 84 features, 10 classes with +-1 weights:",
            lambda: fn(x.clone(), w.clone()),
            _reference_rbf(x, w),
        ),
        Case(
            "an input equal to a class's bitmap gives 0 for that class:",
            lambda: fn(w[3:4].clone(), w.clone())[0, 3].item(),
            0.0,
        ),
    ]
    return report(
        "5.3",
        cases,
        hint="x has shape (N, 84) and w (10, 84); the result is (N, 10): for each input n and class i, "
        "the sum over j of (x[n, j] - w[i, j]) squared (broadcast x[:, None, :] against w[None, :, :])",
    )
