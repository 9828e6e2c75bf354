"""The chapter 5 checkers: C5's size, softmax, the RBF output."""

import torch

from lenet_course import check
from lenet_course.shapes import conv_output_size
from tests.checker_answers import first_failure, judge


def _floor_pooling(size):
    for step in ("conv", "pool", "conv", "pool", "conv"):
        if step == "conv":
            size = conv_output_size(size, 5)
        else:
            size = size // 2  # what nn.AvgPool2d does with an odd size
    return size


def _arithmetic_issue(size):
    if size < 32:
        raise ValueError("too small for LeNet-5")
    return (size - 28) // 4


def _arithmetic_right(size):
    if size < 32 or size % 4:
        raise ValueError(f"a {size}x{size} image does not fit LeNet-5's layers exactly")
    return (size - 28) // 4


def _loop(size):
    for kernel, stride in [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]:
        size = conv_output_size(size, kernel, 0, stride)
    return size


def _naive(z):
    e = torch.exp(z)
    return e / e.sum(dim=1, keepdim=True)


def _batch_max(z):
    e = torch.exp(z - z.max())
    return e / e.sum(dim=1, keepdim=True)


def _row_mean(z):
    e = torch.exp(z - z.mean(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)


def _expanded(x, w):
    return (x**2).sum(1, keepdim=True) - 2 * x @ w.T + (w**2).sum(1)


def _loops(x, w):
    y = torch.zeros(x.shape[0], w.shape[0], dtype=x.dtype)
    for n in range(x.shape[0]):
        for i in range(w.shape[0]):
            y[n, i] = ((x[n] - w[i]) ** 2).sum()
    return y


CHECKERS = {"5.1": check.c5_output_size, "5.2": check.softmax, "5.3": check.rbf_output}

WRONG = {
    "5.1": {
        "(size - 28) // 4 after size < 32": _arithmetic_issue,
        "PyTorch-style floor pooling": _floor_pooling,
        "a float": lambda size: (size - 28) / 4,
        "off by one": lambda size: _arithmetic_right(size) + 1,
        "never raises": lambda size: max(0, (size - 28) // 4),
    },
    "5.2": {
        "no shift (overflows)": _naive,
        "one maximum for the whole batch": _batch_max,
        "the row mean": _row_mean,
        "normalised over the columns": lambda z: torch.exp(z - z.max(0).values) / torch.exp(z - z.max(0).values).sum(0),
        "float64 always": lambda z: torch.softmax(z.double(), dim=1),
        "the logits themselves": lambda z: z,
    },
    "5.3": {
        "a dot product": lambda x, w: x @ w.T,
        "distances, not squared": lambda x, w: torch.cdist(x, w),
        "absolute differences": lambda x, w: (x[:, None, :] - w[None, :, :]).abs().sum(dim=2),
        "summed over the wrong axis": lambda x, w: ((x[:, None, :] - w[None, :, :]) ** 2).sum(dim=1),
        "transposed": lambda x, w: ((x[:, None, :] - w[None, :, :]) ** 2).sum(dim=2).T,
    },
}

RIGHT = {
    "5.1": {"arithmetic with the divisibility check": _arithmetic_right, "a loop over the layers": _loop},
    "5.2": {
        "logsumexp": lambda z: torch.exp(z - torch.logsumexp(z, dim=1, keepdim=True)),
        "amax shift": lambda z: (
            torch.exp(z - z.amax(1, keepdim=True)) / torch.exp(z - z.amax(1, keepdim=True)).sum(1, keepdim=True)
        ),
        "torch.softmax": lambda z: torch.softmax(z, dim=-1),
    },
    "5.3": {
        "squared cdist": lambda x, w: torch.cdist(x, w) ** 2,
        "expanded square": _expanded,
        "loops": _loops,
    },
}


def test_the_issues_wrong_sizes_are_caught(capsys):
    verdict, out = judge(check.c5_output_size, _arithmetic_issue, capsys)
    assert (verdict.passed, verdict.total) == (9, 11)
    assert first_failure(out) == "c5_output_size(34): returned 1, expected it to raise ValueError"
    verdict, out = judge(check.c5_output_size, _floor_pooling, capsys)
    assert first_failure(out) == "c5_output_size(34): returned 1, expected it to raise ValueError"
    _, out = judge(check.c5_output_size, WRONG["5.1"]["a float"], capsys)
    assert first_failure(out) == "c5_output_size(32): returned 1.0, a float, where an int is expected"


def test_softmax_batch_max_and_row_mean_give_nan_where_shown(capsys):
    verdict, out = judge(check.softmax, _batch_max, capsys)
    assert first_failure(out) == (
        "softmax of [[1000, 1001], [0, 1]] (rows far apart): returned a tensor whose values differ from the expected "
        "ones: at [1, 0] it holds nan where 0.268941 is expected; 2 of 4 values differ, the largest difference is nan"
    )
    verdict, out = judge(check.softmax, _row_mean, capsys)
    assert (verdict.passed, verdict.total) == (8, 9)
    assert first_failure(out).startswith("softmax of [[-2000, 0]] (one logit far below the other): returned a tensor")
    verdict, out = judge(check.softmax, _naive, capsys)
    assert first_failure(out).startswith("softmax of [[1000, 1001, 1002]] (large logits): returned a tensor")


def test_rbf_output_transposed_shape(capsys):
    _, out = judge(check.rbf_output, WRONG["5.3"]["transposed"], capsys)
    assert (
        first_failure(out)
        == "one input of 3 features, 2 classes: returned a tensor of shape (2, 1), expected shape (1, 2)"
    )
