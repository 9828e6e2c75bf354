"""Seeding, device choice and the environment report (chapter 0)."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

__all__ = ["set_seed", "get_device", "environment_report", "setup"]


def set_seed(seed: int = 42, deterministic: bool = False) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every CUDA device).

    With ``deterministic=True`` PyTorch is also asked for deterministic
    kernels, which can be slower on a GPU.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def get_device(preferred: str | None = None) -> torch.device:
    """The best device available: CUDA, then Apple's MPS, then the CPU.

    ``preferred`` (or the ``LENET_COURSE_DEVICE`` environment variable) picks
    one explicitly, e.g. ``"cpu"``.
    """
    preferred = preferred or os.environ.get("LENET_COURSE_DEVICE")
    if preferred:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {preferred!r} was asked for, but no CUDA GPU is available; use 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def environment_report(device: torch.device | str | None = None, data_source: str | None = None) -> str:
    """One line: Python, PyTorch and torchvision versions, the device, the data source."""
    import torchvision

    device = torch.device(device) if device is not None else get_device()
    where = device.type
    if device.type == "cuda":
        where = f"cuda ({torch.cuda.get_device_name(device)})"
    parts = [
        f"Python {platform.python_version()}",
        f"PyTorch {torch.__version__}",
        f"torchvision {torchvision.__version__}",
        f"device {where}",
    ]
    if data_source:
        parts.append(f"data {data_source}")
    return " | ".join(parts)


def setup(seed: int = 42, device: str | None = None, quiet: bool = False) -> torch.device:
    """The one call at the top of every chapter: seed everything, pick the device, report.

    Also keeps freed memory for reuse between training steps (see
    :mod:`lenet_course.fast.memory`). Returns the device to use. Prints the
    environment line unless ``quiet``.
    """
    from .fast.memory import keep_freed_memory

    set_seed(seed)
    keep_freed_memory()
    chosen = get_device(device)
    try:  # sharper inline figures in Jupyter; harmless elsewhere
        import matplotlib.pyplot as plt

        plt.rcParams["figure.dpi"] = 100
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    if not quiet:
        print(environment_report(chosen))
    return chosen
