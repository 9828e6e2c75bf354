"""The chapter 8 checkers: one training step, accuracy from logits, eval and no_grad."""

import torch

from lenet_course import check
from tests.checker_answers import first_failure, judge


def _no_zero_grad(model, criterion, optimizer, X, y):
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _zero_grad_last(model, criterion, optimizer, X, y):
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def _returns_the_tensor(model, criterion, optimizer, X, y):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss


def _no_step(model, criterion, optimizer, X, y):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    return loss.item()


def _loss_after(model, criterion, optimizer, X, y):
    optimizer.zero_grad()
    criterion(model(X), y).backward()
    optimizer.step()
    return criterion(model(X), y).item()


def _step_before_backward(model, criterion, optimizer, X, y):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    optimizer.step()
    loss.backward()
    return loss.item()


def _model_zero_grad(model, criterion, optimizer, X, y):
    model.zero_grad(set_to_none=False)
    y_hat = model(X)
    loss = criterion(y_hat, y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _detach_item(model, criterion, optimizer, X, y):
    for p in model.parameters():
        p.grad = None
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


CHECKERS = {"8.1": check.training_step, "8.2": check.accuracy, "8.3": check.eval_and_no_grad}

WRONG = {
    "8.1": {
        "no zero_grad": _no_zero_grad,
        "zero_grad at the end": _zero_grad_last,
        "the loss as a tensor": _returns_the_tensor,
        "no step": _no_step,
        "the loss after the step": _loss_after,
        "step before backward": _step_before_backward,
    },
    "8.2": {
        "a tensor": lambda logits, y: (logits.argmax(1) == y).float().mean(),
        "the count": lambda logits, y: (logits.argmax(1) == y).sum().item(),
        "argmax over the batch": lambda logits, y: (logits.argmax(0)[: len(y)] == y).float().mean().item(),
        "a percentage": lambda logits, y: 100 * (logits.argmax(1) == y).float().mean().item(),
        "integer division": lambda logits, y: (logits.argmax(1) == y).sum().item() // len(y),
    },
    "8.3": {
        "eval stops gradients": {"a", "b", "c", "d", "f"},
        "no_grad only": {"b"},
        "validating changes weights": {"b", "c", "d", "e", "f"},
        "a letter too many": "b, c, d, f, g",
        "not letters": 3,
    },
}

RIGHT = {
    "8.1": {"model.zero_grad and float()": _model_zero_grad, "grads set to None, detach().item()": _detach_item},
    "8.2": {
        "sum over the length": lambda logits, y: (logits.argmax(1) == y).sum().item() / len(y),
        "max indices in double": lambda logits, y: float((logits.max(1).indices == y).double().mean()),
        "plain Python": lambda logits, y: (
            sum(int(p == t) for p, t in zip(logits.argmax(1).tolist(), y.tolist())) / len(y)
        ),
    },
    "8.3": {
        "a string with commas": "b, c, d, f",
        "one string": "BCDF",
        "a list with brackets": ["(b)", "(c)", "(d)", "(f)"],
    },
}


def test_leftover_gradients_are_caught(capsys):
    verdict, out = judge(check.training_step, _no_zero_grad, capsys)
    assert (verdict.passed, verdict.total) == (3, 5)
    line = first_failure(out)
    assert line.startswith(
        "one SGD step with gradients left over from an earlier backward(), the weights after it: the weights differ "
        "from the reference's: c1.weight gives a tensor whose values differ from the expected ones: at [0, 0, 0, 0]"
    )
    verdict, _ = judge(check.training_step, _zero_grad_last, capsys)
    assert (verdict.passed, verdict.total) == (4, 5)


def test_the_loss_as_a_tensor_is_refused_without_a_warning(capsys):
    verdict, out = judge(check.training_step, _returns_the_tensor, capsys)  # judge() turns warnings into errors
    assert (verdict.passed, verdict.total) == (4, 5)
    assert first_failure(out).startswith(
        "the loss it returns (a Python float, before the step): returned a 0-dim float32 tensor holding "
    )
    assert out.endswith(
        "where a Python number is expected\n  Hint: this answer is a Python number, not a tensor: "
        ".item() turns a one-element tensor into one\n"
    )


def test_a_step_that_never_steps(capsys):
    verdict, out = judge(check.training_step, _no_step, capsys)
    assert (verdict.passed, verdict.total) == (1, 5)
    assert "one SGD step (lr 0.1) on a fixed LeNet-5 and batch, the weights after it: the weights differ" in out


def test_a_step_that_returns_nothing(capsys):
    def returns_nothing(model, criterion, optimizer, X, y):
        _detach_item(model, criterion, optimizer, X, y)

    verdict, out = judge(check.training_step, returns_nothing, capsys)
    assert (verdict.passed, verdict.total) == (4, 5)
    assert first_failure(out) == (
        "the loss it returns (a Python float, before the step): returned None, a NoneType, where a Python float "
        "is expected"
    )


def test_accuracy_as_a_tensor_is_refused(capsys):
    verdict, out = judge(check.accuracy, WRONG["8.2"]["a tensor"], capsys)
    assert verdict.passed == 0
    assert first_failure(out) == (
        "accuracy of 4 rows of 3 logits, 2 right: returned a 0-dim float32 tensor holding 0.5, where a Python "
        "number is expected"
    )


def test_quizzes_read_letters_the_same_way(capsys):
    verdict, out = judge(check.eval_and_no_grad, "b, c, d, f, g", capsys)
    assert (verdict.passed, verdict.total) == (0, 6)
    assert out.splitlines()[1] == "  Your answer: there is no statement 'g'; use letters from 'a' to 'f'"
    verdict, out = judge(check.eval_and_no_grad, {"a", "b", "c", "d", "f"}, capsys)
    assert (verdict.passed, verdict.total) == (5, 6)
    assert out.splitlines()[1] == "  Rethink statement (a): model.eval() switches off gradient tracking."
    _, out = judge(check.eval_and_no_grad, 3, capsys)
    assert out.splitlines()[1] == (
        "  Your answer: expected the letters of the statements you think apply, such as {'a', 'c'}; got int"
    )
    assert judge(check.eval_and_no_grad, set(), capsys)[0].passed == 2  # ticking nothing: a and e are right


def test_the_training_step_leaves_the_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check.training_step(_model_zero_grad)
    assert torch.equal(torch.rand(3), expected)
