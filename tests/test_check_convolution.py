"""The chapter 2 checkers: C1's counts and a convolution written with loops."""

import pytest
import torch

from lenet_course import check


def loop_conv(image, kernel, bias=0.0):
    fh, fw = kernel.shape
    out = torch.zeros(image.shape[0] - fh + 1, image.shape[1] - fw + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i : i + fh, j : j + fw] * kernel).sum() + bias
    return out


def test_c1_counts(capsys):
    assert check.c1_counts(156, 122_304)
    assert capsys.readouterr().out == "Exercise 2.1: 2/2 cases correct. Well done!\n"


def test_c1_counts_without_biases(capsys):
    assert not check.c1_counts(150, 117_600)
    out = capsys.readouterr().out
    assert "0/2 cases correct" in out
    assert "C1's parameters returned 150, expected 156" in out


def test_loops_match_pytorch(capsys):
    assert check.conv2d_single_channel(loop_conv)
    assert capsys.readouterr().out == "Exercise 2.2: 6/6 cases correct. Well done!\n"


def test_a_flipped_kernel_is_caught(capsys):
    assert not check.conv2d_single_channel(lambda x, k, b=0.0: loop_conv(x, k.flip(0, 1), b))
    out = capsys.readouterr().out
    assert "First failing case: a 3x3 image and a 2x2 kernel returned a tensor of shape (2, 2)" in out
    assert "Do not flip the kernel" in out


def test_a_forgotten_bias_is_caught(capsys):
    assert not check.conv2d_single_channel(lambda x, k, b=0.0: loop_conv(x, k))
    out = capsys.readouterr().out
    assert "Exercise 2.2: 3/6 cases correct." in out
    assert "a 5x5 image and a 3x3 kernel, bias 0.5" in out


def test_a_wrong_shape_is_reported_not_raised(capsys):
    assert not check.conv2d_single_channel(lambda x, k, b=0.0: x)
    assert "returned a tensor of shape (3, 3), expected a tensor of shape (2, 2)" in capsys.readouterr().out


def test_not_implemented_propagates():
    def stub(image, kernel, bias=0.0):
        raise NotImplementedError("Exercise 2.2")

    with pytest.raises(NotImplementedError):
        check.conv2d_single_channel(stub)
