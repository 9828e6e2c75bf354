"""One variant at one batch size on one device: its batches through the course's step, and its agreement with the seed.

Used by ``python -m lenet_course bench``. A variant on the course's loop
trains with :func:`lenet_course.training.train_step` and evaluates with
:func:`~lenet_course.training.eval_step`, the functions ``fit`` calls; the
options of its row (the forward function, the input layout, the optimiser,
``inference_mode``, a CUDA graph around the very same step) are all that
differs. The seed rows run the article's own step (:mod:`.seed`).

Before any timing, :func:`check_runs` makes every variant evaluate one batch,
train one step on it and evaluate again from the same weights: the numbers
must agree with the seed pipeline's within float tolerance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..data import TensorLoader
from ..fast.fused import fused_forward_of
from ..models import LeNet5, logits_of
from ..training import eval_step, train_step
from .results import Check
from .seed import seed_eval_step, seed_train_step
from .variants import Loaders, Variant, build_model, build_optimizer, loader_view

__all__ = ["sync", "timed", "StepCheck", "VariantRun", "GraphRun", "make_run", "check_runs"]


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work, so that the clock measures it (nothing to do on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, work: Callable[[], object]) -> tuple[object, float]:
    """``(what work() returns, seconds it took)``, the device's queue drained before and after."""
    sync(device)
    tic = time.perf_counter()
    out = work()
    sync(device)
    return out, time.perf_counter() - tic


@dataclass
class StepCheck:
    """What one variant computes from the initial weights on the check batch, and how long its first steps took."""

    eval_loss: float
    eval_correct: int
    train_loss: float
    loss_after_step: float
    first_eval_s: float
    first_train_s: float


