"""The chapter 0 checkers: wrong answers refused, right ones written otherwise accepted."""

import numpy as np
import torch
from torch import nn

from lenet_course import check
from tests.checker_answers import first_failure, judge

CHECKERS = {"0.1": check.warmup_zeros, "0.2": check.warmup_linear_parameters}

WRONG = {
    "0.1": {
        "no batch or channel axis": torch.zeros(32, 32),
        "no channel axis": torch.zeros(1, 32, 32),
        "channels last": torch.zeros(1, 32, 32, 1),
        "float64": torch.zeros(1, 1, 32, 32, dtype=torch.float64),
        "integers": torch.zeros(1, 1, 32, 32, dtype=torch.long),
        "ones": torch.ones(1, 1, 32, 32),
        "a numpy array": np.zeros((1, 1, 32, 32), dtype=np.float32),
    },
    "0.2": {
        "weights only": lambda n_in, n_out: n_in * n_out,
        "one bias per input": lambda n_in, n_out: n_in * n_out + n_in,
        "a bias row and column": lambda n_in, n_out: (n_in + 1) * (n_out + 1),
        "a float": lambda n_in, n_out: float(n_in * n_out + n_out),
    },
}

RIGHT = {
    "0.1": {
        "a tuple of sizes": torch.zeros((1, 1, 32, 32)),
        "two new axes": torch.zeros(32, 32)[None, None],
        "full of 0.0": torch.full((1, 1, 32, 32), 0.0),
        "from numpy": torch.from_numpy(np.zeros((1, 1, 32, 32), dtype=np.float32)),
    },
    "0.2": {
        "factored": lambda n_in, n_out: (n_in + 1) * n_out,
        "PyTorch counts": lambda n_in, n_out: sum(p.numel() for p in nn.Linear(n_in, n_out).parameters()),
    },
}


def test_warmup_zeros_names_the_wrong_case(capsys):
    verdict, out = judge(check.warmup_zeros, torch.zeros(1, 32, 32), capsys)
    assert verdict.passed == 3 and verdict.total == 4
    assert first_failure(out) == "x.shape is (1, 32, 32), expected (1, 1, 32, 32)"
    assert "Hint: LeNet-5 reads a batch" in out
    _, out = judge(check.warmup_zeros, torch.zeros(1, 1, 32, 32, dtype=torch.float64), capsys)
    assert first_failure(out) == "x.dtype is torch.float64, expected torch.float32"
    _, out = judge(check.warmup_zeros, torch.ones(1, 1, 32, 32), capsys)
    assert first_failure(out) == "every value of x is 0: is not true: 1024 of its 1024 values are not 0"


def test_warmup_zeros_on_something_else_fails_without_crashing(capsys):
    verdict, out = judge(check.warmup_zeros, [[0.0] * 32] * 32, capsys)
    assert verdict.passed == 0
    line = first_failure(out)
    assert line.startswith("x is a tensor: it is [[0.0, 0.0, ") and line.endswith("..., not a tensor")


def test_linear_parameters_refuses_a_float_with_the_number_rule(capsys):
    verdict, out = judge(check.warmup_linear_parameters, WRONG["0.2"]["a float"], capsys)
    assert verdict.passed == 0 and verdict.total == 7
    assert first_failure(out) == "linear_parameters(120, 84) returned 10164.0, a float, where an int is expected"
    assert "Hint: counts, sizes, widths, indices and labels are Python ints" in out


def test_linear_parameters_shows_the_case_that_tells_inputs_from_outputs(capsys):
    verdict, out = judge(check.warmup_linear_parameters, WRONG["0.2"]["one bias per input"], capsys)
    assert verdict.passed == 1  # only (1, 1), where inputs and outputs agree
    assert first_failure(out) == "linear_parameters(120, 84) returned 10200, expected 10164"
