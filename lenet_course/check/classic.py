"""Checkers for chapter 11 (``11_lenet5_1998.ipynb``): the C3 table, RBF penalties, the MAP loss."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..paper.bitmaps import rbf_prototypes
from ..paper.losses import map_criterion
from ..paper.network import C3_TABLE
from ._core import Case, Verdict, report

__all__ = ["c3_row", "rbf_penalties", "map_loss"]


def _as_sorted_tuple(row) -> tuple[int, ...]:
    return tuple(sorted(int(i) for i in row))


def c3_row(fn: Callable[[int], tuple[int, ...]]) -> Verdict:
    """Exercise 11.1: ``fn(i)``, the S2 maps (0..5) that feed C3 map ``i`` (0..15), in the paper's table."""
    cases = [Case(f"c3_row({i}):", (lambda i=i: _as_sorted_tuple(fn(i))), C3_TABLE[i]) for i in range(16)]
    cases.append(
        Case(
            "parameters of the whole table, sum of 25 * len(c3_row(i)) + 1:",
            lambda: sum(25 * len(fn(i)) + 1 for i in range(16)),
            1516,
        )
    )
    return report(
        "11.1",
        cases,
        hint="maps 0-5 read 3 neighbouring S2 maps starting at map i, wrapping around after 5 (use % 6); "
        "maps 6-11 read 4 neighbours starting at i - 6; maps 12-14 read two pairs of neighbours "
        "with a gap of one between them; map 15 reads all six",
    )


def _f6_outputs(seed: int, n: int) -> torch.Tensor:
    return torch.randn(n, 84, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def rbf_penalties(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """Exercise 11.2: ``fn(x, w)``, y[n, i] = sum_j (x[n, j] - w[i, j])^2, F6 outputs (N, 84), bitmaps (10, 84)."""
    w = rbf_prototypes().double()

    def expected(x: torch.Tensor) -> torch.Tensor:
        return ((x.unsqueeze(1) - w.unsqueeze(0)) ** 2).sum(dim=2)

    one = _f6_outputs(1, 1)
    batch = _f6_outputs(2, 5)
    seven = w[7:8].clone()
    cases = [
        Case("F6 output equal to the bitmap of 7: y_7 (expected 0):", lambda: float(fn(seven, w)[0, 7]), 0.0),
        Case(
            "F6 output equal to the bitmap of 7: y_1 (4 x the pixels where 7 and 1 differ):",
            lambda: float(fn(seven, w)[0, 1]),
            float(expected(seven)[0, 1]),
        ),
        Case(
            "F6 output all zeros: every y_i (expected 84):",
            lambda: fn(torch.zeros(1, 84, dtype=torch.float64), w),
            torch.full((1, 10), 84.0, dtype=torch.float64),
        ),
        Case("one random F6 output:", lambda: fn(one.clone(), w), expected(one)),
        Case("a batch of 5 F6 outputs, shape (5, 10):", lambda: fn(batch.clone(), w), expected(batch)),
    ]
    return report(
        "11.2",
        cases,
        hint="subtract every bitmap from every F6 output (x.unsqueeze(1) - w has shape (N, 10, 84)), "
        "square, then sum over the last dimension; the result is (N, 10)",
    )


def map_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Verdict:
    """Exercise 11.3: ``fn(y, targets, j)``, eq. 9 averaged over the batch, from the RBF penalties ``y`` (N, 10)."""
    g = torch.Generator().manual_seed(3)
    y = torch.rand(6, 10, generator=g, dtype=torch.float64) * 20
    targets = torch.randint(0, 10, (6,), generator=g)
    big = torch.full((1, 10), 900.0, dtype=torch.float64)
    big[0, 4] = 700.0

    def value(out) -> float:
        return float(out)

    cases = [
        Case(
            "one sample, y = [0, 84, ..., 84], target 0, j = 1:",
            lambda: value(fn(torch.tensor([[0.0] + [84.0] * 9], dtype=torch.float64), torch.tensor([0]), 1.0)),
            value(map_criterion(-torch.tensor([[0.0] + [84.0] * 9], dtype=torch.float64), torch.tensor([0]), 1.0)),
        ),
        Case(
            "a batch of 6, j = 0.1:", lambda: value(fn(y.clone(), targets, 0.1)), value(map_criterion(-y, targets, 0.1))
        ),
        Case(
            "a batch of 6, j = 1:", lambda: value(fn(y.clone(), targets, 1.0)), value(map_criterion(-y, targets, 1.0))
        ),
        Case(
            "large penalties (700 to 900), target 4, j = 1 (expected 699):",
            lambda: value(fn(big.clone(), torch.tensor([4]), 1.0)),
            699.0,
        ),
    ]
    return report(
        "11.3",
        cases,
        hint="for each sample, y[target] + log(exp(-j) + sum_i exp(-y_i)), then the mean; torch.logsumexp "
        "over the ten values -y_i and the extra value -j computes the log term without overflow",
    )
