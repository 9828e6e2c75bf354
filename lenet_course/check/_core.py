"""What every exercise checker shares: run cases, print one verdict.

Used by every checker of :mod:`lenet_course.check`.

A checker never raises for a wrong answer: it prints which case failed and a
hint. The one exception that passes through is ``NotImplementedError``, the
stub of an exercise not yet attempted, so that the notebook stops there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Case", "Raises", "Verdict", "report", "same_value"]


@dataclass(frozen=True)
class Raises:
    """Expect the call to raise this exception type."""

    exception: type[BaseException]

    def __str__(self) -> str:
        return f"raises {self.exception.__name__}"


@dataclass
class Case:
    """One case: ``label`` as shown to the learner, a thunk computing their answer, the expected value."""

    label: str
    answer: Callable[[], Any]
    expected: Any
    equal: Callable[[Any, Any], bool] | None = field(default=None)


def same_value(got: Any, expected: Any, rel: float = 1e-5, abs_: float = 1e-6) -> bool:
    """Equality that understands tensors, floats, tuples and torch.Size."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return False
        return bool(torch.allclose(got.detach().cpu().double(), expected.detach().cpu().double(), rtol=rel, atol=abs_))
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected if isinstance(expected, bool) else False
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(got, expected, rel_tol=rel, abs_tol=abs_)
    if isinstance(expected, (tuple, list, torch.Size)):
        if not isinstance(got, (tuple, list, torch.Size)) or len(got) != len(expected):
            return False
        return all(same_value(g, e, rel, abs_) for g, e in zip(got, expected))
    return got == expected


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Verdict:
    """What a checker found: true when every case passed.

    In a notebook it displays nothing: the printed verdict line is what the
    learner reads (and what nbval compares), so a check cell shows no stray
    ``True`` under it.
    """

    exercise: str
    passed: int
    total: int

    def __bool__(self) -> bool:
        return self.passed == self.total

    def _ipython_display_(self) -> None:
        pass


def report(exercise: str, cases: list[Case], hint: str) -> Verdict:
    """Run the cases, print the verdict for ``exercise`` ("1.1"); the result is true when all pass."""
    passed = 0
    first_failure = None
    for case in cases:
        try:
            got = case.answer()
        except NotImplementedError:
            raise
        except Exception as exc:  # the learner's code failed: report it, do not crash
            if isinstance(case.expected, Raises) and isinstance(exc, case.expected.exception):
                passed += 1
                continue
            message = str(exc).splitlines()[0] if str(exc) else ""
            outcome = f"raised {type(exc).__name__}" + (f": {message}" if message else "")
        else:
            if isinstance(case.expected, Raises):
                outcome = f"returned {_show(got)}, expected it to raise {case.expected.exception.__name__}"
            elif (case.equal or same_value)(got, case.expected):
                passed += 1
                continue
            else:
                outcome = f"returned {_show(got)}, expected {_show(case.expected)}"
        if first_failure is None:
            first_failure = f"{case.label} {outcome}"
    total = len(cases)
    if passed == total:
        print(f"Exercise {exercise}: {passed}/{total} cases correct. Well done!")
        return Verdict(exercise, passed, total)
    print(f"Exercise {exercise}: {passed}/{total} cases correct.")
    print(f"  First failing case: {first_failure}")
    print(f"  Hint: {hint}")
    return Verdict(exercise, passed, total)
