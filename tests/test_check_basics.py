"""The chapter 0 checkers: a right answer passes, a wrong one names its case, a stub propagates."""

import pytest
import torch

from lenet_course import check


def test_warmup_zeros_accepts_the_right_tensor(capsys):
    assert check.warmup_zeros(torch.zeros(1, 1, 32, 32))
    assert capsys.readouterr().out == "Exercise 0.1: 4/4 cases correct. Well done!\n"


@pytest.mark.parametrize(
    "x, failing",
    [
        (torch.zeros(1, 32, 32), "x.shape returned (1, 32, 32), expected (1, 1, 32, 32)"),
        (torch.zeros(1, 1, 32, 32, dtype=torch.float64), "x.dtype returned 'torch.float64'"),
        (torch.ones(1, 1, 32, 32), "every value of x is 0: returned False, expected True"),
    ],
)
def test_warmup_zeros_names_the_wrong_case(capsys, x, failing):
    assert not check.warmup_zeros(x)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 0.1: 3/4 cases correct.\n")
    assert failing in out
    assert "Hint: LeNet-5 reads a batch" in out


def test_warmup_zeros_on_a_list_fails_without_crashing(capsys):
    assert not check.warmup_zeros([[0.0] * 32] * 32)
    assert "x is a tensor: returned False" in capsys.readouterr().out


def test_warmup_linear_parameters(capsys):
    assert check.warmup_linear_parameters(lambda n_in, n_out: n_in * n_out + n_out)
    assert capsys.readouterr().out == "Exercise 0.2: 5/5 cases correct. Well done!\n"


def test_warmup_linear_parameters_without_bias_fails(capsys):
    assert not check.warmup_linear_parameters(lambda n_in, n_out: n_in * n_out)
    out = capsys.readouterr().out
    assert "0/5 cases correct" in out
    assert "linear_parameters(120, 84) returned 10080, expected 10164" in out
    assert "one bias of its own" in out


def test_unattempted_exercises_propagate():
    def stub(*_args):
        raise NotImplementedError("Exercise 0.2: count the parameters")

    with pytest.raises(NotImplementedError):
        check.warmup_linear_parameters(stub)
