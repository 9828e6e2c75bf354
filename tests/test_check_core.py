import pytest
import torch

from lenet_course.check import Case, Raises, report, same_value


def test_all_cases_pass(capsys):
    assert report("1.1", [Case("f(1)", lambda: 2, 2), Case("f(2)", lambda: 3.0000001, 3)], "hint")
    assert capsys.readouterr().out == "Exercise 1.1: 2/2 cases correct. Well done!\n"


def test_first_failure_and_hint_are_shown(capsys):
    cases = [Case("f(1)", lambda: 2, 2), Case("f(2)", lambda: 5, 4), Case("f(3)", lambda: 1 / 0, 6)]
    assert not report("2.3", cases, "count the kernel positions")
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 2.3: 1/3 cases correct.",
        "  First failing case: f(2) returned 5, expected 4",
        "  Hint: count the kernel positions",
    ]


def test_learner_exception_is_one_line_not_a_crash(capsys):
    def broken():
        raise KeyError("missing\nsecond line")

    report("1.2", [Case("g()", broken, 1)], "h")
    assert "  First failing case: g() raised KeyError: 'missing" in capsys.readouterr().out


def test_not_implemented_propagates():
    def stub():
        raise NotImplementedError("Exercise 1.1: write conv_output_size")

    with pytest.raises(NotImplementedError, match="Exercise 1.1"):
        report("1.1", [Case("f()", stub, 1)], "h")


def test_expected_exceptions(capsys):
    def bad():
        raise ValueError("does not tile")

    report("1.3", [Case("a", bad, Raises(ValueError)), Case("b", lambda: 3, Raises(ValueError))], "h")
    out = capsys.readouterr().out
    assert out.startswith("Exercise 1.3: 1/2 cases correct.")
    assert "b returned 3, expected it to raise ValueError" in out


def test_same_value_understands_tensors_and_shapes():
    assert same_value(torch.ones(2, 3), torch.ones(2, 3) + 1e-7)
    assert not same_value(torch.ones(2, 3), torch.ones(3, 2))
    assert not same_value([1, 2], torch.ones(2))
    assert same_value(torch.Size([1, 6, 28, 28]), (1, 6, 28, 28))
    assert not same_value(True, 1) and same_value(True, True)
    assert not same_value((1, 2), (1, 2, 3))
