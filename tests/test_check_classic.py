"""The chapter 11 checkers: full marks for right answers, the failing case and hint for wrong ones."""

import pytest
import torch

from lenet_course import check
from lenet_course.paper.network import C3_TABLE


def _right_c3(i):
    if i < 6:
        return tuple((i + k) % 6 for k in range(3))
    if i < 12:
        return tuple((i - 6 + k) % 6 for k in range(4))
    if i < 15:
        s = i - 12
        return tuple(sorted({s, s + 1, (s + 3) % 6, (s + 4) % 6}))
    return tuple(range(6))


def test_c3_row(capsys):
    assert check.c3_row(_right_c3)
    assert capsys.readouterr().out == "Exercise 11.1: 17/17 cases correct. Well done!\n"
    assert not check.c3_row(lambda i: tuple(range(6)))
    out = capsys.readouterr().out
    assert "First failing case: c3_row(0): returned (0, 1, 2, 3, 4, 5), expected (0, 1, 2)" in out
    assert "Hint: maps 0-5" in out
    assert check.c3_row(lambda i: C3_TABLE[i])


def test_rbf_penalties(capsys):
    assert check.rbf_penalties(lambda x, w: ((x[:, None] - w[None]) ** 2).sum(-1))
    assert capsys.readouterr().out == "Exercise 11.2: 5/5 cases correct. Well done!\n"
    assert not check.rbf_penalties(lambda x, w: ((x[:, None] - w[None]).abs()).sum(-1))
    out = capsys.readouterr().out
    assert "Exercise 11.2: 2/5" in out and "y_1" in out and "Hint: subtract every bitmap" in out


def test_map_loss(capsys):
    def right(y, t, j):
        z = torch.cat([-y, torch.full_like(y[:, :1], -j)], 1)
        return (y.gather(1, t[:, None]).squeeze(1) + torch.logsumexp(z, 1)).mean()

    def no_rubbish(y, t, j):
        return (y.gather(1, t[:, None]).squeeze(1) + torch.logsumexp(-y, 1)).mean()

    assert check.map_loss(right)
    assert capsys.readouterr().out == "Exercise 11.3: 4/4 cases correct. Well done!\n"
    assert not check.map_loss(no_rubbish)
    assert "First failing case: one sample" in capsys.readouterr().out


def test_not_implemented_propagates():
    def stub(*args):
        raise NotImplementedError("Exercise 11.x")

    for checker in (check.c3_row, check.rbf_penalties, check.map_loss):
        with pytest.raises(NotImplementedError):
            checker(stub)
