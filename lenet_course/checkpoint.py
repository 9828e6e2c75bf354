"""Saving and loading training checkpoints, atomically, with everything an exact resume needs.

Introduced in chapter 8 (``08_training_loop.ipynb``). A checkpoint is written
to a temporary file beside its target, flushed to disk, then renamed over the
target in one step, so a run interrupted mid-save leaves the previous
checkpoint intact, never a half-written one.

``fit`` stores in it the model, the optimizer (and scheduler), the history,
the training loader's position (``loader_state``) and the random number
generators' states (:func:`random_state`): everything the next epoch depends
on, so that a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "atomic_write",
    "random_state",
    "restore_random_state",
]

FORMAT = "lenet_course.checkpoint/1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, corrupt, or for another model.

    ``path`` is the file; ``reason`` what is wrong with it, without advice (for callers that give their own).
    """

    def __init__(self, message: str, path: Path | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path, self.reason = path, reason or message


def atomic_write(path: str | Path, write) -> Path:
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a folder made read-only: say which file could not be written
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int = 0,
    history: dict | None = None,
    **extra: Any,
) -> Path:
    """Write model and optimizer state, the epoch and the history to ``path`` atomically."""
    state = {
        "format": FORMAT,
        "model_class": type(model).__name__,
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "epoch": epoch,
        "history": history or {},
        **extra,
    }
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(
    path: str | Path,
    model: nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device = "cpu",
) -> dict:
    """Read a checkpoint, restoring ``model`` and ``optimizer`` when given; returns its contents."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train first, or check the path", path, "missing")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0].split(". ")[0][:120] if str(exc).strip() else type(exc).__name__
        reason = f"{path} is not a readable checkpoint ({detail})"
        raise CheckpointError(f"{reason}; delete it and train again", path, reason) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        reason = f"{path} is not a lenet_course checkpoint"
        raise CheckpointError(f"{reason}; pass a file written by save_checkpoint or fit", path, reason)
    if model is not None:
        if state["model_class"] != type(model).__name__:
            raise CheckpointError(
                f"{path} holds a {state['model_class']}, not a {type(model).__name__}; build that model to load it"
            )
        try:
            model.load_state_dict(state["model_state"])
        except RuntimeError as exc:
            raise CheckpointError(
                f"{path} does not fit this {type(model).__name__}: {str(exc).splitlines()[0]}"
            ) from None
    if optimizer is not None and state.get("optimizer_state") is not None:
        try:
            optimizer.load_state_dict(state["optimizer_state"])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointError(
                f"{path} holds the state of another optimizer ({str(exc).splitlines()[0][:120]}); "
                "resume with the settings the run was started with"
            ) from None
    return state


def random_state() -> dict:
    """The states of every random number generator a training step may draw from: Python's, NumPy's, PyTorch's."""
    import numpy as np

    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [name, keys.tolist(), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict) -> None:
    """Put back the generators' states saved by :func:`random_state` (CUDA's only where there are as many GPUs)."""
    import numpy as np

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
