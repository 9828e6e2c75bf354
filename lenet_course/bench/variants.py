"""The course's fast path and its speed-ups, one benchmark row each, and how each builds its model and optimiser.

Each row keeps the speed-ups of the rows above it: the whole split as one
tensor, the course's model and ``fit`` loop (no softmax while training), Adam
with ``foreach`` then ``fused`` kernels, channels-last memory format,
``inference_mode`` for evaluation, then ``torch.compile``. The ``fused_blocks`` row
starts again from ``inference``: it computes the same model with
``lenet_course.fast.fused`` (C1+S2 and C3+S4 as single autograd functions) in the
usual memory layout, which is what ``fit`` does on a CPU. CUDA graphs (GPU)
build on ``inference``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..data import Split, TensorLoader
from ..models import LeNet5
from .data import BenchData
from .seed import seed_model_from

__all__ = [
    "Variant",
    "VARIANTS",
    "NOT_EAGER",
    "build_model",
    "build_optimizer",
    "resize_once",
    "tensor_loaders",
    "loader_view",
]


@dataclass(frozen=True)
class Variant:
    """One row of the benchmark: how the data is fed, which model and loop, which speed-ups."""

    name: str
    adds: str
    pipeline: str = "tensor"  # "seed": DataLoader of PIL images; "tensor": TensorLoader
    loop: str = "fit"  # "seed": the article's train/validate loop and model; "fit": the course's
    optimizer: str = "default"  # Adam(...), Adam(foreach=True), Adam(fused=True)
    channels_last: bool = False
    inference_mode: bool = False
    compile: bool = False
    fused_blocks: bool = False
    cuda_graph: bool = False

    @property
    def static_shapes(self) -> bool:
        return self.compile or self.cuda_graph


VARIANTS = [
    Variant("seed", "the article: PIL Resize + ToTensor per image, DataLoader, softmax in the model", "seed", "seed"),
    Variant("tensor", "TensorLoader: the whole split as one tensor, batches by index", "tensor", "seed"),
    Variant("logits", "the course's LeNet5 and fit loop: no softmax while training (the fast path, eager)"),
    Variant("foreach", "Adam(foreach=True): one kernel per step for all parameters", optimizer="foreach"),
    Variant("fused", "Adam(fused=True): the whole update in one fused kernel", optimizer="fused"),
    Variant("channels_last", "model.to(memory_format=torch.channels_last)", optimizer="fused", channels_last=True),
    Variant(
        "inference",
        "torch.inference_mode() for evaluation (training as above)",
        optimizer="fused",
        channels_last=True,
        inference_mode=True,
    ),
    Variant(
        "compile", "torch.compile(model)", optimizer="fused", channels_last=True, inference_mode=True, compile=True
    ),
    Variant(
        "fused_blocks",
        "lenet_course.fast.fused instead of compile and channels-last: "
        "C1+S2 and C3+S4 each one autograd function (fit's CPU path)",
        optimizer="fused",
        inference_mode=True,
        fused_blocks=True,
    ),
    Variant(
        "cuda_graph",
        "the whole training step captured as one CUDA graph (GPU only)",
        optimizer="fused",
        channels_last=True,
        inference_mode=True,
        cuda_graph=True,
    ),
]

# the rows that are not plain eager PyTorch on the fast path: the baseline, and those paying a compile or capture first
NOT_EAGER = frozenset({"seed"} | {v.name for v in VARIANTS if v.static_shapes})


def build_model(variant: Variant, init: LeNet5, device: torch.device) -> nn.Module:
    """A copy of ``init`` on ``device`` as ``variant`` runs it: the article's model or the course's, in its layout."""
    course = copy.deepcopy(init)
    model = seed_model_from(course) if variant.loop == "seed" else course
    model.to(device)
    if variant.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def build_optimizer(model: nn.Module, variant: Variant) -> torch.optim.Adam:
    """Adam with lr 1e-3 and ``variant``'s kernels (``foreach``, ``fused``; ``capturable`` for a CUDA graph)."""
    kwargs = {"foreach": {"foreach": True}, "fused": {"fused": True}}.get(variant.optimizer, {})
    if variant.cuda_graph:
        kwargs = {**kwargs, "capturable": True}
    return torch.optim.Adam(model.parameters(), lr=1e-3, **kwargs)


def resize_once(images: torch.Tensor) -> torch.Tensor:
    """Every uint8 28x28 image resized to 32x32 at once, pixel for pixel as the article's PIL ``Resize``."""
    from torchvision.transforms.v2 import functional as TF

    return TF.resize(images.unsqueeze(1), [32, 32], antialias=True).squeeze(1)


def tensor_loaders(data: BenchData, device: torch.device) -> dict:
    """The fast path's loaders: the images resized once, up front, and held as one tensor on ``device``."""
    return {
        "train": TensorLoader(
            Split(resize_once(data.train.images), data.train.labels), shuffle=True, device=device, pad=0
        ),
        "eval": TensorLoader(
            Split(resize_once(data.eval.images), data.eval.labels), shuffle=False, device=device, pad=0
        ),
    }


def loader_view(loader, batch_size: int, drop_last: bool):
    """Another loader over the same images, with its own batch size and epoch count."""
    if isinstance(loader, TensorLoader):
        view = copy.copy(loader)  # shares the image tensor: no second copy in memory
        view.batch_size, view.drop_last, view.epoch = batch_size, drop_last, 0
        return view
    from torch.utils.data import DataLoader, RandomSampler

    shuffle = isinstance(loader.sampler, RandomSampler)
    return DataLoader(loader.dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
