"""Checkers for chapter 8 (``08_training_loop.ipynb``): one training step, accuracy, eval and no_grad.

The training-step checker gives the learner's step a small LeNet-5 whose
starting weights and batches come with the case, on the CPU, and compares the
weights after the step with those of a reference step in plain PyTorch, so
the verdict is the same on every machine and for every data source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from ._models import lenet_weights, lenet_with
from .compare import Mismatch, number, tensor
from .exercise import Case, Exercise, Verdict, declare
from .quiz import quiz

__all__ = ["training_step", "accuracy", "eval_and_no_grad", "EVAL_STATEMENTS"]


def _batch(seed: int, n: int = 8) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(n, 1, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)]


def _reference_step(model, criterion, optimizer, X, y) -> float:
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _train(step_fn: Callable, x: dict[str, Any]) -> dict[str, Any]:
    """Run ``step_fn`` on the case's model and batches; the losses it returned and the weights after it."""
    model = lenet_with(x["weights"]).train()
    if x["optimizer"] == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=x["lr"])
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=x["lr"])
    if x["stale"]:  # as if an earlier backward() had left its gradients behind
        for p in model.parameters():
            p.grad = torch.ones_like(p)
    criterion = nn.CrossEntropyLoss()
    losses = [step_fn(model, criterion, optimizer, X, y) for X, y in x["batches"]]
    return {"losses": losses, "parameters": {name: p.detach() for name, p in model.named_parameters()}}


def _parameters_after(got: Any, expected: dict[str, Any]) -> Mismatch | None:
    if not isinstance(got, dict) or not isinstance(got.get("parameters"), dict):
        return Mismatch("could not be read")
    for name, weight in expected["parameters"].items():
        mismatch = tensor(got["parameters"].get(name), weight, rtol=1e-4, atol=1e-6, verb="gives")
        if mismatch is not None:
            return Mismatch(f"the weights differ from the reference's: {name} {mismatch.text}")
    return None


def _loss_returned(got: Any, expected: dict[str, Any]) -> Mismatch | None:
    if not isinstance(got, dict) or not isinstance(got.get("losses"), list) or not got["losses"]:
        return Mismatch("could not be read")
    return number(got["losses"][0], expected["losses"][0], rel=1e-5, abs_=1e-6)


def _step_cases() -> list[Case]:
    weights = lenet_weights(8)

    def inputs(optimizer: str, lr: float, steps: int = 1, stale: bool = False) -> dict[str, Any]:
        batches = [_batch(80 + k) for k in range(steps)]
        return {"weights": weights, "optimizer": optimizer, "lr": lr, "batches": batches, "stale": stale}

    after = "the weights after it:"
    return [
        Case(f"one SGD step (lr 0.1) on a fixed LeNet-5 and batch, {after}", inputs("sgd", 0.1)),
        Case("the loss it returns (a Python float, before the step):", inputs("sgd", 0.1), compare=_loss_returned),
        Case(f"one Adam step (lr 0.001), {after}", inputs("adam", 1e-3)),
        Case(
            f"one SGD step with gradients left over from an earlier backward(), {after}", inputs("sgd", 0.1, stale=True)
        ),
        Case(f"three Adam steps on three batches, {after}", inputs("adam", 1e-3, steps=3)),
    ]


TRAINING_STEP = declare(
    Exercise(
        id="8.1",
        name="training_step",
        cases=_step_cases,
        run=_train,
        reference=lambda x: _train(_reference_step, x),
        compare=_parameters_after,
        hint="a step has five parts: clear what the last backward() left in .grad, the forward pass, the loss, "
        "the backward pass, the update; in which order must they come? The loss goes back as a plain "
        "number, not as a tensor",
        namesakes=("lenet_course.training.train_one_epoch", "lenet_course.training.fit"),
    )
)


def training_step(fn: Callable) -> Verdict:
    """Exercise 8.1: ``fn(model, criterion, optimizer, X, y)`` does one step and returns the loss as a float.

    Introduced in chapter 8.
    """
    return TRAINING_STEP.check(fn)


def _accuracy_cases() -> list[Case]:
    g = torch.Generator().manual_seed(8)
    hand = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 4.5, 0.0]])
    return [
        Case("accuracy of 4 rows of 3 logits, 2 right:", [hand, torch.tensor([0, 2, 2, 0])]),
        Case("accuracy when every prediction is right:", [hand, torch.tensor([0, 1, 2, 1])]),
        Case("accuracy when every prediction is wrong:", [hand, torch.tensor([1, 0, 0, 2])]),
        Case("accuracy of one image:", [hand[1:2].clone(), torch.tensor([1])]),
        Case(
            "accuracy of 200 random rows of 10 logits:",
            [torch.randn(200, 10, generator=g), torch.randint(0, 10, (200,), generator=g)],
        ),
    ]


ACCURACY = declare(
    Exercise(
        id="8.2",
        name="accuracy",
        cases=_accuracy_cases,
        run=lambda fn, x: fn(x[0], x[1]),
        reference=lambda x: (x[0].argmax(1) == x[1]).double().mean().item(),
        compare=lambda got, expected: number(got, expected, rel=1e-6, abs_=1e-7),
        hint="a row's prediction is the class whose logit is largest; the accuracy is the share of rows whose "
        "prediction is the true class, a Python float from 0 to 1 (a one-element tensor is not one yet)",
        namesakes=("lenet_course.training.evaluate",),
    )
)


def accuracy(fn: Callable[[torch.Tensor, torch.Tensor], float]) -> Verdict:
    """Exercise 8.2: ``fn(logits, y)``, the share of rows whose largest logit is at the true class, a float 0 to 1.

    Introduced in chapter 8.
    """
    return ACCURACY.check(fn)


EVAL_STATEMENTS = {
    "a": "model.eval() switches off gradient tracking.",
    "b": "Inside torch.no_grad() PyTorch records no graph for backward(), which saves memory and time.",
    "c": "model.eval() changes how layers such as dropout and batch normalisation behave.",
    "d": "Our LeNet-5 has no dropout or batch normalisation, so model.eval() does not change its outputs.",
    "e": "Without torch.no_grad(), validating would change the weights.",
    "f": "After validating, model.train() must be called before the next training pass if the model has dropout.",
}

EVAL_AND_NO_GRAD = declare(
    quiz(
        "8.3",
        "true_statements",
        EVAL_STATEMENTS,
        {"b", "c", "d", "f"},
        hint="model.eval() and torch.no_grad() do different jobs: one sets a flag that some layers read, "
        "the other stops the recording of operations; only optimizer.step() changes weights",
    )
)


def eval_and_no_grad(answer: Iterable[str]) -> Verdict:
    """Exercise 8.3: the letters of the true statements in ``EVAL_STATEMENTS`` (a set, or a string such as "b, c").

    Introduced in chapter 8; the quiz widget's Check button calls it.
    """
    return EVAL_AND_NO_GRAD.check(answer)
