"""One benchmark variant at one batch size on one device: its model, optimiser, loaders and steps.

A training step is either the article's (``seed_train_step``) or the course's
``fit`` step, line for line; the evaluation step likewise. ``check`` runs both
from the initial weights so that every variant can be compared with the seed.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ..data import TensorLoader
from ..fast.fused import fused_forward_of
from ..models import LeNet5, logits_of
from .measure import sync
from .seed import seed_eval_step, seed_train_step
from .variants import Variant, build_model, build_optimizer, loader_view

__all__ = ["VariantRun", "make_run"]


class VariantRun:
    """One variant at one batch size on one device: its model, optimiser and loaders."""

    def __init__(self, variant: Variant, device: torch.device, batch_size: int, loaders: dict, init: LeNet5) -> None:
        self.variant, self.device, self.batch_size = variant, device, batch_size
        self.model = build_model(variant, init, device)
        self.optimizer = build_optimizer(self.model, variant)
        self.criterion = nn.CrossEntropyLoss()
        self.net = torch.compile(self.model, dynamic=False) if variant.compile else self.model
        self.forward = fused_forward_of(self.model) if variant.fused_blocks else self.net
        self.train_loader = loader_view(loaders["train"], batch_size, variant.static_shapes)
        self.eval_loader = loader_view(loaders["eval"], batch_size, variant.static_shapes)
        self._iters: dict[str, object] = {}
        self.running_loss = 0.0  # the article's running total, a Python float
        self.loss_sum = torch.zeros((), device=device)  # fit's running totals, on the device
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

    # one batch, as each loop does it --------------------------------------
    def train_batch(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One training step; returns the loss before the step (on the device)."""
        if self.variant.loop == "seed":
            loss, running_loss = seed_train_step(self.net, self.criterion, self.optimizer, X, y, self.device)
            self.running_loss += running_loss
            return loss
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)  # the course's fit(), line for line
        self.optimizer.zero_grad(set_to_none=True)
        out = logits_of(self.forward(X))
        loss = self.criterion(out, y)
        loss.backward()
        self.optimizer.step()
        self.loss_sum += loss.detach() * y.size(0)
        self.correct += (out.detach().argmax(1) == y).sum()
        return loss.detach()

    def eval_batch(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(summed loss, correct count)`` of one batch, on the device."""
        if self.variant.loop == "seed":
            loss, correct, running_loss = seed_eval_step(self.net, self.criterion, X, y, self.device)
            self.running_loss += running_loss
            return loss, correct
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)  # the course's evaluate()
        out = logits_of(self.forward(X))
        return self.criterion(out, y) * y.size(0), (out.argmax(1) == y).sum()

    def _eval_context(self):
        return torch.inference_mode() if self.variant.inference_mode else torch.no_grad()

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

    def check(self, X: torch.Tensor, y: torch.Tensor) -> dict:
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
        train_loss = self.train_batch(X, y).item()
        sync(self.device)
        first_train = time.perf_counter() - tic
        self.net.eval()
        with self._eval_context():
            after, _ = self.eval_batch(X, y)
        return {
            "eval_loss": eval_loss,
            "eval_correct": correct,
            "train_loss": train_loss,
            "loss_after_step": after.item() / len(y),
            "first_eval_s": first_eval,
            "first_train_s": first_train,
        }

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


def make_run(variant: Variant, device: torch.device, batch_size: int, loaders: dict, init: LeNet5) -> VariantRun:
    """A :class:`VariantRun` (or, for CUDA graphs, a ``GraphRun``) fed by ``loaders[variant.pipeline]``."""
    from .graphs import GraphRun

    cls = GraphRun if variant.cuda_graph else VariantRun
    return cls(variant, device, batch_size, loaders[variant.pipeline], init)
