"""Checkers for chapter 11 (``11_lenet5_1998.ipynb``): the C3 table, RBF penalties, the MAP loss."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..paper.bitmaps import rbf_prototypes
from ..paper.losses import map_criterion
from ..paper.network import C3_TABLE
from .compare import int_sequence, tensor
from .exercise import Case, Exercise, Verdict, declare

__all__ = ["c3_row", "rbf_penalties", "map_loss"]


C3_ROW = declare(
    Exercise(
        id="11.1",
        name="c3_row",
        cases=lambda: [Case(f"c3_row({i}):", i) for i in range(16)],
        run=lambda fn, i: fn(i),
        reference=lambda i: list(C3_TABLE[i]),
        compare=lambda got, expected: int_sequence(got, expected, what="tuple"),
        hint="write the rows out by hand for a few maps of each group first (0-5, 6-11, 12-14, 15) and look at how "
        "the start and the gaps move from one map to the next; past map 5 the count starts again at 0, "
        "and the maps come in increasing order",
        namesakes=("lenet_course.paper.network.C3_TABLE", "lenet_course.paper.C3_TABLE"),
    )
)


def c3_row(fn: Callable[[int], tuple[int, ...]]) -> Verdict:
    """Exercise 11.1: ``fn(i)``, the S2 maps (0..5) that feed C3 map ``i`` (0..15), as ints in increasing order.

    Introduced in chapter 11.
    """
    return C3_ROW.check(fn)


def _f6_outputs(seed: int, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(n, 84, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def _rbf_cases() -> list[Case]:
    w = rbf_prototypes().double()
    return [
        Case("F6 output equal to the bitmap of 7 (y_7 must be 0):", {"x": w[7:8].clone(), "w": w}),
        Case("F6 output all zeros (every y_i is 84):", {"x": torch.zeros(1, 84, dtype=torch.float64), "w": w}),
        Case("one random F6 output:", {"x": _f6_outputs(1, 1), "w": w}),
        Case("a batch of 5 F6 outputs, shape (5, 10):", {"x": _f6_outputs(2, 5), "w": w}),
        Case(
            "a batch of 3 float32 F6 outputs (the dtype is kept):",
            {"x": _f6_outputs(3, 3, torch.float32), "w": w.float()},
        ),
    ]


RBF_PENALTIES = declare(
    Exercise(
        id="11.2",
        name="rbf_penalties",
        cases=_rbf_cases,
        run=lambda fn, x: fn(x["x"], x["w"]),
        reference=lambda x: ((x["x"][:, None, :] - x["w"][None, :, :]) ** 2).sum(dim=2),
        compare=lambda got, expected: tensor(got, expected, rtol=1e-5, atol=1e-6),
        hint="one penalty per (output n, digit i): the squared distance between two vectors of 84 values. Give x and "
        "w each a new axis of size 1 so that broadcasting pairs every row of one with every row of the other",
        namesakes=("lenet_course.paper.network.RBFOutput",),
    )
)


def rbf_penalties(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 11.2: ``fn(x, w)``, y[n, i] = sum_j (x[n, j] - w[i, j])^2, F6 outputs (N, 84), bitmaps (10, 84).

    Introduced in chapter 11.
    """
    return RBF_PENALTIES.check(fn)


def _map_cases() -> list[Case]:
    g = torch.Generator().manual_seed(3)
    y = torch.rand(6, 10, generator=g, dtype=torch.float64) * 20
    targets = torch.randint(0, 10, (6,), generator=g)
    big = torch.full((1, 10), 900.0, dtype=torch.float64)
    big[0, 4] = 700.0
    far = 760 + torch.rand(4, 10, generator=g, dtype=torch.float64) * 140
    far32 = (120 + torch.rand(3, 10, generator=g, dtype=torch.float64) * 80).float()
    one = torch.tensor([[0.0] + [84.0] * 9], dtype=torch.float64)
    return [
        Case("one sample, y = [0, 84, ..., 84], target 0, j = 1:", {"y": one, "targets": torch.tensor([0]), "j": 1.0}),
        Case("a batch of 6, j = 0.1:", {"y": y, "targets": targets, "j": 0.1}),
        Case("a batch of 6, j = 1:", {"y": y, "targets": targets, "j": 1.0}),
        Case("large penalties (700 to 900), target 4, j = 1:", {"y": big, "targets": torch.tensor([4]), "j": 1.0}),
        Case(
            "every penalty above 760 and j = 800 (each exp(-y) is 0 in float64):",
            {"y": far, "targets": torch.tensor([1, 5, 0, 9]), "j": 800.0},
        ),
        Case(
            "float32 penalties from 120 to 200 and j = 150 (each exp(-y) is 0 in float32):",
            {"y": far32, "targets": torch.tensor([2, 2, 7]), "j": 150.0},
        ),
    ]


MAP_LOSS = declare(
    Exercise(
        id="11.3",
        name="map_loss",
        cases=_map_cases,
        run=lambda fn, x: fn(x["y"], x["targets"], x["j"]),
        reference=lambda x: map_criterion(-x["y"], x["targets"], x["j"]).to(x["y"].dtype),
        compare=lambda got, expected: tensor(got, expected, rtol=1e-5, atol=1e-6),
        hint="the log term has eleven exponentials inside it, ten from the penalties and one from j, and each "
        "may be 0 in floating point on its own; let the log of a sum of exponentials be computed as one "
        "operation, which shifts by the largest term first. The loss stays a 0-dim tensor, in y's dtype",
        namesakes=("lenet_course.paper.losses.map_criterion", "lenet_course.paper.map_criterion"),
    )
)


def map_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Verdict:
    """Exercise 11.3: ``fn(y, targets, j)``, eq. 9 averaged over the batch, a 0-dim tensor in ``y``'s dtype.

    Introduced in chapter 11.
    """
    return MAP_LOSS.check(fn)
