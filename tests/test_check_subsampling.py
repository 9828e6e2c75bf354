"""The chapter 3 checkers: average pooling by slicing and S2's counts by hand."""

import torch.nn.functional as F

from lenet_course import check
from tests.checker_answers import first_failure, judge


def _reshape_mean(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(dim=(3, 5))


def _wrong_reshape(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, w // 2, 4).mean(dim=-1)


CHECKERS = {"3.1": check.avg_pool_2x2, "3.2": lambda a: check.s2_counts(*a)}

WRONG = {
    "3.1": {
        "max pooling": lambda x: F.max_pool2d(x, 2),
        "the sum, not the mean": lambda x: (
            x[..., 0::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 0::2] + x[..., 1::2, 1::2]
        ),
        "the top-left pixel only": lambda x: x[..., ::2, ::2],
        "overlapping windows": lambda x: F.avg_pool2d(x, 2, stride=1),
        "a reshape that mixes rows": _wrong_reshape,
    },
    "3.2": {
        "only the coefficients": (6, 5_880),
        "connections off by one": (12, 5_879),
        "no bias connections": (12, 6 * 14 * 14 * 4),
        "connections of the input size": (12, 6 * 28 * 28 * 5),
        "floats": (12.0, 5880.0),
    },
}

RIGHT = {
    "3.1": {
        "reshape and mean": _reshape_mean,
        "F.avg_pool2d": lambda x: F.avg_pool2d(x, kernel_size=2),
        "unfold": lambda x: x.unfold(2, 2, 2).unfold(3, 2, 2).mean(dim=(-2, -1)),
    },
    "3.2": {
        "typed in": (12, 5880),
        "written otherwise": ((1 + 1) * 6, (4 + 1) * 14 * 14 * 6),
    },
}


def test_max_pooling_shows_where_it_differs(capsys):
    verdict, out = judge(check.avg_pool_2x2, WRONG["3.1"]["max pooling"], capsys)
    assert verdict.passed == 0
    assert first_failure(out) == (
        "a 1x1x2x2 batch returned a tensor whose values differ from the expected ones: at [0, 0, 0, 0] it holds 6 "
        "where 3 is expected; 1 of 1 values differ, the largest difference is 3"
    )


def test_overlapping_windows_give_the_wrong_shape(capsys):
    verdict, out = judge(check.avg_pool_2x2, WRONG["3.1"]["overlapping windows"], capsys)
    assert verdict.passed == 1  # a 2x2 input has one window either way
    assert first_failure(out) == (
        "a 1x1x4x4 batch of 0..15 returned a tensor of shape (1, 1, 3, 3), expected shape (1, 1, 2, 2)"
    )


def test_s2_counts_name_the_variable(capsys):
    verdict, out = judge(CHECKERS["3.2"], WRONG["3.2"]["connections off by one"], capsys)
    assert (verdict.passed, verdict.total) == (1, 2)
    assert first_failure(out) == "s2_connections, S2's connections, is 5879, which is too small"
