"""Checkers for chapter 4 (``04_c3_s4.ipynb``): C3's connection table.

The paper's table is written out here from the 1998 paper (Table I), so
that a learner's mask is compared with the published one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import Case, Verdict, report

__all__ = ["conv_parameters", "c3_mask", "distinct_triples"]

# Which S2 maps feed each of the 16 C3 maps (LeCun et al. 1998, Table I).
_PAPER_C3_INPUTS: tuple[frozenset[int], ...] = tuple(
    frozenset(s)
    for s in (
        {0, 1, 2},
        {1, 2, 3},
        {2, 3, 4},
        {3, 4, 5},
        {0, 4, 5},
        {0, 1, 5},
        {0, 1, 2, 3},
        {1, 2, 3, 4},
        {2, 3, 4, 5},
        {0, 3, 4, 5},
        {0, 1, 4, 5},
        {0, 1, 2, 5},
        {0, 1, 3, 4},
        {1, 2, 4, 5},
        {0, 2, 3, 5},
        {0, 1, 2, 3, 4, 5},
    )
)


def _paper_mask() -> torch.Tensor:
    mask = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(_PAPER_C3_INPUTS):
        mask[sorted(inputs), j] = True
    return mask


def _reference_parameters(mask: torch.Tensor, kernel_size: int) -> int:
    inputs_per_map = mask.bool().sum(dim=0)
    return int((inputs_per_map * kernel_size * kernel_size + 1).sum())


def conv_parameters(fn: Callable[..., int]) -> Verdict:
    """Exercise 4.1: ``fn(mask, kernel_size=5)``, the parameters of a convolution connected by ``mask``."""
    one_c3_map = torch.zeros(6, 1, dtype=torch.bool)
    one_c3_map[[0, 1, 2], 0] = True
    cases = [
        ("full C3 (6x16 mask, all True)", (torch.ones(6, 16, dtype=torch.bool), 5)),
        ("C3 with the paper's table", (_paper_mask(), 5)),
        ("C1 (1x6 mask, all True)", (torch.ones(1, 6, dtype=torch.bool), 5)),
        ("C5 (16x120 mask, all True)", (torch.ones(16, 120, dtype=torch.bool), 5)),
        ("one C3 map reading S2 maps 0, 1, 2", (one_c3_map, 5)),
        ("a 2x2 identity mask with 3x3 kernels", (torch.eye(2, dtype=torch.bool), 3)),
    ]
    return report(
        "4.1",
        [
            Case(f"{label}:", (lambda m=m, k=k: fn(m.clone(), kernel_size=k)), _reference_parameters(m, k))
            for label, (m, k) in cases
        ],
        hint="each output map (a column of the mask) has (its number of inputs) x kernel_size x kernel_size "
        "weights plus one bias; add this up over the columns",
    )


def _column(mask, j: int) -> list[int]:
    return sorted(torch.nonzero(torch.as_tensor(mask)[:, j]).flatten().tolist())


def c3_mask(mask: torch.Tensor) -> Verdict:
    """Exercise 4.2: the paper's connection table as a boolean 6x16 mask."""
    expected = _paper_mask()
    cases = [
        Case("shape:", lambda: tuple(mask.shape), (6, 16)),
        Case("dtype:", lambda: mask.dtype, torch.bool),
    ]
    cases += [
        Case(f"C3 map {j} reads S2 maps", (lambda j=j: _column(mask, j)), _column(expected, j)) for j in range(16)
    ]
    return report(
        "4.2",
        cases,
        hint="mask[i, j] is True when S2 map i feeds C3 map j: 6 rows (S2 maps), 16 columns (C3 maps), "
        "dtype torch.bool; compare each column with the table above",
    )


def distinct_triples(table: torch.Tensor) -> Verdict:
    """Exercise 4.3: a 6x16 table in which every C3 map reads 3 S2 maps, each map a different three."""

    def columns():
        t = torch.as_tensor(table).bool()
        return [tuple(_column(t, j)) for j in range(t.shape[1])]

    cases = [
        Case("shape:", lambda: tuple(table.shape), (6, 16)),
        Case("number of C3 maps reading exactly 3 S2 maps:", lambda: sum(len(c) == 3 for c in columns()), 16),
        Case("number of different input sets among the 16 maps:", lambda: len(set(columns())), 16),
    ]
    return report(
        "4.3",
        cases,
        hint="there are 20 ways to choose 3 of the 6 S2 maps; give each of the 16 C3 maps (columns) a different one",
    )
