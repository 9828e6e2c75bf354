"""The chapter 9 checkers: least confident predictions, the confusion matrix, per-class accuracy."""

import torch

from lenet_course import check
from tests.checker_answers import first_failure, judge


def _cm_loops(y_true, y_pred, num_classes=10):
    rows = [[0] * num_classes for _ in range(num_classes)]
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        rows[t][p] += 1
    return torch.tensor(rows)


def _cm_vectorised_bug(y_true, y_pred, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    cm[y_true, y_pred] += 1  # repeated pairs are counted once
    return cm


def _cm_index_put(y_true, y_pred, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    return cm.index_put_((y_true, y_pred), torch.ones_like(y_true), accumulate=True)


def _cm_no_num_classes(y_true, y_pred, num_classes=10):
    k = int(max(y_true.max(), y_pred.max())) + 1
    return torch.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


CHECKERS = {"9.1": check.least_confident, "9.2": check.confusion_matrix, "9.3": check.per_class_accuracy}

WRONG = {
    "9.1": {
        "most confident first": lambda probs, k: torch.argsort(probs.max(1).values, descending=True)[:k],
        "the smallest probability, not the largest": lambda probs, k: torch.argsort(probs.min(1).values)[:k],
        "the confidences, not the indices": lambda probs, k: torch.sort(probs.max(1).values).values[:k],
        "one too many": lambda probs, k: torch.argsort(probs.max(1).values)[: k + 1],
        "every row": lambda probs, k: torch.argsort(probs.max(1).values),
    },
    "9.2": {
        "transposed": lambda y_true, y_pred, num_classes=10: _cm_loops(y_pred, y_true, num_classes),
        "repeated pairs counted once": _cm_vectorised_bug,
        "num_classes ignored": _cm_no_num_classes,
        "float counts": lambda y_true, y_pred, num_classes=10: _cm_loops(y_true, y_pred, num_classes).float(),
        "a list of lists": lambda y_true, y_pred, num_classes=10: _cm_loops(y_true, y_pred, num_classes).tolist(),
    },
    "9.3": {
        "divided by the column sums": lambda cm: cm.diagonal().float() / cm.sum(dim=0).float(),
        "divided by all images": lambda cm: cm.diagonal().float() / cm.sum().float(),
        "empty classes as 1": lambda cm: (
            cm.diagonal().float() / cm.sum(dim=1).clamp(min=1).float() + (cm.sum(dim=1) == 0).float()
        ),
        "integer division": lambda cm: cm.diagonal() // cm.sum(dim=1).clamp(min=1),
        "a list": lambda cm: (cm.diagonal().float() / cm.sum(dim=1).float()).tolist(),
    },
}

RIGHT = {
    "9.1": {
        "topk of the smallest": lambda probs, k: torch.topk(probs.max(dim=1).values, k, largest=False).indices,
        "sorted indices as a list": lambda probs, k: sorted(range(len(probs)), key=lambda i: float(probs[i].max()))[:k],
        "int32 indices": lambda probs, k: torch.argsort(probs.amax(1))[:k].int(),
    },
    "9.2": {
        "Python lists then a tensor": _cm_loops,
        "index_put with accumulate": _cm_index_put,
        "bincount": lambda y_true, y_pred, num_classes=10: torch.bincount(
            y_true * num_classes + y_pred, minlength=num_classes**2
        ).reshape(num_classes, num_classes),
    },
    "9.3": {
        "true division of integers": lambda cm: cm.diag() / cm.sum(1),
        "float64": lambda cm: cm.double().diagonal() / cm.double().sum(dim=1),
    },
}


def test_least_confident_feedback(capsys):
    verdict, out = judge(check.least_confident, WRONG["9.1"]["most confident first"], capsys)
    assert verdict.passed == 1  # k=0
    assert first_failure(out) == (
        "least_confident of 5 hand-made rows, k=2: returned [0, 3], expected [4, 1]: they first differ at index 0 "
        "(0 where 4 is expected)"
    )
    _, out = judge(check.least_confident, WRONG["9.1"]["the confidences, not the indices"], capsys)
    assert first_failure(out) == (
        "least_confident of 5 hand-made rows, k=2: returned a tensor of dtype torch.float32, where indices (integers) "
        "are expected"
    )


def test_confusion_matrix_feedback(capsys):
    verdict, out = judge(check.confusion_matrix, _cm_vectorised_bug, capsys)
    assert first_failure(out) == (
        "confusion_matrix([1, 1, 1], [2, 2, 2], num_classes=3) (three 1s taken for 2s): returned a tensor whose "
        "values differ from the expected ones: at [1, 2] it holds 1 where 3 is expected; 1 of 9 values differ, the "
        "largest difference is 2"
    )
    _, out = judge(check.confusion_matrix, WRONG["9.2"]["float counts"], capsys)
    assert "returned a tensor of dtype float32, expected int64 or int32" in out


def test_per_class_accuracy_of_an_empty_class_is_nan(capsys):
    verdict, out = judge(check.per_class_accuracy, WRONG["9.3"]["empty classes as 1"], capsys)
    assert (verdict.passed, verdict.total) == (3, 4)
    assert "at [1] it holds 1 where nan is expected" in first_failure(out)
