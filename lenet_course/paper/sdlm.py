"""The 1998 optimiser: stochastic diagonal Levenberg-Marquardt (SDLM).

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). Each parameter w_k gets
its own step size

    eps_k = eta / (mu + h_kk),

where h_kk estimates the diagonal of the Hessian of the loss (its
Gauss-Newton approximation, always >= 0) and mu = 0.02 stops the step from
exploding where the curvature is nearly flat. h_kk is re-estimated on 500
training samples before each pass and kept fixed during the pass; eta
follows the paper's schedule over 20 passes (:func:`paper_eta`).

The curvature is back-propagated as in the paper's Appendix C: for a unit
with pre-activation a_i = sum_j w_ij x_j + b_i and output f(a_i),

    d2E/da_i^2 = f'(a_i)^2 d2E/dx_i^2,
    d2E/dx_j^2 = sum_i w_ij^2 d2E/da_i^2,
    d2E/dw_ij^2 = x_j^2 d2E/da_i^2    (summed over the connections sharing w_ij),

dropping the off-diagonal terms and f''. :func:`gauss_newton_diagonal` runs
this backward pass with autograd, one layer at a time: the gradient of the
layer applied to x^2 gives the third line, and the gradient of the layer
with squared weights gives the second. For one linear layer with a squared
error this is the exact Hessian diagonal (the tests check it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.optim.lr_scheduler import LambdaLR

__all__ = [
    "Stage",
    "gauss_newton_diagonal",
    "SDLM",
    "CurvatureEstimator",
    "PAPER_ETA",
    "paper_eta",
    "paper_scheduler",
]

# (first pass, last pass, eta), passes counted from 1 as in the paper
PAPER_ETA: tuple[tuple[int, int, float], ...] = (
    (1, 2, 5e-4),
    (3, 5, 2e-4),
    (6, 8, 1e-4),
    (9, 12, 5e-5),
    (13, 20, 1e-5),
)


def paper_eta(epoch: int) -> float:
    """The paper's global step eta for pass ``epoch + 1`` (``epoch`` counts from 0, as ``fit`` does)."""
    if epoch < 0:
        raise ValueError(f"epoch counts from 0, got {epoch}")
    for first, last, eta in PAPER_ETA:
        if first <= epoch + 1 <= last:
            return eta
    return PAPER_ETA[-1][2]


def paper_scheduler(optimizer: torch.optim.Optimizer, scale: float = 1.0) -> LambdaLR:
    """A scheduler giving the optimiser ``scale * paper_eta(epoch)``; ``fit`` calls ``step()`` after each pass.

    ``scale`` is the mini-batch size when the loss is a batch mean: the paper
    updated after every sample, and B samples' updates add up to about B
    times one mean-gradient step.
    """
    for group in optimizer.param_groups:
        group["lr"] = scale * paper_eta(0)
        group.pop("initial_lr", None)
    return LambdaLR(optimizer, lambda epoch: paper_eta(epoch) / paper_eta(0))


@dataclass
class Stage:
    """One layer of a network for the curvature pass.

    ``layer`` computes a pre-activation that is linear in its input (apart
    from a bias) and in each of its parameters (``layer.preactivation`` if it
    has one, else ``layer`` itself); ``activation`` (with a ``derivative``
    method) squashes it, or is None; ``flatten`` flattens the input first.
    """

    layer: nn.Module
    activation: nn.Module | None = None
    flatten: bool = False


class _Preactivation(nn.Module):
    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = getattr(self.layer, "preactivation", None)
        return pre(x) if pre is not None else self.layer(x)


