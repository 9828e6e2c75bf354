"""The chapter 1 checkers: conv_output_size, the slider exercise and LeNet-5's widths."""

import pytest

from lenet_course import check, shapes
from lenet_course.check.formula import formula_cases


def _solution(W, F, P=0, S=1):
    span = W - F + 2 * P
    if span < 0 or span % S:
        raise ValueError("does not tile")
    return span // S + 1


def test_the_cases_agree_with_the_package():
    for (W, F, P, S), expected in formula_cases:
        if expected is None:
            with pytest.raises(ValueError):
                shapes.conv_output_size(W, F, P, S)
        else:
            assert shapes.conv_output_size(W, F, P, S) == expected
    assert len(formula_cases) == 12
    assert sum(e is None for _, e in formula_cases) == 4


def test_a_correct_function_passes(capsys):
    assert check.conv_output_size(_solution)
    assert capsys.readouterr().out == "Exercise 1.1: 12/12 cases correct. Well done!\n"
    assert check.conv_output_size(shapes.conv_output_size)


def test_floor_division_misses_the_configurations_that_do_not_tile(capsys):
    assert not check.conv_output_size(lambda W, F, P=0, S=1: (W - F + 2 * P) // S + 1)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 1.1: 8/12 cases correct.\n")
    assert "conv_output_size(W=224, F=11, P=2, S=4) returned 55, expected it to raise ValueError" in out
    assert "raise ValueError" in out.split("Hint:")[1]


def test_a_float_answer_is_not_a_width(capsys):
    assert not check.conv_output_size(lambda W, F, P=0, S=1: float(_solution(W, F, P, S)))
    assert "conv_output_size(W=32, F=5, P=0, S=1) returned 28.0, expected 28" in capsys.readouterr().out


def test_forgetting_the_padding_fails_on_the_padded_case(capsys):
    assert not check.conv_output_size(lambda W, F, P=0, S=1: _solution(W, F, 0, S))
    assert "conv_output_size(W=28, F=5, P=2, S=1) returned 24, expected 28" in capsys.readouterr().out


def test_conv_output_size_propagates_not_implemented():
    def stub(W, F, P=0, S=1):
        raise NotImplementedError("Exercise 1.1")

    with pytest.raises(NotImplementedError):
        check.conv_output_size(stub)


@pytest.mark.parametrize(
    "config", [dict(W=32, F=2, P=0, S=2), dict(W=32, F=4, P=1, S=2), dict(size=32, kernel=6, padding=2, stride=2)]
)
def test_formula_target_accepts_every_configuration_that_works(capsys, config):
    assert check.formula_target(config)
    assert capsys.readouterr().out == "Exercise 1.2: 2/2 cases correct. Well done!\n"


def test_formula_target_reports_a_configuration_that_does_not_tile(capsys):
    assert not check.formula_target(dict(W=32, F=3, P=1, S=2))
    out = capsys.readouterr().out
    assert "1/2 cases correct" in out
    assert "raised ValueError: (32 - 3 + 2*1) / 2 + 1 = 16.5 is not a whole number" in out


def test_formula_target_reports_a_missing_key(capsys):
    assert not check.formula_target(dict(W=32, F=2, S=2))
    assert "the answer has no 'P'" in capsys.readouterr().out


def test_formula_target_non_overlapping(capsys):
    assert check.formula_target(dict(W=28, F=2, P=0, S=2), 28, 14, "3.3", non_overlapping=True)
    assert capsys.readouterr().out == "Exercise 3.3: 4/4 cases correct. Well done!\n"
    assert not check.formula_target(dict(W=28, F=4, P=1, S=2), 28, 14, "3.3", non_overlapping=True)
    out = capsys.readouterr().out
    assert "Exercise 3.3: 2/4 cases correct." in out
    assert "windows that do not overlap (S equal to F): returned False" in out


def test_lenet_widths(capsys):
    assert check.lenet_widths([32, 28, 14, 10, 5, 1])
    assert capsys.readouterr().out == "Exercise 1.3: 7/7 cases correct. Well done!\n"
    assert not check.lenet_widths([32, 28, 14, 10, 5])
    out = capsys.readouterr().out
    assert "the number of widths returned 5, expected 6" in out
    assert not check.lenet_widths([32, 28, 14, 9, 4, 0])
    assert "the width after C3 returned 9, expected 10" in capsys.readouterr().out
