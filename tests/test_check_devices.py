"""Checkers leave the learner's random state alone and move what they receive to the CPU first.

The ``meta`` device stands in for a GPU: a CPU tensor that is not 0-dim mixed
with a meta one raises just as with a CUDA one. A meta tensor has no data, so
where a checker must read values the test asserts the order instead: the
checker calls ``.cpu()`` first (on meta: NotImplementedError, raised inside
the wire encoding), never ``.numpy()`` on the device tensor (on meta: TypeError).
"""

from __future__ import annotations

import pytest
import torch
from torchvision import transforms

from lenet_course import check
from lenet_course.check import EXERCISES
from tests.checker_answers import judge
from tests.test_check_answers import CHECKERS, RIGHT, WRONG


def _move(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_move(v, device) for v in value)
    return value


def _returns_on(fn, device):
    """The answer ``fn``, with its result moved to ``device`` (as a learner working on a GPU would return it)."""
    return lambda *args, **kwargs: _move(fn(*args, **kwargs), device)


def _as_tensor_on(fn, device):
    """The answer ``fn``, with its number turned into a 0-dim tensor on ``device``."""
    return lambda *args, **kwargs: torch.tensor(fn(*args, **kwargs), device=device)


def _dict_on(answer, device):
    return {k: torch.tensor(v, device=device) for k, v in answer.items()}


def _step_on(device):
    def step(model, criterion, optimizer, X, y):
        model.to(device)
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def _accuracy_on(device):
    return lambda logits, y: (logits.to(device).argmax(1) == y.to(device)).float().mean().item()


def _pipeline_on(build, device):
    return lambda *args: transforms.Compose([build(*args), transforms.Lambda(lambda t: t.to(device))])


def _first(kind, number):
    return next(iter((RIGHT if kind == "right" else WRONG)[number].values()))


# exercise -> (the answer on `device`, the verdict on the CPU, the outcome on meta)
# "full": full marks; "refused": less than full marks, without crashing; "no data": NotImplementedError from .cpu()
DEVICE_ANSWERS = {
    "0.1": (lambda d: torch.zeros(1, 1, 32, 32, device=d), "full", "no data"),
    "0.2": (lambda d: _as_tensor_on(_first("right", "0.2"), d), "refused", "no data"),
    "1.1": (lambda d: _as_tensor_on(_first("right", "1.1"), d), "refused", "no data"),
    "1.2": (lambda d: _dict_on(dict(W=32, F=2, P=0, S=2), d), "refused", "no data"),
    "1.3": (lambda d: [torch.tensor(w, device=d) for w in (32, 28, 14, 10, 5, 1)], "refused", "no data"),
    "2.1": (lambda d: (torch.tensor(156, device=d), torch.tensor(122_304, device=d)), "refused", "no data"),
    "2.2": (lambda d: _returns_on(_first("right", "2.2"), d), "full", "no data"),
    "3.1": (lambda d: _returns_on(_first("right", "3.1"), d), "full", "no data"),
    "3.2": (lambda d: (torch.tensor(12, device=d), torch.tensor(5_880, device=d)), "refused", "no data"),
    "3.3": (lambda d: _dict_on(dict(W=28, F=2, P=0, S=2), d), "refused", "no data"),
    "4.1": (lambda d: _as_tensor_on(_first("right", "4.1"), d), "refused", "no data"),
    "4.2": (lambda d: _first("right", "4.2").to(d), "full", "no data"),
    "4.3": (lambda d: _first("right", "4.3").to(d), "full", "no data"),
    "5.1": (lambda d: _as_tensor_on(_first("right", "5.1"), d), "refused", "no data"),
    "5.2": (lambda d: _returns_on(_first("right", "5.2"), d), "full", "no data"),
    "5.3": (lambda d: _returns_on(_first("right", "5.3"), d), "full", "no data"),
    "6.1": (lambda d: _first("right", "6.1")().to(d), "full", "full"),  # a model on the device
    "6.2": (lambda d: _dict_on(_first("right", "6.2"), d), "refused", "no data"),
    "7.1": (lambda d: _as_tensor_on(_first("right", "7.1"), d), "refused", "no data"),
    "7.2": (lambda d: _pipeline_on(lambda: _first("right", "7.2"), d)(), "full", "no data"),
    # int() and .item() on meta raise RuntimeError in the learner's own code: refused, without a crash
    "7.3": (lambda d: lambda labels: [int((labels.to(d) == k).sum()) for k in range(10)], "full", "refused"),
    "8.1": (_step_on, "full", "refused"),
    "8.2": (_accuracy_on, "full", "refused"),
    "8.3": (lambda d: torch.tensor([1, 2], device=d), "refused", "refused"),  # not letters
    "9.1": (lambda d: _returns_on(_first("right", "9.1"), d), "full", "no data"),
    "9.2": (lambda d: _returns_on(_first("right", "9.2"), d), "full", "no data"),
    "9.3": (lambda d: _returns_on(_first("right", "9.3"), d), "full", "no data"),
    "10.1": (lambda d: _pipeline_on(_first("right", "10.1"), d), "full", "no data"),
    "10.2": (lambda d: torch.tensor([1, 2], device=d), "refused", "refused"),
    "11.1": (lambda d: _returns_on(lambda i: torch.tensor(_first("right", "11.1")(i)), d), "refused", "no data"),
    "11.2": (lambda d: _returns_on(_first("right", "11.2"), d), "full", "no data"),
    "11.3": (lambda d: _returns_on(_first("right", "11.3"), d), "full", "no data"),
}


