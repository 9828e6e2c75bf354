"""The clock and the compute floor: timing on a device, multiply-accumulates per image, the machine's peak GFLOP/s.

LeNet-5 needs about 0.42 million multiply-accumulates per 32x32 image
forward, about three times that to train; the benchmark sets the GFLOP/s it
achieves next to the peak of a large matrix product measured in the same process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

__all__ = ["sync", "timed", "forward_macs", "measure_peak_gflops"]

T = TypeVar("T")


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work, so that the clock measures it (nothing to do on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, work: Callable[[], T]) -> tuple[T, float]:
    """``(what work() returns, seconds it took)``, the device's queue drained before and after."""
    sync(device)
    tic = time.perf_counter()
    out = work()
    sync(device)
    return out, time.perf_counter() - tic


def forward_macs(model: nn.Module, size: int = 32) -> int:
    """Multiply-accumulates of one forward pass of one image through the convolutions and linear layers."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output[0].numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, size, size, device=next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
    return total


def measure_peak_gflops(device: torch.device, n: int | None = None, repeats: int = 8) -> tuple[float, str]:
    """The machine's float32 peak, measured: the best GFLOP/s of a large square matrix product."""
    n = n or (8192 if device.type == "cuda" else 1536)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        torch.mm(a, b)
        best = math.inf
        for _ in range(repeats):
            best = min(best, timed(device, lambda: torch.mm(a, b))[1])
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    return 2 * n**3 / best / 1e9, f"best of {repeats} float32 {n}x{n} matrix products (torch.mm{threads})"
