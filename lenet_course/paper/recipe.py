"""The paper's training recipe for ``LeNet5Classic``, packaged for ``fit``.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``) and used by
``python -m lenet_course train --model classic`` and ``reproduce``.

SDLM with the paper's eta schedule, the MAP loss and a curvature estimate on
500 training samples before each pass, with two departures from the paper:

- mini-batches (``DEFAULT_BATCH_SIZE = 16``) with the loss averaged over the
  batch and eta multiplied by the batch size, where the paper updated the
  weights after every sample;
- ``DEFAULT_MU = 1.0``, which caps every step at eta x batch size; the
  paper's mu = 0.02 diverges when the curvature is estimated once per pass
  (``mu=PAPER_MU`` gives it).

Chapter 11 explains both; the measurements behind them are in
``docs/measurements.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..data import EVAL_BATCH_SIZE
from .losses import DEFAULT_J, MAPCriterion
from .network import classic_loader
from .sdlm import SDLM, CurvatureEstimator, paper_scheduler

__all__ = ["Recipe", "paper_recipe", "DEFAULT_BATCH_SIZE", "DEFAULT_MU", "PAPER_MU", "PAPER_PASSES"]

DEFAULT_BATCH_SIZE = 16
PAPER_MU = 0.02
DEFAULT_MU = 1.0
PAPER_PASSES = 20


@dataclass
class Recipe:
    """Everything ``fit`` needs to train the 1998 network the paper's way."""

    train_loader: object
    optimizer: SDLM
    scheduler: object
    criterion: nn.Module
    before_epoch: Callable[[int], object]
    batch_size: int
    device: torch.device

    def loader(self, split, shuffle: bool = False, batch_size: int = EVAL_BATCH_SIZE):
        """A loader for another split, scaled and padded like the training one."""
        return classic_loader(split, batch_size=batch_size, shuffle=shuffle, device=self.device)

    def fit_kwargs(self) -> dict:
        """``optimizer``, ``criterion``, ``before_epoch`` and ``scheduler``, to pass on to ``fit``."""
        return dict(
            optimizer=self.optimizer, criterion=self.criterion, before_epoch=self.before_epoch, scheduler=self.scheduler
        )


def paper_recipe(
    model: nn.Module,
    train_split,
    batch_size: int = DEFAULT_BATCH_SIZE,
    mu: float = DEFAULT_MU,
    j: float = DEFAULT_J,
    curvature_samples: int = 500,
    seed: int = 0,
    device: torch.device | str | None = None,
    train_size: int | None = None,
    transform: Callable | None = None,
) -> Recipe:
    """SDLM with the paper's eta schedule (scaled by ``batch_size``), the MAP loss, h_kk on 500 samples per pass.

    ``train_size`` keeps only the first images of a shuffled ``train_split``
    (for quick runs); ``transform`` (e.g. a ``RandomDistortion``) is applied
    to every training batch.
    """
    from ..data import Split

    device = torch.device(device) if device is not None else next(model.parameters()).device
    if train_size is not None and train_size < len(train_split):
        keep = torch.randperm(len(train_split), generator=torch.Generator().manual_seed(seed))[:train_size]
        train_split = Split(train_split.images[keep], train_split.labels[keep])
    loader = classic_loader(train_split, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    if transform is not None:
        from .distortions import DistortedLoader

        loader = DistortedLoader(loader, transform)
    model.to(device)
    optimizer = SDLM(model.parameters(), mu=mu)
    scheduler = paper_scheduler(optimizer, scale=batch_size)
    estimator = CurvatureEstimator(model, optimizer, loader.images, n=curvature_samples, seed=seed)
    return Recipe(loader, optimizer, scheduler, MAPCriterion(j), estimator, batch_size, device)
