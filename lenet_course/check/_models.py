"""Models for the checkers of chapters 6 and 8, built without touching any random number generator.

The judge sends a model's weights as plain data; these helpers make them
(from a private generator) and load them into a fresh model.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..models import LeNet5
from .compare import show
from .exercise import AnswerError


def lenet_weights(seed: int) -> dict[str, torch.Tensor]:
    """A LeNet5 state dict drawn from a private generator, like PyTorch's default initialisation."""
    with torch.device("meta"):
        model = LeNet5()
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            bound = 1 / math.sqrt(module.weight[0].numel())
            for part in ("weight", "bias"):
                shape = getattr(module, part).shape
                weights[f"{name}.{part}"] = (torch.rand(shape, generator=generator) * 2 - 1) * bound
    assert set(weights) == set(model.state_dict()), "LeNet5 gained a parameter the checkers do not draw"
    return weights


def lenet_with(weights: dict[str, torch.Tensor]) -> LeNet5:
    """The package's LeNet5 holding ``weights``, on the CPU (no random numbers drawn)."""
    with torch.device("meta"):
        model = LeNet5()
    model.to_empty(device="cpu")
    model.load_state_dict(weights)
    return model


def _cuda_devices() -> list[int]:
    """The CUDA devices whose generators a learner's code could draw from (none before CUDA starts)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return list(range(torch.cuda.device_count()))
    return []


def learner_model(model_class: object, weights: dict[str, torch.Tensor], variable: str) -> nn.Module:
    """The learner's model (a class, or an instance copied) on the CPU, holding ``weights``, in eval mode.

    Building it draws random numbers for its initial weights; the learner's
    generators (CPU and any started CUDA device) are put back as they were.
    """
    with torch.random.fork_rng(devices=_cuda_devices()):
        model = copy.deepcopy(model_class) if isinstance(model_class, nn.Module) else model_class()
    if not isinstance(model, nn.Module):
        raise AnswerError(f"did not run: {variable}() made {show(model)}, not an nn.Module")
    model.to_empty(device="cpu")  # from wherever it was (a GPU, the meta device); every weight is set next
    model.load_state_dict(weights)
    return model.eval()
