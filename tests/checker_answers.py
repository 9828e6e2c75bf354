"""Wrong and right answers for the exercise checkers: what every ``tests/test_check_<topic>.py`` shares.

Each topic's test module defines three dicts keyed by exercise id:

- ``CHECKERS[id]``: a function taking one answer and calling the check cell's
  checker (``check.c1_counts(*answer)`` for two-part answers);
- ``WRONG[id]``: named plausible wrong answers; each must get less than full marks;
- ``RIGHT[id]``: named right answers written differently from the chapter's
  solution; each must get full marks.

``tests/test_check_answers.py`` runs them all and holds the table of how many
of each every exercise has.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lenet_course
from lenet_course.check import Verdict

PACKAGE = Path(lenet_course.__file__).resolve().parent


def judge(checker: Callable[[Any], Verdict], answer: Any, capsys) -> tuple[Verdict, str]:
    """Run ``checker(answer)``; its verdict and the text it printed.

    Nothing may go to stderr, and no warning may come from the package: a
    checker-internal warning would reach the learner's output with a package
    path in it. (The learner's own code may warn, as it would in a notebook.)
    """
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = checker(answer)
    ours = [
        f"{w.filename}:{w.lineno}: {w.message}" for w in caught if Path(w.filename).resolve().is_relative_to(PACKAGE)
    ]
    assert ours == []
    captured = capsys.readouterr()
    assert captured.err == ""
    assert isinstance(verdict, Verdict)
    return verdict, captured.out


def first_failure(out: str) -> str:
    """The "First failing case" line of a verdict, without its heading."""
    return next(line for line in out.splitlines() if line.startswith("  First failing case: ")).split(": ", 1)[1]
