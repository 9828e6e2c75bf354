"""Checkers for chapter 8 (``08_training_loop.ipynb``): one training step, accuracy, eval and no_grad.

The training-step checker builds its own small, seeded model and batch on the
CPU and compares the learner's step with a reference step in plain PyTorch,
so the verdict is the same on every machine and for every data source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from ..models import LeNet5
from ._core import Case, Verdict, report
from ._quiz import judge_statements

__all__ = ["training_step", "accuracy", "eval_and_no_grad", "EVAL_STATEMENTS"]


def _fixed_batch(seed: int, n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def _fixed_model(seed: int) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LeNet5()


def _flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _reference_step(model, criterion, optimizer, X, y) -> float:
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _run(step_fn, make_optimizer, steps: int = 1, stale_gradients: bool = False, seed: int = 0):
    """Run ``steps`` of ``step_fn`` on a fixed model and batches; return ``(model, losses)``."""
    model = _fixed_model(seed)
    optimizer = make_optimizer(model.parameters())
    criterion = nn.CrossEntropyLoss()
    if stale_gradients:  # as if an earlier backward() had left its gradients behind
        for p in model.parameters():
            p.grad = torch.ones_like(p)
    losses = []
    for k in range(steps):
        X, y = _fixed_batch(seed + k)
        losses.append(step_fn(model, criterion, optimizer, X, y))
    return model, losses


def _largest_difference(a: nn.Module, b: nn.Module) -> float:
    return float((_flat_parameters(a) - _flat_parameters(b)).abs().max())


def training_step(fn: Callable) -> Verdict:
    """Exercise 8.1: ``fn(model, criterion, optimizer, X, y)`` does one step and returns the loss as a float."""

    def sgd(params):
        return torch.optim.SGD(params, lr=0.1)

    def adam(params):
        return torch.optim.Adam(params, lr=1e-3)

    def difference(make_optimizer, **kwargs):
        def answer():
            mine, _ = _run(fn, make_optimizer, **kwargs)
            reference, _ = _run(_reference_step, make_optimizer, **kwargs)
            return _largest_difference(mine, reference)

        return answer

    def loss_returned():
        _, losses = _run(fn, sgd)
        return _as_number(losses[0])

    def close_enough(got, expected):
        return isinstance(got, float) and abs(got - expected) <= 1e-6

    _, reference_losses = _run(_reference_step, sgd)
    what = "the largest difference between your parameters and a reference step's"
    cases = [
        Case(f"one SGD step (lr 0.1) on a fixed LeNet-5 and batch, {what}:", difference(sgd), 0.0, close_enough),
        Case("the loss it returns (the loss before the step):", loss_returned, reference_losses[0]),
        Case(f"one Adam step (lr 0.001), {what}:", difference(adam), 0.0, close_enough),
        Case(
            f"one SGD step with gradients left over from an earlier backward(), {what}:",
            difference(sgd, stale_gradients=True),
            0.0,
            close_enough,
        ),
        Case(f"three Adam steps on three batches, {what}:", difference(adam, steps=3), 0.0, close_enough),
    ]
    return report(
        "8.1",
        cases,
        hint="in this order: optimizer.zero_grad() (gradients add up otherwise), y_hat = model(X), "
        "loss = criterion(y_hat, y), loss.backward(), optimizer.step(); return loss.item()",
    )


def _as_number(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    return value


def accuracy(fn: Callable[[torch.Tensor, torch.Tensor], float]) -> Verdict:
    """Exercise 8.2: ``fn(logits, y)``, the share of rows whose largest logit is at the true class (0 to 1)."""
    g = torch.Generator().manual_seed(8)
    logits = torch.randn(200, 10, generator=g)
    labels = torch.randint(0, 10, (200,), generator=g)
    hand = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 4.5, 0.0]])
    cases = [
        Case("accuracy of 4 rows of 3 logits, 2 right:", lambda: _as_number(fn(hand, torch.tensor([0, 2, 2, 0]))), 0.5),
        Case("accuracy when every prediction is right:", lambda: _as_number(fn(hand, torch.tensor([0, 1, 2, 1]))), 1.0),
        Case("accuracy when every prediction is wrong:", lambda: _as_number(fn(hand, torch.tensor([1, 0, 0, 2]))), 0.0),
        Case("accuracy of one image:", lambda: _as_number(fn(hand[1:2], torch.tensor([1]))), 1.0),
        Case(
            "accuracy of 200 random rows of 10 logits:",
            lambda: _as_number(fn(logits.clone(), labels.clone())),
            (logits.argmax(1) == labels).float().mean().item(),
        ),
        Case(
            "its type (a Python float, via .item()):",
            lambda: type(fn(hand, torch.tensor([0, 2, 2, 0]))).__name__,
            "float",
        ),
    ]
    return report(
        "8.2",
        cases,
        hint="the predicted class is the index of the largest logit in each row (argmax over dim 1); "
        "compare with y, take the mean of the matches as floats, and return it with .item()",
    )


EVAL_STATEMENTS = {
    "a": "model.eval() switches off gradient tracking.",
    "b": "Inside torch.no_grad() PyTorch records no graph for backward(), which saves memory and time.",
    "c": "model.eval() changes how layers such as dropout and batch normalisation behave.",
    "d": "Our LeNet-5 has no dropout or batch normalisation, so model.eval() does not change its outputs.",
    "e": "Without torch.no_grad(), validating would change the weights.",
    "f": "After validating, model.train() must be called before the next training pass if the model has dropout.",
}
_EVAL_KEY = {"b", "c", "d", "f"}


def eval_and_no_grad(answer: Iterable[str]) -> Verdict:
    """Exercise 8.3: the set of letters of the true statements in ``EVAL_STATEMENTS``."""
    return judge_statements(
        "8.3",
        EVAL_STATEMENTS,
        answer,
        _EVAL_KEY,
        hint="model.eval() and torch.no_grad() do different jobs: one sets a flag that some layers read, "
        "the other stops the recording of operations; only optimizer.step() changes weights",
    )
