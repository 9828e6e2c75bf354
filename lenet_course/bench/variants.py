"""What the benchmark compares: its images, the rows (variants) and how each builds its model, optimiser and loaders.

Used by ``python -m lenet_course bench``. Each row keeps the speed-ups of the
rows above it: the whole split as one tensor, the course's model and
:func:`~lenet_course.training.train_step` (no softmax while training), Adam
with ``foreach`` then ``fused`` kernels, channels-last memory format,
``inference_mode`` for evaluation, then ``torch.compile``. The
``fused_blocks`` row starts again from ``inference``: it computes the same
model with :mod:`lenet_course.fast.fused` (C1+S2 and C3+S4 as single autograd
functions) in the usual memory layout, which is what ``fit`` does on a CPU.
CUDA graphs (GPU) build on ``inference``. Rows differ only by these options.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from ..data import FASHION_SYSTEM_DIR, Split, TensorLoader, _cache_dir, _split_from_files, find_idx_files
from ..models import LeNet5
from .seed import seed_loaders, seed_model_from

__all__ = [
    "FULL_TRAIN",
    "FULL_EVAL",
    "BenchData",
    "load_bench_data",
    "Variant",
    "VARIANTS",
    "NOT_EAGER",
    "Loaders",
    "build_model",
    "build_optimizer",
    "resize_once",
    "pipelines",
    "loader_view",
]

FULL_TRAIN, FULL_EVAL = 60_000, 10_000


# ---------------------------------------------------------------- the images


@dataclass
class BenchData:
    """The images to train and evaluate on (uint8, 28x28) and where they came from."""

    train: Split
    eval: Split
    source: str

    def __repr__(self) -> str:
        return f"BenchData({len(self.train):,} train / {len(self.eval):,} eval images from {self.source})"


def _generated(n: int, seed: int) -> Split:
    """``n`` random images of MNIST's shape: a bright class-dependent bar on noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randint(0, 64, (n, 28, 28), generator=g, dtype=torch.uint8)
    rows = 4 + 2 * labels  # class c lights up rows 4+2c and 5+2c
    for offset in (0, 1):
        images[torch.arange(n), rows + offset, 4:24] = 255
    return Split(images, labels)


def _head(split: Split, n: int) -> Split:
    return Split(split.images[:n], split.labels[:n].long())


def load_bench_data(data: str = "auto", n_train: int = FULL_TRAIN, n_eval: int = FULL_EVAL, seed: int = 0) -> BenchData:
    """``n_train`` + ``n_eval`` images: full MNIST or Fashion-MNIST when present, else generated.

    ``data="auto"`` looks (without downloading) in ``LENET_COURSE_DATA``, the
    course's cache folder and the Debian Fashion-MNIST folder; ``"generated"``
    skips the search.
    """
    if data not in {"auto", "generated"}:
        raise ValueError(f"data must be 'auto' or 'generated', got {data!r}")
    if data == "auto":
        folders = [
            Path(p) for p in [os.environ.get("LENET_COURSE_DATA")] if p and p not in {"auto", "sample", "download"}
        ]
        candidates = [(f, "mnist") for f in folders + [_cache_dir()]] + [
            (f, "fashion") for f in folders + [_cache_dir(), FASHION_SYSTEM_DIR]
        ]
        for folder, dataset in candidates:
            found = find_idx_files(folder, dataset)
            if "train" in found and "test" in found:
                train, test = _split_from_files(found["train"]), _split_from_files(found["test"])
                if len(train) >= n_train and len(test) >= n_eval:
                    name = "Fashion-MNIST" if dataset == "fashion" else "MNIST"
                    return BenchData(_head(train, n_train), _head(test, n_eval), f"{name} in {folder}")
    return BenchData(_generated(n_train, seed), _generated(n_eval, seed + 1), "generated images of MNIST's shape")


# ---------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Variant:
    """One row of the benchmark: how the data is fed, which model and loop, which speed-ups."""

    name: str
    adds: str
    pipeline: str = "tensor"  # "seed": DataLoader of PIL images; "tensor": TensorLoader
    loop: str = "fit"  # "seed": the article's train/validate step and model; "fit": the course's train_step
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


# ---------------------------------------------------------------- building a row


class Loaders(NamedTuple):
    """One pipeline's two loaders over the benchmark's images."""

    train: object
    eval: object


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


def pipelines(data: BenchData, device: torch.device) -> dict[str, Loaders]:
    """Both pipelines over the same images: the article's ``DataLoader``s, and ``TensorLoader``s on ``device``.

    The fast path's images are resized once, up front, to the very same pixels as the article's.
    """

    def tensor_loader(split: Split, shuffle: bool) -> TensorLoader:
        return TensorLoader(Split(resize_once(split.images), split.labels), shuffle=shuffle, device=device, pad=0)

    return {
        "seed": Loaders(*seed_loaders(data.train, data.eval)),
        "tensor": Loaders(tensor_loader(data.train, True), tensor_loader(data.eval, False)),
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
