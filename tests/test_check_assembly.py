"""The chapter 6 checkers: the forward pass and the parameter counts."""

import pytest
import torch
from torch import nn

from lenet_course import check


class Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.f7 = nn.Linear(84, 10)
        self.tanh = nn.Tanh()


class Right(Layers):
    def forward(self, x):
        x = self.s2(self.tanh(self.c1(x)))
        x = self.s4(self.tanh(self.c3(x)))
        x = self.tanh(self.c5(x)).flatten(1)
        return self.f7(self.tanh(self.f6(x)))


class SoftmaxAtTheEnd(Right):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class FlattenEverything(Right):
    def forward(self, x):
        x = self.s2(self.tanh(self.c1(x)))
        x = self.s4(self.tanh(self.c3(x)))
        x = self.tanh(self.c5(x)).flatten()
        return self.f7(self.tanh(self.f6(x)))


def test_lenet_forward_right(capsys):
    assert check.lenet_forward(Right)
    assert capsys.readouterr().out == "Exercise 6.1: 4/4 cases correct. Well done!\n"
    assert check.lenet_forward(Right())  # an instance works too


def test_lenet_forward_does_not_touch_global_rng():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check.lenet_forward(Right)
    assert torch.equal(torch.rand(3), expected)


def test_lenet_forward_softmax(capsys):
    assert not check.lenet_forward(SoftmaxAtTheEnd)
    out = capsys.readouterr().out
    assert "2/4 cases correct" in out
    assert "output (logits) for 1 image:" in out
    assert "no activation after f7" in out


def test_lenet_forward_flatten_all(capsys):
    check.lenet_forward(FlattenEverything)
    out = capsys.readouterr().out
    assert "First failing case: output shape for a batch of 1 image: returned (10,), expected (1, 10)" in out


def test_lenet_forward_not_implemented_propagates():
    class Stub(Layers):
        def forward(self, x):
            raise NotImplementedError("Exercise 6.1")

    with pytest.raises(NotImplementedError):
        check.lenet_forward(Stub)


def test_parameter_counts(capsys):
    right = {"c1": 156, "s2": 0, "c3": 2416, "s4": 0, "c5": 48120, "f6": 10164, "f7": 850}
    assert sum(right.values()) == 61706
    assert check.parameter_counts(right)
    assert capsys.readouterr().out == "Exercise 6.2: 8/8 cases correct. Well done!\n"
    no_bias = dict(right, f6=10080)
    assert not check.parameter_counts(no_bias)
    out = capsys.readouterr().out
    assert "6/8 cases correct" in out
    assert "params['f6']: returned 10080, expected 10164" in out
    assert "out_features x (in_features + 1)" in out
    check.parameter_counts({k: v for k, v in right.items() if k != "s2"})
    assert "params['s2']: raised KeyError: 's2'" in capsys.readouterr().out
