"""The chapter 2 checkers: C1's counts by hand and a convolution by loops."""

import torch
import torch.nn.functional as F
from torch import nn

from lenet_course import check
from tests.checker_answers import first_failure, judge


def _loops(image, kernel, bias=0.0):
    fh, fw = kernel.shape
    rows = []
    for i in range(image.shape[0] - fh + 1):
        rows.append(
            [float((image[i : i + fh, j : j + fw] * kernel).sum()) + bias for j in range(image.shape[1] - fw + 1)]
        )
    return torch.tensor(rows)


def _flipped(image, kernel, bias=0.0):
    return _loops(image, torch.flip(kernel, dims=(0, 1)), bias)


def _swapped(image, kernel, bias=0.0):
    return _loops(image, kernel.reshape(kernel.shape[1], kernel.shape[0]), bias)


def _off_by_one(image, kernel, bias=0.0):
    return _loops(image, kernel, bias)[:-1, :-1]


def _unfold(image, kernel, bias=0.0):
    fh, fw = kernel.shape
    patches = image.unfold(0, fh, 1).unfold(1, fw, 1)  # (H-fh+1, W-fw+1, fh, fw)
    return (patches * kernel).sum(dim=(-2, -1)) + bias


CHECKERS = {"2.1": lambda a: check.c1_counts(*a), "2.2": check.conv2d_single_channel}

WRONG = {
    "2.1": {
        "no biases": (6 * 25, 6 * 28 * 28 * 25),
        "connections off by one": (6 * (5 * 5 + 1), 6 * 28 * 28 * 26 - 1),
        "connections of a 32x32 output": (156, 6 * 32 * 32 * 26),
        "a float": (156.0, 122_304.0),
        "swapped": (122_304, 156),
        "parameters once per position": (6 * 28 * 28 * 26, 122_304),
    },
    "2.2": {
        "a flipped kernel (true convolution)": _flipped,
        "no bias": lambda image, kernel, bias=0.0: _loops(image, kernel),
        "one position short": _off_by_one,
        "kernel sides swapped": _swapped,
        "float64": lambda image, kernel, bias=0.0: _loops(image, kernel, bias).double(),
    },
}

RIGHT = {
    "2.1": {
        "typed in": (156, 122_304),
        "counted by PyTorch and the formula": (
            sum(p.numel() for p in nn.Conv2d(1, 6, 5).parameters()),
            (5 * 5 + 1) * 28 * 28 * 6,
        ),
    },
    "2.2": {
        "Python floats then a tensor": _loops,
        "unfold": _unfold,
        "F.conv2d": lambda image, kernel, bias=0.0: F.conv2d(image[None, None], kernel[None, None])[0, 0] + bias,
    },
}


def test_c1_counts_name_the_variable_and_do_not_give_the_count_away(capsys):
    verdict, out = judge(CHECKERS["2.1"], WRONG["2.1"]["connections off by one"], capsys)
    assert (verdict.passed, verdict.total) == (1, 2)
    assert first_failure(out) == "c1_connections, C1's connections, is 122303, which is too small"
    assert "122304" not in out and "122,304" not in out
    _, out = judge(CHECKERS["2.1"], WRONG["2.1"]["a float"], capsys)
    assert first_failure(out) == "c1_parameters, C1's trainable parameters, is 156.0, a float, where an int is expected"


def test_a_flipped_kernel_shows_where_the_values_differ(capsys):
    verdict, out = judge(check.conv2d_single_channel, _flipped, capsys)
    assert verdict.passed == 0 and verdict.total == 6
    line = first_failure(out)
    assert line.startswith(
        "a 3x3 image and a 2x2 kernel returned a tensor whose values differ from the expected ones: at [0, 0]"
    )
    assert "the largest difference is" in line


def test_a_wrong_shape_is_reported_not_raised(capsys):
    verdict, out = judge(check.conv2d_single_channel, _off_by_one, capsys)
    assert verdict.passed == 0
    assert first_failure(out) == "a 3x3 image and a 2x2 kernel returned a tensor of shape (1, 1), expected shape (2, 2)"


def test_a_float64_result_is_refused_for_its_dtype(capsys):
    _, out = judge(check.conv2d_single_channel, WRONG["2.2"]["float64"], capsys)
    assert first_failure(out) == "a 3x3 image and a 2x2 kernel returned a tensor of dtype float64, expected float32"
