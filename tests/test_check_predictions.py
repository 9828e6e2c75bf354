"""The chapter 9 checkers: confusion matrix, least confident predictions, per-class accuracy."""

import pytest
import torch

from lenet_course import check, plots


def confusion_matrix(y_true, y_pred, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        cm[t, p] += 1
    return cm


def test_reference_agrees_with_a_loop():
    g = torch.Generator().manual_seed(0)
    t, p = torch.randint(0, 10, (500,), generator=g), torch.randint(0, 10, (500,), generator=g)
    assert torch.equal(plots.confusion_matrix(t, p), confusion_matrix(t, p))


def test_confusion_matrix_right(capsys):
    assert check.confusion_matrix(confusion_matrix)
    assert capsys.readouterr().out == "Exercise 9.2: 5/5 cases correct. Well done!\n"


def test_confusion_matrix_transposed(capsys):
    assert not check.confusion_matrix(lambda t, p, num_classes=10: confusion_matrix(p, t, num_classes))
    out = capsys.readouterr().out
    assert "2/5 cases correct" in out
    assert (
        "First failing case: confusion_matrix([1, 1, 1], [2, 2, 2], num_classes=3) (three 1s taken for 2s): "
        "returned [[0, 0, 0], [0, 0, 0], [0, 3, 0]], expected [[0, 0, 0], [0, 0, 3], [0, 0, 0]]" in out
    )
    assert "rows are the true classes" in out


def test_confusion_matrix_ignoring_num_classes(capsys):
    assert not check.confusion_matrix(lambda t, p, num_classes=10: confusion_matrix(t, p))
    assert "1/5 cases correct" in capsys.readouterr().out


def test_confusion_matrix_not_implemented_propagates():
    def stub(y_true, y_pred, num_classes=10):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check.confusion_matrix(stub)


def test_least_confident(capsys):
    assert check.least_confident(lambda probs, k: torch.argsort(probs.max(dim=1).values)[:k])
    assert capsys.readouterr().out == "Exercise 9.1: 4/4 cases correct. Well done!\n"
    assert not check.least_confident(lambda probs, k: torch.argsort(probs.max(dim=1).values, descending=True)[:k])
    out = capsys.readouterr().out
    assert "0/4 cases correct" in out
    assert "least_confident of 5 hand-made rows, k=2: returned [0, 3], expected [4, 1]" in out


def test_least_confident_not_implemented_propagates():
    with pytest.raises(NotImplementedError):
        check.least_confident(lambda probs, k: (_ for _ in ()).throw(NotImplementedError))


def test_per_class_accuracy(capsys):
    assert check.per_class_accuracy(lambda cm: cm.diagonal() / cm.sum(dim=1))
    assert capsys.readouterr().out == "Exercise 9.3: 3/3 cases correct. Well done!\n"
    assert not check.per_class_accuracy(lambda cm: cm.diagonal() / cm.sum(dim=0))  # columns, not rows
    out = capsys.readouterr().out
    assert "1/3 cases correct" in out
    assert "per_class_accuracy([[8, 2], [1, 3]]): returned [0.888" in out and "expected [0.8, 0.75]" in out


def test_per_class_accuracy_not_implemented_propagates():
    with pytest.raises(NotImplementedError):
        check.per_class_accuracy(lambda cm: (_ for _ in ()).throw(NotImplementedError))
