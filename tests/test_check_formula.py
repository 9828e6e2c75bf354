"""The chapter 1 checkers (and 3.3): conv_output_size, the slider exercises and LeNet-5's widths."""

import pytest
from torch import nn

from lenet_course import check, shapes
from lenet_course.check.formula import _side_by_side, formula_cases
from tests.checker_answers import first_failure, judge


def _solution(W, F, P=0, S=1):
    span = W - F + 2 * P
    if span < 0 or span % S:
        raise ValueError("does not tile")
    return span // S + 1


def _issue_int_check(W, F, P=0, S=1):
    O = (W - F + 2 * P) / S + 1  # noqa: E741, N806
    if O != int(O) or O < 0:
        raise ValueError("does not tile")
    return int(O)


def _issue_wider_check(W, F, P=0, S=1):
    if F > W:
        raise ValueError("the kernel is wider than the input")
    if (W - F + 2 * P) % S:
        raise ValueError("does not tile")
    return (W - F + 2 * P) // S + 1


def _float_check(W, F, P=0, S=1):
    O = (W - F + 2 * P) / S + 1  # noqa: E741, N806
    if O != int(O) or O < 1:
        raise ValueError("does not tile")
    return int(O)


def _divmod(W, F, P=0, S=1):
    steps, rest = divmod(W + 2 * P - F, S)
    if rest or steps < 0:
        raise ValueError(f"{F} does not tile {W} padded by {P} with stride {S}")
    return steps + 1


def _pytorch_counts(W, F, P=0, S=1):
    """Ask PyTorch, then refuse what does not tile (the layer itself would floor it)."""
    if (W - F + 2 * P) % S or W + 2 * P < F:
        raise ValueError("does not tile")
    return (
        nn.Conv2d(1, 1, F, stride=S, padding=P)
        .to("meta")(__import__("torch").empty(1, 1, W, W, device="meta"))
        .shape[-1]
    )


CHECKERS = {
    "1.1": check.conv_output_size,
    "1.2": lambda a: check.formula_target(a, size=32, target=16, exercise="1.2"),
    "1.3": check.lenet_widths,
    "3.3": lambda a: check.formula_target(a, size=28, target=14, exercise="3.3", non_overlapping=True),
}

WRONG = {
    "1.1": {
        "floor division": lambda W, F, P=0, S=1: (W - F + 2 * P) // S + 1,
        "O != int(O) or O < 0": _issue_int_check,
        "F > W, ignoring the padding": _issue_wider_check,
        "a float": lambda W, F, P=0, S=1: float(_solution(W, F, P, S)),
        "padding forgotten": lambda W, F, P=0, S=1: _solution(W, F, 0, S),
        "padding counted once": lambda W, F, P=0, S=1: _solution(W, F, 0, S) if P == 0 else (W - F + P) // S + 1,
        "stride ignored": lambda W, F, P=0, S=1: _solution(W, F, P, 1),
    },
    "1.2": {
        "does not tile": dict(W=32, F=3, P=1, S=2),
        "the wrong input": dict(W=28, F=2, P=0, S=2),
        "C1's configuration": dict(W=32, F=5, P=0, S=1),
        "a float kernel": dict(W=32, F=2.0, P=0, S=2),
        "a missing key": dict(W=32, F=2, S=2),
        "a list": [32, 2, 0, 2],
    },
    "1.3": {
        "the input left out": [28, 14, 10, 5, 1],
        "floats from /": [32, 28.0, 14.0, 10.0, 5.0, 1.0],
        "reversed": [1, 5, 10, 14, 28, 32],
        "off by one after C3": [32, 28, 14, 9, 4, 0],
        "a tuple of C5 short": (32, 28, 14, 10, 5),
    },
    "3.3": {
        "overlapping windows": dict(W=28, F=4, P=1, S=2),
        "stride 1": dict(W=28, F=2, P=0, S=1),
        "padding with gaps": dict(W=28, F=1, P=0, S=2),
        "a float stride": dict(W=28, F=2, P=0, S=2.0),
        "the S2 of another width": dict(W=32, F=2, P=0, S=2),
    },
}

RIGHT = {
    "1.1": {"divmod": _divmod, "the package's shapes": shapes.conv_output_size, "PyTorch on meta": _pytorch_counts},
    "1.2": {
        "F=4, P=1": dict(W=32, F=4, P=1, S=2),
        "long names": dict(size=32, kernel=6, padding=2, stride=2),
        "stride 1, a wide kernel": dict(W=32, F=17, P=0, S=1),
    },
    "1.3": {
        "typed in": [32, 28, 14, 10, 5, 1],
        "with the package": [32]
        + [
            shapes.conv_output_size(w, f, 0, s)
            for w, f, s in [(32, 5, 1), (28, 2, 2), (14, 5, 1), (10, 2, 2), (5, 5, 1)]
        ],
        "a tuple": (32, 28, 14, 10, 5, 1),
    },
    "3.3": {
        "long names": dict(size=28, kernel=2, padding=0, stride=2),
        "keys in another order, one more": dict(S=2, P=0, F=2, W=28, note="S2"),
    },
}


def test_the_cases_agree_with_the_package():
    for (W, F, P, S), expected in formula_cases:
        if expected is None:
            with pytest.raises(ValueError):
                shapes.conv_output_size(W, F, P, S)
        else:
            assert shapes.conv_output_size(W, F, P, S) == expected
    assert len(formula_cases) == 14
    assert sum(e is None for _, e in formula_cases) == 5


