"""Quizzes answered with letters (chapters 8 and 10): which statements apply.

Each statement is one case. Every quiz reads an answer the same way: a set,
list or tuple of letters, or a string; in a string, spaces, commas and
brackets are ignored and every other character is a letter, so
``{"b", "c"}``, ``"b, c"``, ``"bc"`` and ``"(b) (c)"`` are one answer. Case
does not matter. The verdict names the first statement to rethink, never the
answer key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .compare import Mismatch
from .exercise import AnswerError, Case, Exercise

__all__ = ["letters", "quiz"]

_SEPARATORS = set(" \t\n,;()[]{}'\"")


def letters(answer: Any, valid: Mapping[str, str] | set[str]) -> frozenset[str]:
    """The set of letters ``answer`` ticks; :class:`AnswerError` for anything that is not letters of ``valid``."""
    first, last = min(valid), max(valid)
    if isinstance(answer, str):
        items = [answer]
    elif isinstance(answer, (set, frozenset, list, tuple)):
        items = list(answer)
    else:
        raise AnswerError(
            f"expected the letters of the statements you think apply, such as {{'{first}', 'c'}}; "
            f"got {type(answer).__name__}",
            whole=True,
        )
    chosen = set()
    for item in items:
        if not isinstance(item, str):
            raise AnswerError(f"{item!r} is not a letter; use letters from {first!r} to {last!r}", whole=True)
        chosen.update(ch for ch in item.lower() if ch not in _SEPARATORS)
    unknown = sorted(chosen - set(valid))
    if unknown:
        raise AnswerError(
            f"there is no statement {', '.join(repr(u) for u in unknown)}; use letters from {first!r} to {last!r}",
            whole=True,
        )
    return frozenset(chosen)


def quiz(number: str, name: str, statements: Mapping[str, str], key: set[str], hint: str) -> Exercise:
    """A quiz: one case per statement, right when it is ticked exactly if it belongs to ``key``."""

    def rethink(letter: str):
        def compare(got: Any, expected: bool) -> Mismatch | None:
            return None if got is expected else Mismatch(statements[letter])

        return compare

    return Exercise(
        id=number,
        name=name,
        cases=lambda: [
            Case(f"statement ({letter}):", letter, compare=rethink(letter)) for letter in sorted(statements)
        ],
        run=lambda answer, letter: letter in letters(answer, statements),
        reference=lambda letter: letter in key,
        compare=lambda got, expected: None if got is expected else Mismatch("is judged wrongly"),
        hint=hint,
        noun="statements judged correctly",
        heading="Rethink ",
    )
