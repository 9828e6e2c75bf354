"""Checkers for chapter 1 (``01_output_size_formula.ipynb``): the output-size formula.

The chapter asks for ``conv_output_size(W, F, P=0, S=1)`` that returns the
output width as an ``int`` when the kernel tiles the padded input exactly, and
raises ``ValueError`` when it does not (the result is not a whole number, or
the kernel is wider than the padded input), as :mod:`lenet_course.shapes` does.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

from ._core import Case, Raises, Verdict, report

__all__ = ["conv_output_size", "formula_target", "lenet_widths"]

# (W, F, P, S) and the expected width, or None where the configuration does not tile
formula_cases: list[tuple[tuple[int, int, int, int], int | None]] = [
    ((32, 5, 0, 1), 28),  # C1
    ((28, 2, 0, 2), 14),  # S2
    ((14, 5, 0, 1), 10),  # C3
    ((10, 2, 0, 2), 5),  # S4
    ((5, 5, 0, 1), 1),  # C5
    ((28, 5, 2, 1), 28),  # "same" padding keeps the size
    ((7, 3, 1, 2), 4),
    ((227, 11, 0, 4), 55),  # AlexNet's first layer
    ((224, 11, 2, 4), None),  # ... and the famous 224 that does not tile
    ((32, 5, 0, 2), None),
    ((7, 2, 0, 2), None),
    ((3, 5, 0, 1), None),  # kernel wider than the input
]


def _whole(got: Any, expected: int) -> Verdict:
    return isinstance(got, numbers.Integral) and not isinstance(got, bool) and int(got) == expected


def _call_text(W: int, F: int, P: int, S: int) -> str:
    return f"conv_output_size(W={W}, F={F}, P={P}, S={S})"


def conv_output_size(fn: Callable[..., int]) -> Verdict:
    """Exercise 1.1: ``fn(W, F, P, S)`` returns the output width, or raises ValueError when it does not tile.

    Introduced in chapter 1. The answer must be an ``int``: ``28.0`` counts as wrong.
    """
    cases = []
    for (W, F, P, S), expected in formula_cases:
        answer = lambda W=W, F=F, P=P, S=S: fn(W, F, P, S)  # noqa: E731
        if expected is None:
            cases.append(Case(_call_text(W, F, P, S), answer, Raises(ValueError)))
        else:
            cases.append(Case(_call_text(W, F, P, S), answer, expected, equal=_whole))
    return report(
        "1.1",
        cases,
        "work the failing case out by hand with (W - F + 2P) / S + 1. Return a whole number (an int, not a float), "
        "and raise ValueError when the result is not a whole number or is below 1.",
    )


def _get(config: Mapping[str, Any], key: str) -> Any:
    for name in (key, {"W": "size", "F": "kernel", "P": "padding", "S": "stride"}[key]):
        if name in config:
            return config[name]
    raise KeyError(f"the answer has no {key!r}; give a dict like dict(W=..., F=..., P=..., S=...)")


def formula_target(
    config: Mapping[str, int],
    size: int = 32,
    target: int = 16,
    exercise: str = "1.2",
    non_overlapping: bool = False,
) -> Verdict:
    """A widget exercise: ``config`` (keys W, F, P, S) takes ``size`` to exactly ``target``.

    Introduced in chapter 1 (Exercise 1.2, 32 to 16) and used again in chapter 3
    (Exercise 3.3, 28 to 14 with non-overlapping windows). Any configuration that
    does it is accepted, so the verdict does not depend on which one was chosen.
    """
    from ..shapes import conv_output_size as exact

    def width() -> int:
        return exact(int(_get(config, "W")), int(_get(config, "F")), int(_get(config, "P")), int(_get(config, "S")))

    cases = [
        Case("the input width W", lambda: _get(config, "W"), size),
        Case(f"the output width for a {size}-wide input", width, target),
    ]
    hint = f"start from W = {size} and try a stride of 2: which kernel and padding then give exactly {target}?"
    if non_overlapping:
        cases.append(
            Case("windows that do not overlap (S equal to F):", lambda: _get(config, "S") == _get(config, "F"), True)
        )
        cases.append(Case("no padding (P = 0):", lambda: _get(config, "P") == 0, True))
        hint = "subsampling windows sit side by side without overlapping or padding: the stride equals the kernel size."
    return report(exercise, cases, hint)


def lenet_widths(widths: list[int]) -> Verdict:
    """Exercise 1.3: the widths of LeNet-5's input, C1, S2, C3, S4 and C5, in that order.

    Introduced in chapter 1.
    """
    expected = [32, 28, 14, 10, 5, 1]
    names = ["input", "C1", "S2", "C3", "S4", "C5"]
    cases = [Case("the number of widths", lambda: len(widths), len(expected))]
    for i, (name, value) in enumerate(zip(names, expected)):
        cases.append(
            Case(f"the width after {name}" if i else "the input width", lambda i=i: widths[i], value, equal=_whole)
        )
    return report(
        "1.3",
        cases,
        "the convolutions use 5x5 kernels, stride 1, no padding; the subsamplings 2x2 windows with stride 2. "
        "Feed each width into the next layer's formula.",
    )
