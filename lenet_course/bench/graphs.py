"""CUDA graphs: the training step and the evaluation step each captured once on the GPU, then replayed.

One replay from Python runs every kernel of a step: LeNet-5's kernels are too
small to hide the cost of launching them one by one on a large GPU.
"""

from __future__ import annotations

import time

import torch

from .steps import VariantRun

__all__ = ["GraphRun"]


class GraphRun(VariantRun):
    """The training step and the evaluation step each captured once as a CUDA graph, then replayed."""

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
                opt.zero_grad(set_to_none=True)
                self.criterion(model(x), y).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                model(x)
        torch.cuda.current_stream(self.device).wait_stream(side)
        self.eval_graph = torch.cuda.CUDAGraph()
        with torch.no_grad(), torch.cuda.graph(self.eval_graph):
            out = model(x)
            self.eval_out = (self.criterion(out, y) * len(y), (out.argmax(1) == y).sum())
        model.train()
        opt.zero_grad(set_to_none=True)
        self.train_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.train_graph):
            out = model(x)
            loss = self.criterion(out, y)
            loss.backward()
            opt.step()
            self.loss_sum += loss.detach() * len(y)
            self.correct += (out.detach().argmax(1) == y).sum()
        self.train_loss = loss
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

    def check(self, X: torch.Tensor, y: torch.Tensor) -> dict:
        """Capture both graphs (which leaves the weights as they were), then check as the others do."""
        tic = time.perf_counter()
        self._load(X, y)
        self._capture()
        capture = time.perf_counter() - tic
        result = super().check(X, y)
        result["first_train_s"] += capture
        return result

    def train_batch(self, X, y):
        self._load(X, y)
        self.train_graph.replay()
        return self.train_loss.detach()

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
