"""The 1998 criteria (eq. 8 and eq. 9) computed by hand."""

import math

import pytest
import torch

from lenet_course.paper.losses import MAPCriterion, MSECriterion, map_criterion, mse_criterion


def test_mse_criterion_is_the_correct_class_penalty():
    y = torch.tensor([[3.0, 1.0, 4.0], [2.0, 7.0, 1.0]])  # penalties
    targets = torch.tensor([1, 0])
    assert mse_criterion(-y, targets).item() == pytest.approx((1.0 + 2.0) / 2)
    assert MSECriterion()(-y, targets).item() == pytest.approx(1.5)


@pytest.mark.parametrize("j", [0.1, 1.0, 5.0])
def test_map_criterion_equals_eq9_by_hand(j):
    y = torch.tensor([[3.0, 1.0, 4.0], [2.0, 7.0, 1.0]])
    targets = torch.tensor([1, 2])
    by_hand = 0.0
    for p in range(2):
        by_hand += y[p, targets[p]].item() + math.log(math.exp(-j) + sum(math.exp(-v) for v in y[p].tolist()))
    assert map_criterion(-y, targets, j).item() == pytest.approx(by_hand / 2, rel=1e-6)
    assert MAPCriterion(j)(-y, targets).item() == pytest.approx(by_hand / 2, rel=1e-6)


def test_map_criterion_is_stable_for_large_penalties():
    y = torch.tensor([[800.0, 900.0, 1000.0]])
    loss = map_criterion(-y, torch.tensor([0]), j=1.0)
    assert loss.item() == pytest.approx(800.0 - 1.0)  # log(e^-1 + ~0) = -1


def test_map_pushes_wrong_classes_up_and_mse_does_not():
    y = torch.tensor([[1.0, 0.5, 3.0]], requires_grad=True)
    map_criterion(-y, torch.tensor([0]), j=1.0).backward()
    assert y.grad[0, 0] > 0 and y.grad[0, 1] < 0 and y.grad[0, 2] < 0  # descent lowers y_D, raises the others
    y.grad = None
    mse_criterion(-y, torch.tensor([0])).backward()
    assert y.grad.tolist() == [[1.0, 0.0, 0.0]]


def test_bad_inputs_say_what_to_pass():
    with pytest.raises(ValueError, match=r"scores of shape \(N, classes\)"):
        map_criterion(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="must be positive"):
        MAPCriterion(0.0)
