import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lenet_course.shapes import conv_output_size, pool_output_size


def test_lenet5_shapes():
    assert conv_output_size(32, 5) == 28
    assert pool_output_size(28, 2) == 14
    assert conv_output_size(14, 5) == 10
    assert pool_output_size(10, 2) == 5
    assert conv_output_size(5, 5) == 1


def test_non_tiling_error_shows_the_arithmetic():
    with pytest.raises(ValueError, match=r"\(28 - 5 \+ 2\*0\) / 2 \+ 1 = 12\.5 is not a whole number"):
        conv_output_size(28, 5, stride=2)


def test_kernel_larger_than_input_is_below_one():
    with pytest.raises(ValueError, match=r"\(3 - 5 \+ 2\*0\) / 1 \+ 1 = -1 is below 1"):
        conv_output_size(3, 5)


@pytest.mark.parametrize(
    "bad",
    [
        dict(size=0, kernel=1),
        dict(size=5, kernel=0),
        dict(size=5, kernel=1, stride=0),
        dict(size=5, kernel=1, padding=-1),
    ],
)
def test_out_of_range_arguments(bad):
    with pytest.raises(ValueError, match="must be at least"):
        conv_output_size(**bad)


def test_non_integer_arguments():
    with pytest.raises(TypeError, match="whole number"):
        conv_output_size(32.0, 5)


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 9),
    padding=st.integers(0, 4),
    stride=st.integers(1, 4),
)
def test_formula_matches_conv2d(size, kernel, padding, stride):
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    span = size - kernel + 2 * padding
    if span < 0:
        with pytest.raises(ValueError):
            conv_output_size(size, kernel, padding, stride)
        with pytest.raises(RuntimeError):
            layer(torch.zeros(1, 1, size, size))
        return
    out = layer(torch.zeros(1, 1, size, size)).shape[-1]
    if span % stride:
        with pytest.raises(ValueError, match="is not a whole number"):
            conv_output_size(size, kernel, padding, stride)
        assert out == span // stride + 1  # PyTorch silently drops the positions that do not fit
    else:
        assert conv_output_size(size, kernel, padding, stride) == out


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 6), stride=st.integers(1, 4))
def test_formula_matches_avgpool2d(size, kernel, stride):
    if size < kernel or (size - kernel) % stride:
        with pytest.raises(ValueError):
            pool_output_size(size, kernel, stride)
        return
    out = nn.AvgPool2d(kernel, stride=stride)(torch.zeros(1, 1, size, size)).shape[-1]
    assert pool_output_size(size, kernel, stride) == out
