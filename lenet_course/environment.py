"""Seeding, device choice and the environment report (chapter 0); waiting for a GPU before timing it (chapter 7)."""

from __future__ import annotations

import os
import platform
import random
import warnings

import numpy as np
import torch

__all__ = ["set_seed", "get_device", "synchronize", "environment_report", "setup"]


CUBLAS_WORKSPACE = ":4096:8"  # the setting NVIDIA documents for repeatable cuBLAS results


def set_seed(seed: int = 42, deterministic: bool = False, *, warn_only: bool = True) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every CUDA device). Chapter 0.

    With ``deterministic=True`` PyTorch is also asked for deterministic
    kernels, which can be slower on a GPU. This changes settings for the whole
    process, on purpose and for the rest of it (restart the kernel to undo):

    - ``CUBLAS_WORKSPACE_CONFIG`` is set to ``:4096:8`` unless you set it
      yourself. PyTorch reads it once, when cuBLAS first runs, so it must be
      set before CUDA is initialised: call ``set_seed(..., deterministic=True)`` before anything
      touches the GPU (the first cell of a notebook). If CUDA is already
      initialised and the variable is not set, GPU matrix products cannot be
      made repeatable in this process: ``set_seed`` says so in one line (a
      ``RuntimeWarning``, or a ``RuntimeError`` with ``warn_only=False``).
    - cuDNN is asked for deterministic kernels and no benchmarking, and
      ``torch.use_deterministic_algorithms(True, warn_only=warn_only)`` is called.
      With ``warn_only=True`` (the default), an operation that has no
      deterministic version on the device warns, naming itself, and runs
      anyway: on a GPU, PyTorch lists ``NLLLoss`` (inside cross-entropy)
      among them, and a course chapter should finish rather than stop there.
      ``warn_only=False`` makes such an operation raise instead, for when
      exact repeatability matters more than finishing the run.

    ``deterministic=False`` (the default) only seeds; it leaves those settings
    as they are.
    """
    if deterministic:
        _set_cublas_workspace(warn_only)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=warn_only)


def _set_cublas_workspace(warn_only: bool) -> None:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` while it can still matter; say so in one line when it is too late."""
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG"):
        return  # the user's own choice, made before the process started or earlier in it
    if torch.cuda.is_initialized():
        # setting it now would satisfy PyTorch's check while cuBLAS keeps the workspace it already chose
        message = (
            "set_seed(deterministic=True): CUDA is already initialised, so CUBLAS_WORKSPACE_CONFIG cannot take "
            "effect and GPU matrix products may differ from run to run; restart the kernel and call it before "
            "anything uses the GPU"
        )
        if not warn_only:
            raise RuntimeError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE


def synchronize(device: torch.device | str | None = None) -> None:
    """Wait until the device has finished the work queued on it; nothing to wait for on a CPU. Chapter 7.

    A GPU runs kernels asynchronously: a call returns as soon as its work is
    queued. Call this before each reading of a clock when timing GPU work, or
    the time measured is that of queuing, not of computing.
    """
    device = torch.device(device) if device is not None else get_device()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


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