def test_every_checker_has_a_device_test():
    assert set(DEVICE_ANSWERS) == set(EXERCISES)


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("number", list(DEVICE_ANSWERS))
def test_checkers_move_what_they_receive_to_the_cpu(number, device, capsys):
    make, on_cpu, on_meta = DEVICE_ANSWERS[number]
    expected = on_cpu if device == "cpu" else on_meta
    answer = make(device)
    if expected == "no data":
        with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor") as raised:
            CHECKERS[number](answer)
        # .cpu() came first: the encoding of the answer reached it, where .numpy() would have raised TypeError
        assert any(entry.name == "_encode_tensor" for entry in raised.traceback)
        return
    verdict, out = judge(CHECKERS[number], answer, capsys)
    if expected == "full":
        assert verdict.passed == verdict.total > 0, out
    else:
        assert verdict.passed < verdict.total, out
        assert "Cannot copy out of meta tensor" not in out


def test_on_meta_cpu_raises_not_implemented_and_numpy_type_error():
    x = torch.zeros(2, device="meta")
    with pytest.raises(NotImplementedError):
        x.cpu()
    with pytest.raises(TypeError):
        x.numpy()
    with pytest.raises(RuntimeError):
        torch.ones(2) + x  # a CPU tensor that is not 0-dim mixed with a device one, as with CUDA


@pytest.fixture
def no_reseeding(monkeypatch):
    """Fail if anything reseeds the global generators (CPU or CUDA) while a checker runs."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a checker reseeded a global random number generator")

    for target in (
        "torch.manual_seed",
        "torch.random.manual_seed",
        "torch.cuda.manual_seed",
        "torch.cuda.manual_seed_all",
    ):
        monkeypatch.setattr(target, forbidden)
    monkeypatch.setattr("torch.cuda.random.manual_seed_all", forbidden)


@pytest.mark.parametrize("kind", ["right", "wrong"])
@pytest.mark.parametrize("number", list(EXERCISES))
def test_checkers_leave_the_random_state_alone(number, kind, no_reseeding, capsys):
    torch.random.default_generator.manual_seed(2024)
    before = torch.random.get_rng_state()
    verdict, out = judge(CHECKERS[number], _first(kind, number), capsys)
    assert torch.equal(torch.random.get_rng_state(), before)
    if kind == "right":  # a reseeding inside the learner's run would have shown as a failing case
        assert verdict.passed == verdict.total, out
    assert "reseeded" not in out


def test_the_old_way_would_be_caught(no_reseeding):
    with pytest.raises(AssertionError, match="reseeded"):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)


def test_a_learners_model_on_meta_is_checked_on_the_cpu(capsys):
    model = _first("right", "6.1")().to("meta")
    verdict, out = judge(check.lenet_forward, model, capsys)
    assert verdict and out == "Exercise 6.1: 4/4 cases correct. Well done!\n"
    assert next(model.parameters()).is_meta  # the learner's own model is not touched
