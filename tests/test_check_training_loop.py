"""The chapter 8 checkers: one training step, accuracy from logits, eval and no_grad."""

import pytest
import torch

from lenet_course import check


def training_step(model, criterion, optimizer, X, y):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def test_training_step_right(capsys):
    assert check.training_step(training_step)
    assert capsys.readouterr().out == "Exercise 8.1: 5/5 cases correct. Well done!\n"


def test_training_step_without_zero_grad_fails_on_leftover_gradients(capsys):
    def forgets_zero_grad(model, criterion, optimizer, X, y):
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    assert not check.training_step(forgets_zero_grad)
    out = capsys.readouterr().out
    assert "3/5 cases correct" in out
    assert "First failing case: one SGD step with gradients left over from an earlier backward()" in out
    assert "Hint: in this order: optimizer.zero_grad()" in out


def test_training_step_that_never_steps(capsys):
    def no_step(model, criterion, optimizer, X, y):
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        return loss.item()

    assert not check.training_step(no_step)
    out = capsys.readouterr().out
    assert "1/5 cases correct" in out
    assert "one SGD step (lr 0.1) on a fixed LeNet-5 and batch" in out and "expected 0.0" in out


def test_training_step_must_return_the_loss(capsys):
    def returns_nothing(model, criterion, optimizer, X, y):
        training_step(model, criterion, optimizer, X, y)

    assert not check.training_step(returns_nothing)
    assert "the loss it returns (the loss before the step): returned None" in capsys.readouterr().out


def test_training_step_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check.training_step(training_step)
    assert torch.equal(torch.rand(3), expected)


def test_training_step_not_implemented_propagates():
    def stub(model, criterion, optimizer, X, y):
        raise NotImplementedError("Exercise 8.1")

    with pytest.raises(NotImplementedError):
        check.training_step(stub)


def accuracy(logits, y):
    return (logits.argmax(dim=1) == y).float().mean().item()


def test_accuracy_right(capsys):
    assert check.accuracy(accuracy)
    assert capsys.readouterr().out == "Exercise 8.2: 6/6 cases correct. Well done!\n"


def test_accuracy_as_a_tensor_fails_only_the_type_case(capsys):
    assert not check.accuracy(lambda logits, y: (logits.argmax(dim=1) == y).float().mean())
    out = capsys.readouterr().out
    assert "5/6 cases correct" in out
    assert "its type (a Python float, via .item()): returned 'Tensor', expected 'float'" in out


def test_accuracy_argmax_over_the_wrong_dimension(capsys):
    assert not check.accuracy(lambda logits, y: (logits.argmax(dim=0)[: len(y)] == y).float().mean().item())
    out = capsys.readouterr().out
    assert "First failing case: accuracy of 4 rows of 3 logits, 2 right:" in out
    assert "argmax over dim 1" in out


def test_accuracy_not_implemented_propagates():
    with pytest.raises(NotImplementedError):
        check.accuracy(lambda logits, y: (_ for _ in ()).throw(NotImplementedError))


def test_eval_and_no_grad(capsys):
    assert check.eval_and_no_grad({"b", "c", "d", "f"})
    assert capsys.readouterr().out == "Exercise 8.3: 6/6 statements judged correctly. Well done!\n"
    assert check.eval_and_no_grad(["(B)", "c", "d", "f"])  # letters are forgiving
    capsys.readouterr()
    assert not check.eval_and_no_grad({"a", "b", "c", "d", "f"})
    out = capsys.readouterr().out
    assert "5/6 statements judged correctly" in out
    assert "Rethink statement (a): model.eval() switches off gradient tracking." in out
    assert "{'b'" not in out  # the answer key is never printed


def test_eval_and_no_grad_unknown_letter_and_wrong_type(capsys):
    assert not check.eval_and_no_grad({"b", "z"})
    assert "there is no statement 'z'; use letters from 'a' to 'f'" in capsys.readouterr().out
    assert not check.eval_and_no_grad(3)
    assert "expected a set of letters" in capsys.readouterr().out
