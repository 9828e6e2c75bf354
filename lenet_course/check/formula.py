"""Checkers for chapter 1 (``01_output_size_formula.ipynb``): the output-size formula.

The chapter asks for ``conv_output_size(W, F, P=0, S=1)`` that returns the
output width as an ``int`` when the kernel tiles the padded input exactly, and
raises ``ValueError`` when it does not (the result is not a whole number, or
the kernel is wider than the padded input), as :mod:`lenet_course.shapes` does.
The slider exercise (1.2, and 3.3 in chapter 3) is checked here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import shapes
from .compare import Mismatch, count, not_an_int, show
from .exercise import AnswerError, Case, Exercise, Raises, Verdict, declare

__all__ = ["conv_output_size", "formula_target", "lenet_widths"]

# (W, F, P, S) and the expected width, or None where the configuration does not tile or does not fit
formula_cases: list[tuple[tuple[int, int, int, int], int | None]] = [
    ((32, 5, 0, 1), 28),  # C1
    ((28, 2, 0, 2), 14),  # S2
    ((14, 5, 0, 1), 10),  # C3
    ((10, 2, 0, 2), 5),  # S4
    ((5, 5, 0, 1), 1),  # C5
    ((28, 5, 2, 1), 28),  # "same" padding keeps the size
    ((3, 5, 1, 1), 1),  # a kernel wider than the input, but not than the padded input
    ((7, 3, 1, 2), 4),
    ((227, 11, 0, 4), 55),  # AlexNet's first layer
    ((224, 11, 2, 4), None),  # ... and the famous 224 that does not tile
    ((32, 5, 0, 2), None),
    ((7, 2, 0, 2), None),
    ((3, 5, 0, 1), None),  # kernel wider than the input
    ((4, 5, 0, 1), None),  # one pixel too narrow: the formula gives 0
]


def _call_text(W: int, F: int, P: int, S: int) -> str:
    return f"conv_output_size(W={W}, F={F}, P={P}, S={S})"


def _reference_width(inputs: Mapping[str, int]) -> int | Raises:
    try:
        return shapes.conv_output_size(inputs["W"], inputs["F"], inputs["P"], inputs["S"])
    except ValueError:
        return Raises("ValueError")


CONV_OUTPUT_SIZE = declare(
    Exercise(
        id="1.1",
        name="conv_output_size",
        cases=lambda: [Case(_call_text(*wfps), dict(zip("WFPS", wfps))) for wfps, _ in formula_cases],
        run=lambda fn, x: fn(x["W"], x["F"], x["P"], x["S"]),
        reference=_reference_width,
        compare=count,
        hint="work the failing case out by hand with the formula, as in the table above. A width counts kernel "
        "positions, so it is an int; when the formula does not give a whole number of at least 1, "
        "there is no width to return, and the function says so with ValueError.",
        namesakes=("lenet_course.shapes.conv_output_size", "lenet_course.conv_output_size"),
    )
)


def conv_output_size(fn: Callable[..., int]) -> Verdict:
    """Exercise 1.1: ``fn(W, F, P, S)`` returns the output width, or raises ValueError when it does not tile.

    Introduced in chapter 1. The answer must be an ``int``: ``28.0`` counts as wrong.
    """
    return CONV_OUTPUT_SIZE.check(fn)


# --- Exercise 1.2 (and 3.3): a configuration of the sliders ---------------------------------------------

_KEYS = {"W": "size", "F": "kernel", "P": "padding", "S": "stride"}


def _get(config: Any, key: str, variable: str) -> Any:
    if not isinstance(config, Mapping):
        raise AnswerError(
            f"is not defined: {variable} is {show(config)}, where a dict(W=..., F=..., P=..., S=...) is expected"
        )
    for name in (key, _KEYS[key]):
        if name in config:
            return config[name]
    raise AnswerError(f"is not defined: {variable} has no {key!r}; give a dict like dict(W=..., F=..., P=..., S=...)")


def _config(config: Any, variable: str) -> dict[str, Any]:
    return {key: _get(config, key, variable) for key in _KEYS}


def _width_of(got: Any, target: int) -> Mismatch | None:
    for key in _KEYS:
        wrong = not_an_int(got[key], f"has {key} =")
        if wrong is not None:
            return wrong
    try:
        width = shapes.conv_output_size(got["W"], got["F"], got["P"], got["S"])
    except ValueError as exc:
        return Mismatch(f"does not exist: {exc}")
    return None if width == target else Mismatch(f"is {width}, expected {target}")


def _side_by_side(got: Any, _expected: Any) -> Mismatch | None:
    stride, kernel = got["S"], got["F"]
    wrong = not_an_int(stride, "has S =") or not_an_int(kernel, "has F =")
    if wrong is not None:
        return wrong
    if stride < kernel:
        return Mismatch(f"is not true: with F={kernel} and S={stride} neighbouring windows overlap")
    if stride > kernel:
        return Mismatch(f"is not true: with F={kernel} and S={stride} pixels between the windows are skipped")
    return None


def _formula_exercise(number: str, variable: str, size: int, target: int, non_overlapping: bool) -> Exercise:
    def cases() -> list[Case]:
        out = [
            Case.fixed(f"{variable}'s W, the input width,", "W", size, lambda g, e: count(g, e, verb="is")),
            Case.fixed(f"the output width with {variable}", "all", target, _width_of),
        ]
        if non_overlapping:
            out += [
                Case.fixed(f"{variable}'s windows sit side by side (no overlap, no gap):", "all", None, _side_by_side),
                Case.fixed(f"{variable}'s padding P", "P", 0, lambda g, e: count(g, e, verb="is")),
            ]
        return out

    def run(config: Any, which: str) -> Any:
        return _config(config, variable) if which == "all" else _get(config, which, variable)

    hint = (
        f"start from W = {size}: which stride shrinks the width about the right amount, and which kernel and "
        f"padding then give exactly {target}?"
    )
    if non_overlapping:
        hint = (
            f"picture S2's windows along one row of {size} pixels: where does each window start, where does the "
            "next one start, and how many pixels does each window cover?"
        )
    return Exercise(
        id=number,
        name=variable,
        cases=cases,
        run=run,
        reference=lambda _inputs: None,
        compare=lambda g, e: None,
        hint=hint,
    )


FORMULA_1_2 = declare(_formula_exercise("1.2", "answer_1_2", 32, 16, non_overlapping=False))
FORMULA_3_3 = declare(_formula_exercise("3.3", "answer_3_3", 28, 14, non_overlapping=True))
_DECLARED = {"1.2": (FORMULA_1_2, 32, 16, False), "3.3": (FORMULA_3_3, 28, 14, True)}


def formula_target(
    config: Mapping[str, int],
    size: int | None = None,
    target: int | None = None,
    exercise: str = "1.2",
    non_overlapping: bool | None = None,
) -> Verdict:
    """A widget exercise: ``config`` (keys W, F, P, S) takes ``size`` to exactly ``target``.

    Introduced in chapter 1 (Exercise 1.2, 32 to 16) and used again in chapter 3
    (Exercise 3.3, 28 to 14 with windows side by side). Any configuration that
    does it is accepted. ``size``, ``target`` and ``non_overlapping`` default to
    the exercise's; other values make a practice check of their own, which a
    grading judge does not accept.
    """
    if exercise in _DECLARED:
        declared, d_size, d_target, d_non_overlapping = _DECLARED[exercise]
        if (size, target, non_overlapping) in ((None, None, None), (d_size, d_target, d_non_overlapping)) or (
            size == d_size and target == d_target and non_overlapping is None
        ):
            return declared.check(config)
    variable = f"answer_{exercise.replace('.', '_')}"
    practice = _formula_exercise(exercise, variable, size or 32, target or 16, bool(non_overlapping))
    return practice.check(config)


# --- Exercise 1.3 ---------------------------------------------------------------------------------------

_WIDTH_NAMES = ["the input width", "the width after C1", "after S2", "after C3", "after S4", "after C5"]
_LENET_WIDTHS = [32, 28, 14, 10, 5, 1]


def _width(widths: Any, i: int | None) -> Any:
    if not isinstance(widths, (list, tuple)):
        raise AnswerError(f"is not defined: widths is {show(widths)}, where a list of six ints is expected")
    if i is None:
        return len(widths)
    if i >= len(widths):
        raise AnswerError(f"is missing: widths has only {len(widths)} items")
    return widths[i]


LENET_WIDTHS = declare(
    Exercise(
        id="1.3",
        name="widths",
        cases=lambda: (
            [Case.fixed("the number of widths, len(widths),", None, 6)]
            + [
                Case.fixed(f"widths[{i}], {name},", i, width)
                for i, (name, width) in enumerate(zip(_WIDTH_NAMES, _LENET_WIDTHS))
            ]
        ),
        run=_width,
        reference=lambda _inputs: None,
        compare=lambda got, expected: count(got, expected, verb="is", reveal=False),
        hint="the convolutions use 5x5 kernels, stride 1, no padding; the subsamplings 2x2 windows with stride 2. "
        "Feed each width into the next layer's formula, in the table's order.",
    )
)


def lenet_widths(widths: list[int]) -> Verdict:
    """Exercise 1.3: the widths of LeNet-5's input, C1, S2, C3, S4 and C5, in that order.

    Introduced in chapter 1.
    """
    return LENET_WIDTHS.check(widths)
