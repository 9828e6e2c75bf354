"""The chapter 7 checkers: padding, the transform pipeline, class counts."""

import collections

import numpy as np
import torch
import torch.nn.functional as F
from torchvision import transforms
from torchvision.transforms import v2

from lenet_course import check
from tests.checker_answers import first_failure, judge


def _divmod(size, target=32):
    half, odd = divmod(target - size, 2)
    if odd or half < 0:
        raise ValueError(f"{size} cannot be padded evenly to {target}")
    return half


def _int_of_half(size, target=32):
    if size > target or (target - size) % 2:
        raise ValueError("cannot pad evenly")
    return int((target - size) / 2)


def _no_odd_check(size, target=32):
    if size > target:
        raise ValueError("too big")
    return (target - size) // 2


def _no_size_check(size, target=32):
    if (target - size) % 2:
        raise ValueError("odd")
    return (target - size) // 2


def _issue_float(size, target=32):
    if size > target or (target - size) % 2:
        raise ValueError("cannot pad evenly")
    return (target - size) / 2


CHECKERS = {"7.1": check.padding_for, "7.2": check.mnist_transform, "7.3": check.class_counts}

WRONG = {
    "7.1": {
        "(target - size) / 2": _issue_float,
        "no check of an odd difference": _no_odd_check,
        "no check of a bigger image": _no_size_check,
        "the whole difference": lambda size, target=32: target - size,
    },
    "7.2": {
        "resize instead of pad": transforms.Compose([transforms.Resize(32), transforms.ToTensor()]),
        "padding with white": transforms.Compose([transforms.Pad(2, fill=255), transforms.ToTensor()]),
        "normalised": transforms.Compose(
            [transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        ),
        "padded by 4": transforms.Compose([transforms.Pad(4), transforms.ToTensor()]),
        "no ToTensor": transforms.Pad(2),
        "integer pixels": transforms.Compose([transforms.Pad(2), transforms.PILToTensor()]),
    },
    "7.3": {
        "bincount without minlength": lambda labels: torch.bincount(labels).tolist(),
        "a tensor": lambda labels: torch.bincount(labels, minlength=10),
        "a Counter": lambda labels: collections.Counter(labels.tolist()),
        "nine classes": lambda labels: [int((labels == d).sum()) for d in range(9)],
        "floats from histc": lambda labels: torch.histc(labels.float(), bins=10, min=0, max=9).tolist(),
    },
}

RIGHT = {
    "7.1": {"divmod": _divmod, "int of a half after the checks": _int_of_half},
    "7.2": {
        "ToTensor, then Pad": transforms.Compose([transforms.ToTensor(), transforms.Pad(2)]),
        "transforms v2": v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Pad(2)]),
        "a plain function": lambda image: F.pad(torch.from_numpy(np.array(image)).float().div(255)[None], (2, 2, 2, 2)),
    },
    "7.3": {
        "a comprehension": lambda labels: [int((labels == d).sum()) for d in range(10)],
        "a Counter read in order": lambda labels: [collections.Counter(labels.tolist())[d] for d in range(10)],
        "numpy": lambda labels: np.bincount(labels.numpy(), minlength=10).tolist(),
    },
}


def test_a_float_padding_is_refused_before_it_breaks_pad(capsys):
    verdict, out = judge(check.padding_for, _issue_float, capsys)
    assert (verdict.passed, verdict.total) == (4, 9)
    assert first_failure(out) == "padding_for(28): returned 2.0, a float, where an int is expected"
    _, out = judge(check.padding_for, _no_odd_check, capsys)
    assert first_failure(out) == (
        "padding_for(28, target=31) (odd difference): returned 1, expected it to raise ValueError"
    )
    _, out = judge(check.padding_for, _no_size_check, capsys)
    assert first_failure(out) == "padding_for(36) (already too big): returned -2, expected it to raise ValueError"


def test_mnist_transform_feedback(capsys):
    verdict, out = judge(check.mnist_transform, WRONG["7.2"]["padding with white"], capsys)
    assert (verdict.passed, verdict.total) == (2, 5)
    assert first_failure(out) == (
        "the pixels of test image 0: returned a tensor whose values differ from the expected ones: at [0, 0, 0] it "
        "holds 1 where 0 is expected; 240 of 1024 values differ, the largest difference is 1"
    )
    verdict, out = judge(check.mnist_transform, WRONG["7.2"]["no ToTensor"], capsys)
    assert verdict.passed == 0
    assert first_failure(out) == "the output's shape is not a tensor: the pipeline returned a PIL.Image"


def test_class_counts_feedback(capsys):
    _, out = judge(check.class_counts, WRONG["7.3"]["bincount without minlength"], capsys)
    assert first_failure(out) == "class_counts of five 7s: returned 8 items, expected 10: [0, 0, 0, 0, 0, 0, 0, 5]"
    _, out = judge(check.class_counts, WRONG["7.3"]["a tensor"], capsys)
    assert first_failure(out).startswith("class_counts(tensor([0, 1, 1, 9])): returned a tensor of shape (10,)")
    assert "Hint: this answer is a plain Python list of ints, not a tensor: .tolist()" in out
