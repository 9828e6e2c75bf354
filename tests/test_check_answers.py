"""Every checker refuses plausible wrong answers and accepts right answers written differently.

The answers live in the topic test modules (``WRONG``, ``RIGHT`` and
``CHECKERS`` there, see ``tests/checker_answers.py``); this module runs them
all and checks that every exercise has at least three wrong and two right
answers. ``python -m tests.test_check_answers`` prints the table.
"""

from __future__ import annotations

import importlib

import pytest

from lenet_course.check import EXERCISES
from tests.checker_answers import judge

TOPICS = [
    "basics",
    "formula",
    "convolution",
    "subsampling",
    "c3_table",
    "output_layer",
    "assembly",
    "mnist_input",
    "training_loop",
    "predictions",
    "augmentation",
    "classic",
]


def _collect(kind: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for topic in TOPICS:
        module = importlib.import_module(f"tests.test_check_{topic}")
        for exercise, answers in getattr(module, kind).items():
            found.setdefault(exercise, {}).update(answers)
    return found


def _checkers() -> dict:
    found = {}
    for topic in TOPICS:
        found.update(importlib.import_module(f"tests.test_check_{topic}").CHECKERS)
    return found


WRONG, RIGHT, CHECKERS = _collect("WRONG"), _collect("RIGHT"), _checkers()


def table() -> list[tuple[str, int, int]]:
    """(exercise, wrong answers tested, right answers tested), in the course's order."""
    return [(number, len(WRONG.get(number, {})), len(RIGHT.get(number, {}))) for number in EXERCISES]


def test_every_exercise_has_three_wrong_and_two_right_answers():
    assert len(EXERCISES) == 32  # 0.1 to 11.3
    thin = [(number, wrong, right) for number, wrong, right in table() if wrong < 3 or right < 2]
    assert thin == []
    assert set(CHECKERS) == set(EXERCISES)


@pytest.mark.parametrize("exercise, name", [(e, n) for e in WRONG for n in WRONG[e]])
def test_a_wrong_answer_gets_less_than_full_marks(exercise, name, capsys):
    verdict, out = judge(CHECKERS[exercise], WRONG[exercise][name], capsys)
    assert verdict.exercise == exercise
    assert verdict.passed < verdict.total, out
    assert "Well done" not in out and "  Hint: " in out


@pytest.mark.parametrize("exercise, name", [(e, n) for e in RIGHT for n in RIGHT[e]])
def test_a_right_answer_written_differently_gets_full_marks(exercise, name, capsys):
    verdict, out = judge(CHECKERS[exercise], RIGHT[exercise][name], capsys)
    assert verdict.exercise == exercise
    assert verdict.passed == verdict.total > 0, out
    assert out.endswith("Well done!\n")


if __name__ == "__main__":
    print("| exercise | wrong answers tested | right answers tested |")
    print("|---|---|---|")
    for number, wrong, right in table():
        print(f"| {number} | {wrong} | {right} |")
