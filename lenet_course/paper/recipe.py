"""The paper's training recipe for ``LeNet5Classic``, packaged for ``fit``.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``) and used by
``python -m lenet_course train --model classic`` and ``reproduce``.

The paper updated the weights after every single sample (20 passes of
60,000 updates). In PyTorch that is far too slow, so the recipe uses small
mini-batches with the loss averaged over the batch, and multiplies the
paper's global step eta by the batch size (B per-sample steps add up to
about B times one averaged step) while the batch is small enough that the
curvature barely changes within it. ``DEFAULT_BATCH_SIZE = 16`` keeps that
true and still runs about ten times faster than batch 1 on a CPU.

One departure is measured, not assumed: mu. It is not a scaling slip
(the tests check that h_kk is the Hessian diagonal of the same per-sample
loss whose gradient SDLM divides); the paper's mu = 0.02 fails here because
h_kk is held fixed for a whole pass while the network leaves the point
where it was estimated. The paper's initialisation starts every weighted
sum small (mean |a| about 0.02 in C5, 0.01 in F6), so the curvature found
before the first pass is small too: mean h_kk about 1e-5 for C1 and S2,
1e-4 for C3, 3e-5 for S4, 6e-3 for C5 and 3e-3 for F6's weights, all
below mu on average, so most steps are about eta / mu = 0.025. One update per
sample, on the sample digits: the first update moves C5's weights by about
half their size and takes C5's weighted sums from 0.02 to 0.3, after which
F6's weights have 120 times the curvature they were given; after three
updates S2's and S4's have 70 to 100 times. The steps are then that much
too long, and by the fifth update C3's weighted sums are about 16 and every
F6 unit is saturated (f' ~ 0, so nothing brings it back: 10% accuracy).
Re-estimating h_kk before every update, mu = 0.02 does train (85% after one
pass over 2,000 digits), but at the cost of a curvature pass per update;
every 100 updates is not enough. With the estimate per pass, one pass over
4,000 digits survives when the largest step eta x B / mu is about 0.008 or
less: batch 1 trains with mu = 0.1 (71%) or 0.2 (92%) and diverges with
0.05; batch 16 (eta x 16) trains with mu = 1 (84%) and diverges with 0.5.
``DEFAULT_MU = 1.0`` caps every step at eta x batch size; ``mu=0.02``
gives the paper's value.
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
