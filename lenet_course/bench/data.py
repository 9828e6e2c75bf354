"""The benchmark's images: full MNIST or Fashion-MNIST when present, else generated ones of MNIST's shape."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..data import FASHION_SYSTEM_DIR, Split, _cache_dir, _split_from_files, find_idx_files

__all__ = ["FULL_TRAIN", "FULL_EVAL", "BenchData", "load_bench_data"]

FULL_TRAIN, FULL_EVAL = 60_000, 10_000


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
