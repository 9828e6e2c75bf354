"""The chapter 7 checkers: padding, the transform pipeline, class counts."""

import pytest
import torch
from torchvision import transforms

from lenet_course import check


def padding_for(size, target=32):
    difference = target - size
    if difference < 0 or difference % 2:
        raise ValueError(f"cannot pad {size} to {target} evenly")
    return difference // 2


def test_padding_for(capsys):
    assert check.padding_for(padding_for)
    assert capsys.readouterr().out == "Exercise 7.1: 6/6 cases correct. Well done!\n"
    assert not check.padding_for(lambda size, target=32: (target - size) // 2)
    out = capsys.readouterr().out
    assert "4/6 cases correct" in out
    assert "padding_for(28, target=31) (odd difference): returned 1, expected it to raise ValueError" in out


def test_padding_for_not_implemented_propagates():
    def stub(size, target=32):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.padding_for(stub)


def test_mnist_transform(capsys):
    assert check.mnist_transform(transforms.Compose([transforms.Pad(2), transforms.ToTensor()]))
    assert capsys.readouterr().out == "Exercise 7.2: 5/5 cases correct. Well done!\n"


def test_mnist_transform_resize_fails(capsys):
    assert not check.mnist_transform(transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()]))
    out = capsys.readouterr().out
    assert "2/5 cases correct" in out  # right shape and dtype, wrong pixels
    assert "First failing case: pixels of test image 0:" in out
    assert "no Resize" in out


def test_mnist_transform_without_to_tensor(capsys):
    check.mnist_transform(transforms.Pad(2))
    out = capsys.readouterr().out
    assert "0/5 cases correct" in out
    assert "output shape: raised" in out


def test_mnist_transform_not_implemented_propagates():
    def stub(image):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.mnist_transform(stub)


def test_class_counts(capsys):
    assert check.class_counts(lambda labels: torch.bincount(labels, minlength=10).tolist())
    assert capsys.readouterr().out == "Exercise 7.3: 4/4 cases correct. Well done!\n"
    assert not check.class_counts(lambda labels: torch.bincount(labels).tolist())
    out = capsys.readouterr().out
    assert "3/4 cases correct" in out  # right whenever the labels happen to contain a 9
    assert "class_counts of five 7s: returned [0, 0, 0, 0, 0, 0, 0, 5], expected [0, 0, 0, 0, 0, 0, 0, 5, 0, 0]" in out
    assert "counting 0 for a digit that never occurs" in out


def test_class_counts_not_implemented_propagates():
    def stub(labels):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.class_counts(stub)
