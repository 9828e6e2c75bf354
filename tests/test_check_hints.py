"""Hints nudge the thinking and never state the code: no hint shares 25 characters with its solution."""

import json
import re

import pytest

from lenet_course.check import EXERCISES
from lenet_course.check.compare import INT_HINT, ITEM_HINT, LIST_HINT, TENSOR_HINT
from tests.conftest import ROOT

FRAGMENT = 25


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _solutions() -> dict[str, str]:
    """Exercise id -> the code between ### BEGIN SOLUTION and ### END SOLUTION in its chapter."""
    found = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            number = cell["metadata"].get("lenet_course", {}).get("exercise")
            source = "".join(cell["source"])
            match = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            if number and match:
                found[number] = _normalise(match.group(1))
    return found


SOLUTIONS = _solutions()


def shared_fragment(hint: str, solution: str, length: int = FRAGMENT) -> str | None:
    """The first ``length``-character piece of ``hint`` that ``solution`` contains, if any."""
    hint = _normalise(hint)
    for start in range(len(hint) - length + 1):
        if hint[start : start + length] in solution:
            return hint[start : start + length]
    return None


def test_every_exercise_has_its_solution_in_a_chapter():
    assert set(SOLUTIONS) == set(EXERCISES)


def test_the_fragment_test_can_fail():
    old_hint = (  # 8.1's hint before it was rewritten
        "in this order: optimizer.zero_grad() (gradients add up otherwise), y_hat = model(X), "
        "loss = criterion(y_hat, y), loss.backward(), optimizer.step(); return loss.item()"
    )
    assert shared_fragment(old_hint, SOLUTIONS["8.1"]) == " loss = criterion(y_hat, "
    assert shared_fragment("pass the batch through the model", SOLUTIONS["8.1"]) is None


@pytest.mark.parametrize("number", list(EXERCISES))
def test_no_hint_states_the_solution(number):
    for hint in (EXERCISES[number].hint, INT_HINT, ITEM_HINT, LIST_HINT, TENSOR_HINT):
        assert shared_fragment(hint, SOLUTIONS[number]) is None, hint


@pytest.mark.parametrize(
    "number, answer, variable",
    [
        ("1.2", dict(W=32, F=5, P=0, S=1), "answer_1_2"),
        ("2.1", (155, 122_304), "c1_parameters"),
        ("2.1", (156, 122_303), "c1_connections"),
        ("3.2", (11, 5_880), "s2_parameters"),
        ("3.2", (12, 5_879), "s2_connections"),
        ("3.3", dict(W=28, F=4, P=1, S=2), "answer_3_3"),
    ],
)
def test_the_verdict_names_the_variable_it_checks(number, answer, variable, capsys):
    EXERCISES[number].check(answer)
    failing = capsys.readouterr().out.splitlines()[1]
    assert failing.startswith("  First failing case: ") and variable in failing