def test_floor_division_misses_the_configurations_that_do_not_tile(capsys):
    verdict, out = judge(check.conv_output_size, WRONG["1.1"]["floor division"], capsys)
    assert (verdict.passed, verdict.total) == (9, 14)
    assert first_failure(out) == "conv_output_size(W=224, F=11, P=2, S=4) returned 55, expected it to raise ValueError"


def test_the_issues_two_checks_that_passed_before_are_caught(capsys):
    verdict, out = judge(check.conv_output_size, WRONG["1.1"]["O != int(O) or O < 0"], capsys)
    assert (verdict.passed, verdict.total) == (13, 14)
    assert first_failure(out) == "conv_output_size(W=4, F=5, P=0, S=1) returned 0, expected it to raise ValueError"
    verdict, out = judge(check.conv_output_size, WRONG["1.1"]["F > W, ignoring the padding"], capsys)
    assert (verdict.passed, verdict.total) == (13, 14)
    assert first_failure(out) == (
        "conv_output_size(W=3, F=5, P=1, S=1) raised ValueError: the kernel is wider than the input"
    )


def test_a_float_width_is_refused_with_the_number_rule(capsys):
    verdict, out = judge(check.conv_output_size, WRONG["1.1"]["a float"], capsys)
    assert verdict.passed == 5  # the configurations that raise
    assert (
        first_failure(out) == "conv_output_size(W=32, F=5, P=0, S=1) returned 28.0, a float, where an int is expected"
    )
    assert "Hint: counts, sizes, widths, indices and labels are Python ints" in out


def test_forgetting_the_padding_fails_on_the_padded_case(capsys):
    _, out = judge(check.conv_output_size, WRONG["1.1"]["padding forgotten"], capsys)
    assert first_failure(out) == "conv_output_size(W=28, F=5, P=2, S=1) returned 24, expected 28"


def test_the_stub_propagates():
    def stub(W, F, P=0, S=1):
        raise NotImplementedError("Exercise 1.1")

    with pytest.raises(NotImplementedError):
        check.conv_output_size(stub)


def test_formula_target_names_the_variable_and_says_why(capsys):
    verdict, out = judge(CHECKERS["1.2"], dict(W=32, F=3, P=1, S=2), capsys)
    assert (verdict.passed, verdict.total) == (1, 2)
    assert first_failure(out).startswith(
        "the output width with answer_1_2 does not exist: (32 - 3 + 2*1) / 2 + 1 = 16.5 is not a whole number"
    )
    _, out = judge(CHECKERS["1.2"], dict(W=32, F=5, P=0, S=1), capsys)
    assert first_failure(out) == "the output width with answer_1_2 is 28, expected 16"
    _, out = judge(CHECKERS["1.2"], dict(W=32, F=2, S=2), capsys)
    assert "answer_1_2 has no 'P'" in out
    _, out = judge(CHECKERS["1.2"], dict(W=32, F=2.0, P=0, S=2), capsys)
    assert first_failure(out) == "the output width with answer_1_2 has F = 2.0, a float, where an int is expected"


def test_formula_target_3_3_wants_windows_side_by_side(capsys):
    verdict, out = judge(CHECKERS["3.3"], dict(W=28, F=4, P=1, S=2), capsys)
    assert (verdict.passed, verdict.total) == (2, 4)
    assert first_failure(out) == (
        "answer_3_3's windows sit side by side (no overlap, no gap): is not true: with F=4 and S=2 neighbouring "
        "windows overlap"
    )
    gaps = _side_by_side({"W": 28, "F": 1, "P": 0, "S": 2}, None)
    assert gaps.text == "is not true: with F=1 and S=2 pixels between the windows are skipped"


def test_formula_target_with_the_chapters_defaults_is_the_declared_exercise(capsys):
    assert check.formula_target(dict(W=32, F=2, P=0, S=2))
    assert check.formula_target(dict(W=28, F=2, P=0, S=2), exercise="3.3")
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 1.2: 2/2 cases correct. Well done!",
        "Exercise 3.3: 4/4 cases correct. Well done!",
    ]


def test_formula_target_for_other_sizes_is_a_practice_check(capsys):
    assert check.formula_target(dict(W=20, F=2, P=0, S=2), size=20, target=10)
    assert not check.formula_target(dict(W=20, F=3, P=0, S=1), size=20, target=10)
    assert "the output width with answer_1_2 is 18, expected 10" in capsys.readouterr().out


def test_lenet_widths_does_not_give_the_widths_away(capsys):
    verdict, out = judge(check.lenet_widths, WRONG["1.3"]["off by one after C3"], capsys)
    assert (verdict.passed, verdict.total) == (4, 7)
    assert first_failure(out) == "widths[3], after C3, is 9, which is too small"
    verdict, out = judge(check.lenet_widths, WRONG["1.3"]["the input left out"], capsys)
    assert first_failure(out) == "the number of widths, len(widths), is 5, which is too small"
    _, out = judge(check.lenet_widths, WRONG["1.3"]["floats from /"], capsys)
    assert first_failure(out) == "widths[1], the width after C1, is 28.0, a float, where an int is expected"
