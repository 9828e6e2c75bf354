"""The declaration of an exercise: verdict text, partial counts, the learner's exceptions, the stub."""

import pytest

from lenet_course.check.compare import count
from lenet_course.check.exercise import (
    AnswerError,
    Case,
    Exercise,
    Raises,
    Verdict,
    exception_text,
    judge_outcomes,
    run_case,
)


def _exercise(cases, reference=lambda x: x * 2, hint="double it"):
    return Exercise(
        id="0.9",
        name="double",
        cases=lambda: cases,
        run=lambda fn, x: fn(x),
        reference=reference,
        compare=count,
        hint=hint,
    )


def test_all_cases_pass(capsys):
    verdict = _exercise([Case("double(1)", 1), Case("double(2)", 2)]).check(lambda x: 2 * x)
    assert verdict == Verdict("0.9", 2, 2) and verdict
    assert capsys.readouterr().out == "Exercise 0.9: 2/2 cases correct. Well done!\n"


def test_the_first_failure_and_the_hint_are_shown_and_each_case_counts_once(capsys):
    verdict = _exercise([Case("double(1)", 1), Case("double(2)", 2), Case("double(3)", 3)]).check(
        lambda x: 2 if x == 1 else 5
    )
    assert verdict == Verdict("0.9", 1, 3) and not verdict
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 0.9: 1/3 cases correct.",
        "  First failing case: double(2) returned 5, expected 4",
        "  Hint: double it",
    ]


def test_an_exception_message_is_shown_whole_enough_to_name_the_layer(capsys):
    def broken(x):
        raise RuntimeError(
            'Error(s) in loading state_dict for MyLeNet5:\n\tMissing key(s) in state_dict: "c1.weight", '
            '"c1.bias".\n\tUnexpected key(s) in state_dict: "conv1.weight".\n\tfourth line'
        )

    _exercise([Case("double(1)", 1)]).check(broken)
    line = capsys.readouterr().out.splitlines()[1]
    assert line == (
        "  First failing case: double(1) raised RuntimeError: Error(s) in loading state_dict for MyLeNet5: / "
        'Missing key(s) in state_dict: "c1.weight", "c1.bias". / Unexpected key(s) in state_dict: "conv1.weight".'
    )


def test_exception_text_keeps_the_first_non_empty_lines_and_at_most_300_characters():
    assert exception_text(ValueError("\n\n  first \n\nsecond\nthird\nfourth")) == "first / second / third"
    assert exception_text(KeyError("c1")) == "'c1'"
    long = exception_text(ValueError("x" * 1000))
    assert len(long) == 300 and long.endswith("...")


def test_the_stub_stops_the_notebook():
    def stub(x):
        raise NotImplementedError("Exercise 0.9: write double")

    with pytest.raises(NotImplementedError, match="Exercise 0.9"):
        _exercise([Case("double(1)", 1)]).check(stub)


def test_expected_exceptions_are_matched_by_name_and_by_base_class(capsys):
    def reference(x):
        return Raises("ValueError") if x < 0 else 2 * x

    class TooSmall(ValueError):
        pass

    def answer(x):
        if x == -1:
            raise TooSmall("below 0")
        if x == -2:
            raise TypeError("wrong kind")
        return 2 * x

    exercise = _exercise([Case("a", -1), Case("b", -2), Case("c", 3), Case("d", -3)], reference=reference)
    assert exercise.check(answer) == Verdict("0.9", 2, 4)
    out = capsys.readouterr().out
    assert "  First failing case: b raised TypeError: wrong kind (expected ValueError)" in out
    exercise.check(lambda x: 2 * x)
    assert "a returned -2, expected it to raise ValueError" in capsys.readouterr().out


def test_an_answer_the_run_cannot_use_is_refused_with_its_own_words(capsys):
    def run(answer, key):
        if key not in answer:
            raise AnswerError(f"is missing: params has no key {key!r}")
        return answer[key]

    exercise = Exercise("0.8", "params", lambda: [Case("params['a']", "a")], run, lambda k: 1, count, "h")
    exercise.check({})
    assert "  First failing case: params['a'] is missing: params has no key 'a'" in capsys.readouterr().out


def test_run_case_sends_plain_data_and_judge_outcomes_reads_only_plain_data():
    exercise = _exercise([Case("double(1)", 1), Case("double(2)", 2)])
    assert run_case(exercise, lambda x: 2.0, 1) == {"value": 2.0}
    assert run_case(exercise, lambda x: 1 / 0, 1)["raised"]["types"][:2] == ["ZeroDivisionError", "ArithmeticError"]
    cases = exercise.cases()
    for garbage in (None, "x", [1, 2], [{"value": 2}], [{"value": {"$tensor": 1}}, {"raised": 3}], [{}, {"a": 1}]):
        judged = judge_outcomes(exercise, cases, garbage)
        assert judged.passed == 0 and judged.total == 2
    judged = judge_outcomes(exercise, cases, [{"value": 2}, {"refused": "nope", "whole": False}])
    assert (judged.passed, judged.total, judged.first_failure) == (1, 2, "double(2) nope")


def test_a_verdict_of_no_cases_is_not_a_pass():
    assert not Verdict("1.1", 0, 0)
    assert Verdict("1.1", 3, 3) and not Verdict("1.1", 2, 3)


def test_an_answer_that_cannot_be_copied_to_the_cpu_is_refused_not_raised(capsys):
    import torch

    class Stuck(torch.Tensor):
        def detach(self):
            raise RuntimeError("this tensor cannot leave its device")

    stuck = torch.zeros(2).as_subclass(Stuck)
    outcome = run_case(_exercise([Case("double(1)", 1)]), lambda x: stuck, 1)
    assert outcome == {
        "refused": "returned a value that cannot be read (RuntimeError: this tensor cannot leave its device)"
    }
