"""The paper's distortions: random planar affine maps of whole batches of digits.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). For the 0.8% result the
paper added 540,000 distorted copies of the training digits, made with
"horizontal and vertical translations, scaling, squeezing (simultaneous
horizontal compression and vertical elongation, or the reverse), and
horizontal shearing". :class:`RandomDistortion` draws one such map per image
and applies it to a batch ``(N, C, H, W)`` in one ``grid_sample`` call, on
whatever device the batch lives. The ranges are not given in the paper; the
defaults here are modest ones that keep every digit legible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["RandomDistortion", "affine_matrices", "DistortedLoader"]


def affine_matrices(
    n: int,
    max_shift: float = 2.0,
    max_scale: float = 0.1,
    max_squeeze: float = 0.1,
    max_shear: float = 0.2,
    size: int = 32,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` random 2x3 matrices (output -> input coordinates, as ``F.affine_grid`` wants).

    Each draws uniformly: a shift of up to ``max_shift`` pixels in x and y, a
    scale 1 +- ``max_scale``, a squeeze s (x by 1+s, y by 1/(1+s)) with
    |s| <= ``max_squeeze``, and a horizontal shear up to ``max_shear``.
    """

    def uniform(bound: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * bound

    scale = 1 + uniform(max_scale)
    squeeze = 1 + uniform(max_squeeze)
    shear = uniform(max_shear)
    sx, sy = scale * squeeze, scale / squeeze
    theta = torch.zeros(n, 2, 3)
    # forward map: x' = sx * x + shear * sy * y + tx ; y' = sy * y + ty. Invert it for sampling.
    theta[:, 0, 0] = 1 / sx
    theta[:, 0, 1] = -shear / sx
    theta[:, 1, 1] = 1 / sy
    shift = uniform(max_shift) * 2 / size, uniform(max_shift) * 2 / size  # pixels -> [-1, 1] units
    theta[:, 0, 2] = -(shift[0] - shear * shift[1]) / sx
    theta[:, 1, 2] = -shift[1] / sy
    return theta


class RandomDistortion(nn.Module):
    """A random affine distortion per image of a batch; pixels outside are filled with the background.

    ``p`` is the share of images distorted (0.9 matches the paper's training
    set: 540,000 distorted of 600,000); ``background`` defaults to each
    image's smallest value.
    """

    def __init__(
        self,
        max_shift: float = 2.0,
        max_scale: float = 0.1,
        max_squeeze: float = 0.1,
        max_shear: float = 0.2,
        p: float = 1.0,
        background: float | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"p is a probability, got {p}")
        self.max_shift, self.max_scale, self.max_squeeze, self.max_shear = max_shift, max_scale, max_squeeze, max_shear
        self.p, self.background = p, background
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"RandomDistortion expects a batch (N, C, H, W), got shape {tuple(x.shape)}; add x.unsqueeze(0)"
            )
        n = x.shape[0]
        theta = affine_matrices(
            n,
            self.max_shift,
            self.max_scale,
            self.max_squeeze,
            self.max_shear,
            size=x.shape[-1],
            generator=self.generator,
        )
        keep = torch.rand(n, generator=self.generator) >= self.p
        theta[keep] = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        theta = theta.to(x.device, x.dtype)
        if self.background is None:
            fill = x.amin(dim=(1, 2, 3), keepdim=True)
        else:
            fill = torch.full((n, 1, 1, 1), float(self.background), device=x.device, dtype=x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return out + fill

    def __repr__(self) -> str:
        return (
            f"RandomDistortion(shift<={self.max_shift}px, scale 1+-{self.max_scale}, "
            f"squeeze 1+-{self.max_squeeze}, shear<={self.max_shear}, p={self.p})"
        )


class DistortedLoader:
    """Wrap a loader so that every training batch is distorted afresh (``len`` and ``dataset`` pass through)."""

    def __init__(self, loader, distortion: RandomDistortion) -> None:
        self.loader, self.distortion = loader, distortion
        self.dataset = loader.dataset

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for X, y in self.loader:
            yield self.distortion(X), y

    def state_dict(self) -> dict:
        """The wrapped loader's position and the distortion's random state, to resume a run exactly."""
        inner = getattr(self.loader, "state_dict", None)
        generator = self.distortion.generator
        return {
            "loader": inner() if callable(inner) else None,
            "generator": generator.get_state() if generator is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("loader") is not None:
            self.loader.load_state_dict(state["loader"])
        if state.get("generator") is not None and self.distortion.generator is not None:
            self.distortion.generator.set_state(state["generator"].cpu())

    def __getattr__(self, name):  # e.g. ``images`` for the curvature estimate
        return getattr(self.loader, name)
