"""Verdicts for true/false quizzes: which statements (by letter) apply.

Used by the quiz checkers of chapters 8 and 10.

The verdict names the first statement to rethink, never the answer key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._core import Verdict

__all__ = ["judge_statements"]


def judge_statements(
    exercise: str, statements: Mapping[str, str], answer: Iterable[str], key: set[str], hint: str
) -> Verdict:
    """Print ``Exercise N.k: m/n statements judged correctly.``; true when the ticked set equals ``key``."""
    letters = sorted(statements)
    if isinstance(answer, str):
        answer = set(answer.replace(",", " ").split()) if len(answer) > 1 else {answer}
    try:
        chosen = {str(a).strip().strip("()").lower() for a in answer}
    except TypeError:
        print(
            f"Exercise {exercise}: expected a set of letters such as {{'a', 'c'}}, got {type(answer).__name__}; "
            "put the letters of the statements you think apply in a set"
        )
        return Verdict(exercise, 0, len(letters))
    unknown = sorted(chosen - set(letters))
    if unknown:
        print(
            f"Exercise {exercise}: there is no statement {', '.join(repr(u) for u in unknown)}; "
            f"use letters from {letters[0]!r} to {letters[-1]!r}"
        )
        return Verdict(exercise, 0, len(letters))
    right = [letter for letter in letters if (letter in chosen) == (letter in key)]
    total = len(letters)
    if len(right) == total:
        print(f"Exercise {exercise}: {total}/{total} statements judged correctly. Well done!")
        return Verdict(exercise, total, total)
    first = next(letter for letter in letters if letter not in right)
    print(f"Exercise {exercise}: {len(right)}/{total} statements judged correctly.")
    print(f"  Rethink statement ({first}): {statements[first]}")
    print(f"  Hint: {hint}")
    return Verdict(exercise, len(right), total)
