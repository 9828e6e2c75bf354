"""The chapter 5 checkers: C5's size, softmax, the RBF output."""

import pytest
import torch

from lenet_course import check, conv_output_size, pool_output_size


def c5_output_size(size):
    for step in range(5):
        size = conv_output_size(size, 5) if step % 2 == 0 else pool_output_size(size, 2)
    return size


def test_c5_output_size_right(capsys):
    assert c5_output_size(32) == 1 and c5_output_size(36) == 2
    assert check.c5_output_size(c5_output_size)
    assert capsys.readouterr().out == "Exercise 5.1: 7/7 cases correct. Well done!\n"


def test_c5_output_size_plain_arithmetic_misses_the_error(capsys):
    def arithmetic(size):
        return ((size - 4) // 2 - 4) // 2 - 4

    assert not check.c5_output_size(arithmetic)
    out = capsys.readouterr().out
    assert "6/7 cases correct" in out
    assert "c5_output_size(28): returned 0, expected it to raise ValueError" in out


def test_c5_output_size_not_implemented_propagates():
    with pytest.raises(NotImplementedError):
        check.c5_output_size(lambda size: (_ for _ in ()).throw(NotImplementedError("Exercise 5.1")))


def stable_softmax(z):
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def test_softmax_right(capsys):
    assert check.softmax(stable_softmax)
    assert capsys.readouterr().out == "Exercise 5.2: 5/5 cases correct. Well done!\n"


def test_softmax_naive_overflows(capsys):
    assert not check.softmax(lambda z: torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True))
    out = capsys.readouterr().out
    assert "4/5 cases correct" in out
    assert (
        "softmax of [[1000, 1001, 1002]] (large logits): returned [nan, nan, nan], expected [0.09, 0.2447, 0.6652]"
        in out
    )
    assert "subtract each row's maximum" in out


def test_softmax_wrong_dimension(capsys):
    check.softmax(lambda z: torch.softmax(z, dim=0))
    out = capsys.readouterr().out
    assert "First failing case: softmax of a (4, 10) batch of logits:" in out


def test_softmax_not_implemented_propagates():
    def stub(z):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.softmax(stub)


def test_rbf_output(capsys):
    assert check.rbf_output(lambda x, w: torch.cdist(x, w) ** 2)
    assert capsys.readouterr().out == "Exercise 5.3: 3/3 cases correct. Well done!\n"
    assert not check.rbf_output(lambda x, w: torch.cdist(x, w))  # forgot the square
    out = capsys.readouterr().out
    assert "1/3 cases correct" in out
    assert "First failing case: one input of 3 features, 2 classes:" in out
    assert "(x[n, j] - w[i, j]) squared" in out


def test_rbf_output_not_implemented_propagates():
    def stub(x, w):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.rbf_output(stub)
