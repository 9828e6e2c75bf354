"""Checkers for chapter 5 (``05_c5_f6_output.ipynb``): C5's size, softmax, the RBF output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..shapes import conv_output_size, pool_output_size
from .compare import count, tensor
from .exercise import Case, Exercise, Raises, Verdict, declare

__all__ = ["c5_output_size", "softmax", "rbf_output"]


def _reference_c5(size: int) -> int | Raises:
    try:
        for step in ("conv", "pool", "conv", "pool", "conv"):
            size = conv_output_size(size, 5) if step == "conv" else pool_output_size(size, 2)
    except ValueError:
        return Raises("ValueError")
    return size


C5_OUTPUT_SIZE = declare(
    Exercise(
        id="5.1",
        name="c5_output_size",
        # 34, 38 and 30 pass C1 but leave an odd width for a 2x2 subsampling; 28 and 16 are too small for C5
        cases=lambda: [Case(f"c5_output_size({s}):", s) for s in (32, 36, 40, 44, 64, 100, 28, 34, 38, 30, 16)],
        run=lambda fn, size: fn(size),
        reference=_reference_c5,
        compare=count,
        hint="follow one input size through the five layers, one layer at a time, with the chapter's two size "
        "functions; a layer that does not fit its input exactly must stop the computation with ValueError, "
        "as those functions do",
    )
)


def c5_output_size(fn: Callable[[int], int]) -> Verdict:
    """Exercise 5.1: ``fn(size)``, the side of C5's output for a ``size`` x ``size`` input (an int, or ValueError).

    Introduced in chapter 5.
    """
    return C5_OUTPUT_SIZE.check(fn)


def _logits(shape: tuple[int, int], seed: int, scale: float = 3.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return (torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale).to(dtype)


def _softmax_cases() -> list[Case]:
    rows = torch.float64
    return [
        Case("softmax of a (4, 10) batch of logits:", _logits((4, 10), 0)),
        Case("softmax of [[0, 0, 0, 0]]:", torch.zeros(1, 4, dtype=rows)),
        Case("softmax of [[5]] (one class):", torch.tensor([[5.0]], dtype=rows)),
        Case("softmax of [[1000, 1001, 1002]] (large logits):", torch.tensor([[1000.0, 1001.0, 1002.0]], dtype=rows)),
        Case("softmax of [[-1000, 0]] (a very negative logit):", torch.tensor([[-1000.0, 0.0]], dtype=rows)),
        Case(
            "softmax of [[1000, 1001], [0, 1]] (rows far apart):",
            torch.tensor([[1000.0, 1001.0], [0.0, 1.0]], dtype=rows),
        ),
        Case("softmax of [[-2000, 0]] (one logit far below the other):", torch.tensor([[-2000.0, 0.0]], dtype=rows)),
        Case("softmax of a (3, 84) batch:", _logits((3, 84), 1)),
        Case("softmax of a (2, 10) float32 batch (the dtype is kept):", _logits((2, 10), 2, dtype=torch.float32)),
    ]


SOFTMAX = declare(
    Exercise(
        id="5.2",
        name="softmax",
        cases=_softmax_cases,
        run=lambda fn, z: fn(z),
        reference=lambda z: torch.softmax(z, dim=1),
        compare=lambda got, expected: tensor(got, expected),
        hint="each row is a softmax of its own: exponentiate and normalise row by row. exp overflows past about "
        "709 and gives 0 far below 0, and softmax does not change when a row is shifted by a constant: "
        "which shift keeps every exponential of that row in range?",
        namesakes=("torch.softmax", "torch.nn.functional.softmax"),
    )
)


def softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 5.2: ``fn(z)``, the softmax of each row of a batch of logits ``z`` (N, C), in ``z``'s dtype.

    Introduced in chapter 5.
    """
    return SOFTMAX.check(fn)


def _reference_rbf(x: dict[str, Any]) -> torch.Tensor:
    return ((x["x"][:, None, :] - x["w"][None, :, :]) ** 2).sum(dim=2)


def _rbf_cases() -> list[Case]:
    x_small = torch.tensor([[1.0, -1.0, 0.5]], dtype=torch.float64)
    w_small = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0]], dtype=torch.float64)
    g = torch.Generator().manual_seed(2)
    x = torch.tanh(torch.randn(5, 84, generator=g, dtype=torch.float64))
    w = torch.randint(0, 2, (10, 84), generator=g).double() * 2 - 1
    w_real = torch.randn(10, 84, generator=g, dtype=torch.float64)
    return [
        Case("one input of 3 features, 2 classes:", {"x": x_small, "w": w_small}),
        Case("5 inputs of 84 features, 10 classes with +-1 weights:", {"x": x, "w": w}),
        Case("an input equal to class 3's bitmap (0 for class 3):", {"x": w[3:4].clone(), "w": w}),
        Case("2 inputs, 10 classes with weights that are not +-1:", {"x": x[:2].clone(), "w": w_real}),
    ]


RBF_OUTPUT = declare(
    Exercise(
        id="5.3",
        name="rbf_output",
        cases=_rbf_cases,
        run=lambda fn, x: fn(x["x"], x["w"]),
        reference=_reference_rbf,
        compare=lambda got, expected: tensor(got, expected, rtol=1e-6, atol=1e-8),
        hint="x has shape (N, 84) and w (10, 84), the result (N, 10): for each pair (input n, class i) one number, "
        "a squared distance. Broadcasting can pair every input with every class at once once they have "
        "a dimension of size 1 in the right places",
    )
)


def rbf_output(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 5.3: ``fn(x, w)``, the RBF outputs y[n, i] = sum_j (x[n, j] - w[i, j])^2, shape (N, 10).

    Introduced in chapter 5.
    """
    return RBF_OUTPUT.check(fn)
