"""The chapter 3 checkers: 2x2 average pooling by tensor operations, S2's counts."""

import pytest
import torch.nn.functional as F

from lenet_course import check


def slicing_pool(x):
    return (x[..., 0::2, 0::2] + x[..., 1::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 1::2]) / 4


def test_slicing_matches_avgpool(capsys):
    assert check.avg_pool_2x2(slicing_pool)
    assert capsys.readouterr().out == "Exercise 3.1: 5/5 cases correct. Well done!\n"


def test_max_pooling_is_not_average_pooling(capsys):
    assert not check.avg_pool_2x2(lambda x: F.max_pool2d(x, 2))
    out = capsys.readouterr().out
    assert "Exercise 3.1: 0/5 cases correct." in out
    assert "First failing case: a 1x1x2x2 batch returned a tensor of shape (1, 1, 1, 1)" in out


def test_the_sum_of_four_is_not_the_mean(capsys):
    assert not check.avg_pool_2x2(lambda x: 4 * slicing_pool(x))
    assert "0/5 cases correct" in capsys.readouterr().out


def test_overlapping_windows_give_the_wrong_shape(capsys):
    assert not check.avg_pool_2x2(lambda x: F.avg_pool2d(x, 2, stride=1))
    assert "returned a tensor of shape (1, 1, 3, 3), expected a tensor of shape (1, 1, 2, 2)" in capsys.readouterr().out


def test_s2_counts(capsys):
    assert check.s2_counts(12, 5_880)
    assert capsys.readouterr().out == "Exercise 3.2: 2/2 cases correct. Well done!\n"
    assert not check.s2_counts(12, 4_704)
    out = capsys.readouterr().out
    assert "S2's connections returned 4704, expected 5880" in out
    assert "its bias included" in out


def test_not_implemented_propagates():
    def stub(x):
        raise NotImplementedError("Exercise 3.1")

    with pytest.raises(NotImplementedError):
        check.avg_pool_2x2(stub)
