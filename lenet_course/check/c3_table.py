"""Checkers for chapter 4 (``04_c3_s4.ipynb``): C3's connection table.

The paper's table is written out here from the 1998 paper (Table I), so
that a learner's mask is compared with the published one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .compare import Mismatch, count, show
from .exercise import Case, Exercise, Verdict, declare

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


def _reference_parameters(x: dict[str, Any]) -> int:
    inputs_per_map = x["mask"].bool().sum(dim=0)
    return int((inputs_per_map * x["kernel_size"] ** 2 + 1).sum())


def _conv_parameters_cases() -> list[Case]:
    one_c3_map = torch.zeros(6, 1, dtype=torch.bool)
    one_c3_map[[0, 1, 2], 0] = True
    gap = torch.ones(6, 3, dtype=torch.bool)
    gap[:, 1] = False
    masks = [
        ("full C3 (6x16 mask, all True)", torch.ones(6, 16, dtype=torch.bool), 5),
        ("C3 with the paper's table", _paper_mask(), 5),
        ("C1 (1x6 mask, all True)", torch.ones(1, 6, dtype=torch.bool), 5),
        ("C5 (16x120 mask, all True)", torch.ones(16, 120, dtype=torch.bool), 5),
        ("one C3 map reading S2 maps 0, 1, 2", one_c3_map, 5),
        ("a 2x2 identity mask with 3x3 kernels", torch.eye(2, dtype=torch.bool), 3),
        ("a 6x3 mask whose middle map reads no input", gap, 5),
    ]
    return [Case(f"{label}:", {"mask": mask, "kernel_size": k}) for label, mask, k in masks]


CONV_PARAMETERS = declare(
    Exercise(
        id="4.1",
        name="conv_parameters",
        cases=_conv_parameters_cases,
        run=lambda fn, x: fn(x["mask"], kernel_size=x["kernel_size"]),
        reference=_reference_parameters,
        compare=count,
        hint="each output map (a column of the mask) has one kernel_size x kernel_size kernel per input it reads, "
        "and one bias of its own, whether or not it reads anything; add this up over the columns, "
        "and return a Python int",
        namesakes=("lenet_course.widgets.connection_table.c3_counts",),
    )
)


def conv_parameters(fn: Callable[..., int]) -> Verdict:
    """Exercise 4.1: ``fn(mask, kernel_size=5)``, the parameters of a convolution connected by ``mask`` (an int).

    Introduced in chapter 4.
    """
    return CONV_PARAMETERS.check(fn)


def _shape_of(variable: str) -> Callable[[Any, Any], Mismatch | None]:
    def compare(got: Any, expected: tuple[int, int]) -> Mismatch | None:
        if not isinstance(got, torch.Tensor):
            return Mismatch(f"is not defined: {variable} is {show(got)}, not a tensor")
        return None if tuple(got.shape) == expected else Mismatch(f"is {tuple(got.shape)}, expected {expected}")

    return compare


def _mask_dtype(got: Any, expected: torch.dtype) -> Mismatch | None:
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"is not defined: c3_mask is {show(got)}, not a tensor")
    return None if got.dtype == expected else Mismatch(f"is {got.dtype}, expected {expected}")


def _column(mask: torch.Tensor, j: int) -> list[int]:
    return sorted(torch.nonzero(mask[:, j]).flatten().tolist())


def _mask_column(j: int) -> Callable[[Any, Any], Mismatch | None]:
    def compare(got: Any, expected: list[int]) -> Mismatch | None:
        if not isinstance(got, torch.Tensor) or got.dim() != 2 or got.shape[0] != 6 or got.shape[1] <= j:
            return Mismatch(f"cannot be read: c3_mask is {show(got)}, not a 6x16 table")
        found = _column(got.bool(), j)
        return None if found == expected else Mismatch(f"{found}, expected {expected}")

    return compare


C3_MASK = declare(
    Exercise(
        id="4.2",
        name="c3_mask",
        cases=lambda: (
            [
                Case.fixed("c3_mask.shape", None, (6, 16), _shape_of("c3_mask")),
                Case.fixed("c3_mask.dtype", None, torch.bool, _mask_dtype),
            ]
            + [
                Case.fixed(f"C3 map {j} (column {j}) reads S2 maps", None, _column(_paper_mask(), j), _mask_column(j))
                for j in range(16)
            ]
        ),
        run=lambda mask, _inputs: mask,
        reference=lambda _inputs: None,
        compare=_shape_of("c3_mask"),
        hint="c3_mask[i, j] is True when S2 map i feeds C3 map j: 6 rows (S2 maps), 16 columns (C3 maps), "
        "in PyTorch's boolean dtype; compare each column with the table above",
    )
)


def c3_mask(mask: torch.Tensor) -> Verdict:
    """Exercise 4.2: the paper's connection table as a boolean 6x16 mask.

    Introduced in chapter 4.
    """
    return C3_MASK.check(mask)


def _columns(got: Any) -> list[tuple[int, ...]] | Mismatch:
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (6, 16):
        return Mismatch(f"cannot be counted: my_table is {show(got)}, not a 6x16 table")
    table = got.bool()
    return [tuple(_column(table, j)) for j in range(16)]


def _reading_three(got: Any, expected: int) -> Mismatch | None:
    columns = _columns(got)
    if isinstance(columns, Mismatch):
        return columns
    return count(sum(len(c) == 3 for c in columns), expected, verb="is")


def _different_sets(got: Any, expected: int) -> Mismatch | None:
    columns = _columns(got)
    if isinstance(columns, Mismatch):
        return columns
    return count(len(set(columns)), expected, verb="is")


DISTINCT_TRIPLES = declare(
    Exercise(
        id="4.3",
        name="my_table",
        cases=lambda: [
            Case.fixed("my_table.shape", None, (6, 16), _shape_of("my_table")),
            Case.fixed("the number of C3 maps reading exactly 3 S2 maps", None, 16, _reading_three),
            Case.fixed("the number of different input sets among the 16 maps", None, 16, _different_sets),
        ],
        run=lambda table, _inputs: table,
        reference=lambda _inputs: None,
        compare=_reading_three,
        hint="there are 20 ways to choose 3 of the 6 S2 maps; give each of the 16 C3 maps (columns) a different one",
    )
)


def distinct_triples(table: torch.Tensor) -> Verdict:
    """Exercise 4.3: a 6x16 table in which every C3 map reads 3 S2 maps, each map a different three.

    Introduced in chapter 4; the connection-table widget's Check button calls it.
    """
    return DISTINCT_TRIPLES.check(table)
