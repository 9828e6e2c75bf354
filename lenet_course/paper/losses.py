"""The 1998 paper's loss functions for RBF outputs (eq. 8 and eq. 9).

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). Both take the scores a
model returns (for ``LeNet5Classic``, s_i = -y_i with y_i the RBF penalty
of class i) and the target classes D^p, and average over the batch:

- MSE criterion (eq. 8): E = mean_p y_{D^p}, the penalty of the correct class.
- MAP criterion (eq. 9): E = mean_p [ y_{D^p} + log(e^{-j} + sum_i e^{-y_i}) ].
  The second term pushes the wrong classes' penalties up, so the model cannot
  win by making every penalty small, and the constant j > 0 (a "rubbish
  class") keeps the already large penalties from being pushed up further.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["mse_criterion", "map_criterion", "MSECriterion", "MAPCriterion", "DEFAULT_J"]

DEFAULT_J = 1.0


def _check(scores: torch.Tensor, targets: torch.Tensor) -> None:
    if scores.dim() != 2 or targets.shape != scores.shape[:1]:
        raise ValueError(
            f"expected scores of shape (N, classes) and targets of shape (N,), got {tuple(scores.shape)} "
            f"and {tuple(targets.shape)}; pass the model's output and the labels"
        )


def mse_criterion(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Eq. 8: the mean over the batch of the correct class's penalty y_D = -score_D (chapter 11)."""
    _check(scores, targets)
    return -scores.gather(1, targets.view(-1, 1)).mean()


def map_criterion(scores: torch.Tensor, targets: torch.Tensor, j: float = DEFAULT_J) -> torch.Tensor:
    """Eq. 9: mean over the batch of y_D + log(e^{-j} + sum_i e^{-y_i}), with y = -scores (chapter 11)."""
    _check(scores, targets)
    rubbish = torch.full_like(scores[:, :1], -float(j))
    log_term = torch.logsumexp(torch.cat([rubbish, scores], dim=1), dim=1)
    return (-scores.gather(1, targets.view(-1, 1)).squeeze(1) + log_term).mean()


class MSECriterion(nn.Module):
    """Eq. 8 as a module: ``criterion(scores, targets)``."""

    def forward(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return mse_criterion(scores, targets)

    def __repr__(self) -> str:
        return "MSECriterion(E = mean y_D)"


class MAPCriterion(nn.Module):
    """Eq. 9 as a module, with its constant ``j``."""

    def __init__(self, j: float = DEFAULT_J) -> None:
        super().__init__()
        if j <= 0:
            raise ValueError(f"the constant j of eq. 9 must be positive, got {j}")
        self.j = float(j)

    def forward(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return map_criterion(scores, targets, self.j)

    def __repr__(self) -> str:
        return f"MAPCriterion(j={self.j})"