class VariantRun:
    """One variant at one batch size on one device: its model, optimiser, loaders and running totals."""

    def __init__(self, variant: Variant, device: torch.device, batch_size: int, loaders: Loaders, init: LeNet5) -> None:
        self.variant, self.device, self.batch_size = variant, device, batch_size
        self.model = build_model(variant, init, device)
        self.optimizer = build_optimizer(self.model, variant)
        self.criterion = nn.CrossEntropyLoss()
        self.net = torch.compile(self.model, dynamic=False) if variant.compile else self.model
        self.forward = fused_forward_of(self.model) if variant.fused_blocks else self.net
        self.train_loader = loader_view(loaders.train, batch_size, variant.static_shapes)
        self.eval_loader = loader_view(loaders.eval, batch_size, variant.static_shapes)
        self._iters: dict[str, object] = {}
        self.running_loss = 0.0  # the article's running total, a Python float
        self.loss_sum = torch.zeros((), device=device)  # the course's running totals, on the device
        self.correct = torch.zeros((), dtype=torch.long, device=device)
        self.eval_loss_sum = torch.zeros((), device=device)
        self.eval_correct = torch.zeros((), dtype=torch.long, device=device)

    def __repr__(self) -> str:
        return f"VariantRun({self.variant.name!r}, {self.device.type}, batch {self.batch_size})"

    def _next(self, which: str):
        """The next batch of the train or eval loader, starting a new epoch when one ends."""
        loader = self.train_loader if which == "train" else self.eval_loader
        try:
            return next(self._iters[which])
        except (KeyError, StopIteration):
            self._iters[which] = iter(loader)
            return next(self._iters[which])

    def _prepare(self, X: torch.Tensor) -> torch.Tensor:
        X = X.to(self.device, non_blocking=True)
        return X.contiguous(memory_format=torch.channels_last) if self.variant.channels_last else X

    # one batch ------------------------------------------------------------
    def train_batch(self, X: torch.Tensor, y: torch.Tensor) -> None:
        """One training step: the article's, or the course's ``train_step`` with this row's options."""
        if self.variant.loop == "seed":
            _, running_loss = seed_train_step(self.net, self.criterion, self.optimizer, X, y, self.device)
            self.running_loss += running_loss
            return
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)
        loss_sum, correct = train_step(self.forward, X, y, self.optimizer, self.criterion)
        self.loss_sum += loss_sum
        self.correct += correct

    def eval_batch(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(summed loss, correct count)`` of one batch, on the device."""
        if self.variant.loop == "seed":
            loss, correct, running_loss = seed_eval_step(self.net, self.criterion, X, y, self.device)
            self.running_loss += running_loss
            return loss, correct
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)
        return eval_step(self.forward, X, y, self.criterion)

    def _eval_context(self):
        return torch.inference_mode() if self.variant.inference_mode else torch.no_grad()

    def _train_total(self) -> float:
        """The summed training loss so far (the article's Python float, or the course's total on the device)."""
        return self.running_loss if self.variant.loop == "seed" else self.loss_sum.item()

    # many batches ---------------------------------------------------------
    def train(self, batches: int) -> int:
        """Train on the next ``batches`` batches; returns the number of images."""
        self.net.train()
        n = 0
        for _ in range(batches):
            X, y = self._next("train")
            self.train_batch(X, y)
            n += len(y)
        return n

    def evaluate(self, batches: int) -> int:
        """Evaluate the next ``batches`` batches; returns the number of images."""
        self.net.eval()
        n = 0
        with self._eval_context():
            for _ in range(batches):
                X, y = self._next("eval")
                loss, correct = self.eval_batch(X, y)
                self.eval_loss_sum += loss
                self.eval_correct += correct
                n += len(y)
        return n

    @property
    def phases(self) -> tuple:
        """``(phase, work)`` for training and evaluation: ``work(batches)`` returns the number of images."""
        return (("train", self.train), ("eval", self.evaluate))

    def check(self, X: torch.Tensor, y: torch.Tensor) -> StepCheck:
        """From the initial weights: evaluate ``(X, y)``, train one step on it, evaluate again."""
        tic = time.perf_counter()
        self.net.eval()
        with self._eval_context():
            eval_loss, correct = self.eval_batch(X, y)
            eval_loss, correct = eval_loss.item() / len(y), int(correct)
        sync(self.device)
        first_eval = time.perf_counter() - tic
        tic = time.perf_counter()
        self.net.train()
        before = self._train_total()
        self.train_batch(X, y)
        train_loss = (self._train_total() - before) / len(y)
        sync(self.device)
        first_train = time.perf_counter() - tic
        self.net.eval()
        with self._eval_context():
            after, _ = self.eval_batch(X, y)
        return StepCheck(eval_loss, correct, train_loss, after.item() / len(y), first_eval, first_train)

    def epoch(self) -> tuple[int, int]:
        """One whole pass over the training data, then one over the evaluation data."""
        self._iters.clear()
        train_n = self.train(len(self.train_loader))
        eval_n = self.evaluate(len(self.eval_loader))
        eval_n += self._eval_rest()
        sync(self.device)
        return train_n, eval_n

    def _eval_rest(self) -> int:
        """Static-shape variants drop the last, smaller batch; evaluate it eagerly."""
        n_all = (
            len(self.eval_loader.labels)
            if isinstance(self.eval_loader, TensorLoader)
            else len(self.eval_loader.dataset)
        )
        rest = n_all - len(self.eval_loader) * self.batch_size if self.variant.static_shapes else 0
        if rest <= 0:
            return 0
        self.model.eval()
        with self._eval_context():
            logits_of(self.model(self._prepare(self.eval_loader.images[-rest:])))
        return rest


class GraphRun(VariantRun):
    """The course's training step and evaluation step each captured once as a CUDA graph, then replayed.

    One replay from Python runs every kernel of a step: LeNet-5's kernels are
    too small to hide the cost of launching them one by one on a large GPU.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bs = self.batch_size
        self.static_x = torch.zeros(bs, 1, 32, 32, device=self.device).contiguous(memory_format=torch.channels_last)
        self.static_y = torch.zeros(bs, dtype=torch.long, device=self.device)
        self.train_graph = self.eval_graph = None

    def _capture(self) -> None:
        model, opt, x, y = self.model, self.optimizer, self.static_x, self.static_y
        start = [p.detach().clone() for p in model.parameters()]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm up (cuDNN plans, optimiser state) off the main stream
            for _ in range(3):
                train_step(self.forward, x, y, opt, self.criterion)
            model.eval()
            with torch.no_grad():
                eval_step(self.forward, x, y, self.criterion)
        torch.cuda.current_stream(self.device).wait_stream(side)
        self.eval_graph = torch.cuda.CUDAGraph()
        with torch.no_grad(), torch.cuda.graph(self.eval_graph):
            self.eval_out = eval_step(self.forward, x, y, self.criterion)
        model.train()
        opt.zero_grad(set_to_none=True)
        self.train_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.train_graph):
            loss_sum, correct = train_step(self.forward, x, y, opt, self.criterion)
            self.loss_sum += loss_sum
            self.correct += correct
        with torch.no_grad():  # back to the initial weights and a fresh optimiser
            for p, p0 in zip(model.parameters(), start):
                p.copy_(p0)
            for state in opt.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()
            self.loss_sum.zero_()
            self.correct.zero_()

    def _load(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.static_x.copy_(X)
        self.static_y.copy_(y)

    def check(self, X: torch.Tensor, y: torch.Tensor) -> StepCheck:
        """Capture both graphs (which leaves the weights as they were), then check as the others do."""
        tic = time.perf_counter()
        self._load(X, y)
        self._capture()
        capture = time.perf_counter() - tic
        result = super().check(X, y)
        result.first_train_s += capture
        return result

    def train_batch(self, X, y) -> None:
        self._load(X, y)
        self.train_graph.replay()

    def eval_batch(self, X, y):
        self._load(X, y)
        self.eval_graph.replay()
        return self.eval_out[0].clone(), self.eval_out[1].clone()

    def train(self, batches: int) -> int:
        for _ in range(batches):
            X, y = self._next("train")
            self.train_batch(X, y)
        return batches * self.batch_size

    def evaluate(self, batches: int) -> int:
        for _ in range(batches):
            X, y = self._next("eval")
            self.eval_batch(X, y)
        return batches * self.batch_size


def make_run(
    variant: Variant, device: torch.device, batch_size: int, pipelines: dict[str, Loaders], init: LeNet5
) -> VariantRun:
    """A :class:`VariantRun` (or, for CUDA graphs, a :class:`GraphRun`) fed by ``pipelines[variant.pipeline]``."""
    cls = GraphRun if variant.cuda_graph else VariantRun
    return cls(variant, device, batch_size, pipelines[variant.pipeline], init)


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(b))


