"""The chapter 6 checkers: the forward pass of a learner's LeNet-5 and the parameter count by hand."""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from lenet_course import LeNet5, check
from tests.checker_answers import first_failure, judge


class _Layers(nn.Module):
    """The chapter's __init__; subclasses write forward."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = nn.AvgPool2d(kernel_size=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = nn.AvgPool2d(kernel_size=2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.f7 = nn.Linear(84, num_classes)
        self.tanh = nn.Tanh()


def _net(forward):
    return type("MyLeNet5", (_Layers,), {"forward": forward})


def _trunk(self, x):
    x = self.s2(torch.tanh(self.c1(x)))
    x = self.s4(torch.tanh(self.c3(x)))
    return torch.tanh(self.c5(x))


class _Renamed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.c3, self.c5 = nn.Conv2d(6, 16, 5), nn.Conv2d(16, 120, 5)
        self.f6, self.f7 = nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        return x


class _Sequential(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.s2 = nn.Conv2d(1, 6, 5), nn.AvgPool2d(2)
        self.c3, self.s4 = nn.Conv2d(6, 16, 5), nn.AvgPool2d(2)
        self.c5, self.f6, self.f7 = nn.Conv2d(16, 120, 5), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        steps = [self.c1, torch.tanh, self.s2, self.c3, torch.tanh, self.s4, self.c5, torch.tanh, nn.Flatten()]
        for step in steps + [self.f6, torch.tanh, self.f7]:
            x = step(x)
        return x


CHECKERS = {"6.1": check.lenet_forward, "6.2": check.parameter_counts}

WRONG = {
    "6.1": {
        "softmax after f7": _net(
            lambda self, x: F.softmax(self.f7(torch.tanh(self.f6(_trunk(self, x).flatten(1)))), 1)
        ),
        "tanh after f7": _net(lambda self, x: torch.tanh(self.f7(torch.tanh(self.f6(_trunk(self, x).flatten(1)))))),
        "no tanh after f6": _net(lambda self, x: self.f7(self.f6(_trunk(self, x).flatten(1)))),
        "relu": _net(
            lambda self, x: self.f7(
                F.relu(self.f6(F.relu(self.c5(self.s4(F.relu(self.c3(self.s2(F.relu(self.c1(x))))))))).flatten(1))
            )
        ),
        "S4 skipped": _net(lambda self, x: self.f7(torch.tanh(self.f6(torch.tanh(self.c5(self.s2(x))).flatten(1))))),
        "flatten without a start": _net(lambda self, x: self.f7(torch.tanh(self.f6(torch.flatten(_trunk(self, x)))))),
        "layers renamed": _Renamed,
    },
    "6.2": {
        "the paper's trainable S2 and S4": {
            "c1": 156,
            "s2": 12,
            "c3": 2416,
            "s4": 32,
            "c5": 48120,
            "f6": 10164,
            "f7": 850,
        },
        "no biases": {"c1": 150, "s2": 0, "c3": 2400, "s4": 0, "c5": 48000, "f6": 10080, "f7": 840},
        "the paper's C3 table": {"c1": 156, "s2": 0, "c3": 1516, "s4": 0, "c5": 48120, "f6": 10164, "f7": 850},
        "floats": {"c1": 156.0, "s2": 0, "c3": 2416, "s4": 0, "c5": 48120, "f6": 10164, "f7": 850},
        "f7 missing": {"c1": 156, "s2": 0, "c3": 2416, "s4": 0, "c5": 48120, "f6": 10164},
        "a tanh entry too": {"c1": 156, "s2": 0, "c3": 2416, "s4": 0, "c5": 48120, "f6": 10164, "f7": 850, "tanh": 0},
    },
}

RIGHT = {
    "6.1": {
        "functional tanh and view": _net(lambda self, x: self.f7(F.tanh(self.f6(_trunk(self, x).view(x.size(0), -1))))),
        "a loop over the steps": _Sequential,
        "an instance, not the class": _net(
            lambda self, x: self.f7(self.tanh(self.f6(torch.flatten(_trunk(self, x), 1))))
        )(),
    },
    "6.2": {
        "counted from the package": {
            name: sum(p.numel() for p in getattr(LeNet5(), name).parameters())
            for name in ("c1", "s2", "c3", "s4", "c5", "f6", "f7")
        },
        "an OrderedDict in another order": OrderedDict(
            f7=(84 + 1) * 10,
            f6=(120 + 1) * 84,
            c5=(16 * 25 + 1) * 120,
            s4=0,
            c3=(6 * 25 + 1) * 16,
            s2=0,
            c1=(25 + 1) * 6,
        ),
    },
}


def test_renamed_layers_show_the_missing_keys(capsys):
    verdict, out = judge(check.lenet_forward, _Renamed, capsys)
    assert verdict.passed == 0
    assert first_failure(out) == (
        "output shape for a batch of 1 image: raised RuntimeError: Error(s) in loading state_dict for _Renamed: / "
        'Missing key(s) in state_dict: "conv1.weight", "conv1.bias". / Unexpected key(s) in state_dict: '
        '"c1.weight", "c1.bias".'
    )


def test_a_softmax_output_shows_where_it_differs(capsys):
    verdict, out = judge(check.lenet_forward, WRONG["6.1"]["softmax after f7"], capsys)
    assert (verdict.passed, verdict.total) == (2, 4)
    line = first_failure(out)
    assert line.startswith(
        "output (logits) for 1 image: returned a tensor whose values differ from the expected ones: at [0, 0]"
    )


def test_a_shape_error_names_the_layer(capsys):
    _, out = judge(check.lenet_forward, WRONG["6.1"]["S4 skipped"], capsys)
    assert first_failure(out) == (
        "output shape for a batch of 1 image: raised RuntimeError: Given groups=1, weight of size [120, 16, 5, 5], "
        "expected input[1, 1, 16, 16] to have 16 channels, but got 1 channels instead"
    )


def test_parameter_counts_keep_the_counts_hidden(capsys):
    verdict, out = judge(check.parameter_counts, WRONG["6.2"]["the paper's C3 table"], capsys)
    assert (verdict.passed, verdict.total) == (7, 8)
    assert first_failure(out) == "params['c3'] is 1516, which is too small"
    _, out = judge(check.parameter_counts, WRONG["6.2"]["a tanh entry too"], capsys)
    assert first_failure(out) == "the keys of params are c1, c3, c5, f6, f7, s2, s4, tanh: extra tanh"
    _, out = judge(check.parameter_counts, WRONG["6.2"]["f7 missing"], capsys)
    assert first_failure(out) == "the keys of params are c1, c3, c5, f6, s2, s4: missing f7"


def test_building_the_learners_model_leaves_the_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check.lenet_forward(RIGHT["6.1"]["a loop over the steps"])
    assert torch.equal(torch.rand(3), expected)