def gauss_newton_diagonal(
    stages: list[Stage], x: torch.Tensor, output_curvature: float | torch.Tensor = 2.0
) -> dict[nn.Parameter, torch.Tensor]:
    """The Gauss-Newton diagonal d2E/dw^2 of every trainable parameter, averaged over the batch ``x``.

    ``output_curvature`` is d2E/dz^2 for the last stage's outputs z: 2 for
    E = sum (z - target)^2 (the 1998 RBF output with the MSE criterion), 1 for
    E = 1/2 sum (z - target)^2. Returns ``{parameter: tensor of its shape}``.
    """
    n = x.shape[0]
    inputs, pre, shapes = [], [], []
    h = x.detach()
    with torch.no_grad():
        for stage in stages:
            shapes.append(h.shape)
            if stage.flatten:
                h = h.flatten(1)
            a = _Preactivation(stage.layer)(h)
            inputs.append(h)
            pre.append(a)
            h = stage.activation(a) if stage.activation is not None else a
    curvature = torch.as_tensor(output_curvature, dtype=h.dtype, device=h.device).expand_as(h).clone()
    result: dict[nn.Parameter, torch.Tensor] = {}
    for k in reversed(range(len(stages))):
        stage, u, a = stages[k], inputs[k], pre[k]
        if stage.activation is not None:
            curvature = curvature * stage.activation.derivative(a) ** 2
        wrapper = _Preactivation(stage.layer)
        names = [name for name, p in wrapper.named_parameters() if p.requires_grad]
        params = [wrapper.get_parameter(name) for name in names]
        with torch.enable_grad():
            if params:  # d2E/dw^2 = sum over shared connections of x^2 d2E/da^2
                grads = torch.autograd.grad(wrapper(u**2), params, curvature, allow_unused=True)
                for p, g in zip(params, grads):
                    g = torch.zeros_like(p) if g is None else g
                    result[p] = result.get(p, 0) + g / n
            if k > 0:  # d2E/dx^2 = sum_i w_ij^2 d2E/da_i^2: the layer with squared weights, backwards
                squared = {name: p.detach() ** 2 for name, p in zip(names, params)}
                v = u.clone().requires_grad_(True)
                (g,) = torch.autograd.grad(functional_call(wrapper, squared, (v,)), v, curvature)
                curvature = g.reshape(shapes[k])
    return result


class SDLM(torch.optim.Optimizer):
    """Stochastic diagonal Levenberg-Marquardt: w_k <- w_k - lr / (mu + h_kk) * dE/dw_k.

    Call :meth:`set_hessian_diagonal` (or let a :class:`CurvatureEstimator`
    do it before each pass) before the first ``step``.
    """

    def __init__(self, params, lr: float = 5e-4, mu: float = 0.02) -> None:
        if lr <= 0 or mu <= 0:
            raise ValueError(f"SDLM needs lr > 0 and mu > 0, got lr={lr}, mu={mu}")
        super().__init__(params, dict(lr=lr, mu=mu))

    @torch.no_grad()
    def set_hessian_diagonal(self, diagonal: dict[torch.Tensor, torch.Tensor]) -> None:
        """Store h_kk for each parameter (a ``{parameter: tensor}`` as :func:`gauss_newton_diagonal` returns)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p in diagonal:
                    self.state[p]["hessian_diagonal"] = diagonal[p].detach().clone().to(p)

    def step_sizes(self, p: torch.Tensor) -> torch.Tensor:
        """The per-weight step lr / (mu + h_kk) currently used for parameter ``p``."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return group["lr"] / (group["mu"] + self._h(p))
        raise KeyError("this tensor is not one of the optimiser's parameters")

    def _h(self, p: torch.Tensor) -> torch.Tensor:
        h = self.state[p].get("hessian_diagonal")
        if h is None:
            raise RuntimeError(
                f"SDLM has no curvature estimate for a parameter of shape {tuple(p.shape)}; call "
                "set_hessian_diagonal (or a CurvatureEstimator, e.g. as fit's before_epoch) before the first step"
            )
        return h

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.addcdiv_(p.grad, self._h(p) + group["mu"], value=-group["lr"])
        return loss


class CurvatureEstimator:
    """The ``before_epoch`` hook of ``fit``: re-estimates h_kk on ``n`` training samples before each pass.

    ``images`` are the prepared training inputs (a tensor, or a loader with
    an ``images`` attribute such as ``TensorLoader``); the ``n`` samples are
    drawn afresh, with ``seed``, for every pass.
    """

    def __init__(
        self, model: nn.Module, optimizer: SDLM, images, n: int = 500, seed: int = 0, output_curvature: float = 2.0
    ) -> None:
        self.model, self.optimizer = model, optimizer
        self.images = getattr(images, "images", images)
        self.n, self.seed, self.output_curvature = min(n, len(self.images)), seed, output_curvature

    def __call__(self, epoch: int) -> dict[nn.Parameter, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        idx = torch.randperm(len(self.images), generator=g)[: self.n].to(self.images.device)
        device = next(self.model.parameters()).device
        diagonal = gauss_newton_diagonal(self.model.sdlm_stages(), self.images[idx].to(device), self.output_curvature)
        self.optimizer.set_hessian_diagonal(diagonal)
        return diagonal

    def __repr__(self) -> str:
        return f"CurvatureEstimator(n={self.n}, seed={self.seed}, output_curvature={self.output_curvature})"