def check_runs(
    runs: list[VariantRun], device: torch.device, bs: int, pipelines: dict[str, Loaders], log: Callable[[str], None]
) -> list[Check]:
    """Check every run against the first on the first ``bs`` training images; one :class:`Check` per run."""
    # the same batch through both pipelines: the first bs training images, in order
    seed_ds = pipelines["seed"].train.dataset
    n = min(bs, len(seed_ds))
    X_seed = torch.stack([seed_ds[i][0] for i in range(n)])
    X_fast = pipelines["tensor"].train.images[:n].cpu()
    y = pipelines["tensor"].train.labels[:n].cpu()
    data_diff = float((X_seed - X_fast).abs().max())
    rtol = 1e-4 if device.type == "cpu" else 2e-3  # cuDNN may use TF32 for convolutions on a GPU
    steps = {r.variant.name: r.check(X_seed if r.variant.pipeline == "seed" else X_fast, y) for r in runs}
    reference_name = runs[0].variant.name
    reference = steps[reference_name]
    correct_tol = 0 if device.type == "cpu" else max(1, n // 256)
    checks = []
    for name, c in steps.items():
        diffs = {k: abs(getattr(c, k) - getattr(reference, k)) for k in ("train_loss", "eval_loss", "loss_after_step")}
        ok = (
            all(_close(getattr(c, k), getattr(reference, k), rtol) for k in diffs)
            and abs(c.eval_correct - reference.eval_correct) <= correct_tol
        )
        checks.append(
            Check(
                device=device.type,
                batch_size=bs,
                variant=name,
                reference=reference_name,
                images=n,
                data_max_abs_diff=data_diff,
                eval_loss=c.eval_loss,
                eval_correct=c.eval_correct,
                train_loss=c.train_loss,
                loss_after_step=c.loss_after_step,
                first_eval_s=c.first_eval_s,
                first_train_s=c.first_train_s,
                max_loss_diff=max(diffs.values()),
                rtol=rtol,
                ok=ok and data_diff == 0.0,
            )
        )
        if not ok:
            log(f"  warning: {name} disagrees with {reference_name}: {c} vs {reference}")
    if data_diff:
        log(f"  warning: the two pipelines' images differ by up to {data_diff}")
    return checks
