"""LeNet-5 exactly as published in 1998, layer by layer.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). Where ``models.LeNet5``
is the seed article's simplified network, this one follows LeCun, Bottou,
Bengio and Haffner (1998): the scaled tanh, trainable subsampling, the sparse
C3 connection table, Euclidean RBF output units with fixed bitmap parameters,
fan-in initialisation and the paper's input scaling. Each paper layer is one
named attribute (``c1, s2, c3, s4, c5, f6, f7``), and
``layer_table(LeNet5Classic())`` reproduces the paper's parameter and
connection counts exactly (60,000 parameters, 340,908 connections).

Like every model in the package, ``forward`` returns one score per class,
highest wins: here the negative RBF penalties, ``-y_i``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models import check_input
from .bitmaps import rbf_prototypes
from .sdlm import Stage

__all__ = [
    "A",
    "S",
    "BACKGROUND",
    "FOREGROUND",
    "C3_TABLE",
    "scaled_tanh",
    "ScaledTanh",
    "TrainableSubsampling",
    "C3Conv",
    "RBFOutput",
    "init_fan_in_",
    "scale_input",
    "classic_loader",
    "LeNet5Classic",
]

A, S = 1.7159, 2.0 / 3.0
BACKGROUND, FOREGROUND = -0.1, 1.175

# Which S2 maps feed each C3 map (Table I of the paper).
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (0, 4, 5),
    (0, 1, 5),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (0, 3, 4, 5),
    (0, 1, 4, 5),
    (0, 1, 2, 5),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def scaled_tanh(a: torch.Tensor) -> torch.Tensor:
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (chapter 11)."""
    return A * torch.tanh(S * a)


class ScaledTanh(nn.Module):
    """f(a) = 1.7159 tanh(2a/3): f(1) = 1, f(-1) = -1, steepest (gain about 1.14) at 0."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return scaled_tanh(a)

    @staticmethod
    def derivative(a: torch.Tensor) -> torch.Tensor:
        """f'(a) = A S (1 - tanh^2(S a)), used by the curvature estimate of the optimiser."""
        return A * S * (1 - torch.tanh(S * a) ** 2)

    def __repr__(self) -> str:
        return f"ScaledTanh(A={A}, S=2/3)"


def _uniform_fan_in_(tensor: torch.Tensor, fan_in: int | torch.Tensor) -> None:
    """Fill ``tensor`` uniformly in (-2.4/F_i, 2.4/F_i); ``fan_in`` may vary along dim 0."""
    bound = 2.4 / torch.as_tensor(fan_in, dtype=tensor.dtype, device=tensor.device)
    bound = bound.reshape(-1, *([1] * (tensor.dim() - 1))) if bound.dim() else bound
    with torch.no_grad():
        tensor.uniform_(-1, 1).mul_(bound)


class TrainableSubsampling(nn.Module):
    """S2 and S4: each unit sums a 2x2 block, multiplies by its map's coefficient, adds its bias, squashes.

    y = f(coef_m * (x_1 + x_2 + x_3 + x_4) + bias_m) for map m: 2 parameters per map,
    and 5 connections per output unit (4 inputs and the bias).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))
        self.squash = ScaledTanh()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_fan_in_(self.weight, 4)
        _uniform_fan_in_(self.bias, 4)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """coef * (2x2 sum) + bias, before squashing."""
        block_sum = 4 * F.avg_pool2d(x, kernel_size=2)
        return block_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.squash(self.preactivation(x))

    def connections(self, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
        return math.prod(output_shape) * (4 + 1)

    def __repr__(self) -> str:
        return f"TrainableSubsampling({self.channels} maps, 2x2 sum x coef + bias, squashed)"


class C3Conv(nn.Module):
    """C3: 16 maps of 5x5 kernels, map i reading only the S2 maps in ``table[i]``.

    Stores exactly the paper's 1,516 trainable values: ``weight`` holds the
    1,500 kernel weights of the 60 connected (C3 map, S2 map) pairs, packed
    in one vector (pair by pair in the table's order, each 5x5 kernel row by
    row), and ``bias`` the 16 biases. :meth:`kernel` scatters the packed
    weights into the full (16, 6, 5, 5) kernel, with zeros where the table
    has no connection, and ``forward`` is one ``conv2d`` with it, so
    ``sum(p.numel() for p in c3.parameters())`` is 1,516. Chapter 4's masked
    convolution (a full weight times a 0/1 mask) computes the same maps and
    gradients but stores 900 weights that always stay zero.
    """

    def __init__(
        self, table: tuple[tuple[int, ...], ...] = C3_TABLE, in_channels: int = 6, kernel_size: int = 5
    ) -> None:
        super().__init__()
        out_channels = len(table)
        mask = torch.zeros(out_channels, in_channels, 1, 1)
        for o, inputs in enumerate(table):
            for i in inputs:
                if not 0 <= i < in_channels:
                    raise ValueError(f"C3 map {o} reads S2 map {i}, but S2 has maps 0..{in_channels - 1}")
                mask[o, i] = 1.0
        self.table = tuple(tuple(row) for row in table)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        mask = mask.expand(-1, -1, kernel_size, kernel_size).clone()
        # derived from the table, not learnt: neither is saved in a checkpoint
        self.register_buffer("mask", mask, persistent=False)
        self.register_buffer("index", torch.nonzero(mask.flatten()).flatten(), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(self.index)))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def fan_in(self) -> torch.Tensor:
        """Inputs per unit of each output map: (number of connected maps) x 25."""
        return self.mask.sum(dim=(1, 2, 3))

    def reset_parameters(self) -> None:
        # drawn as for a full kernel and then packed, so that a seed gives the same network as the masked version
        full = torch.empty(self.mask.shape, dtype=self.weight.dtype, device=self.weight.device)
        _uniform_fan_in_(full, self.fan_in())
        with torch.no_grad():
            self.weight.copy_(full.flatten()[self.index])
        _uniform_fan_in_(self.bias, self.fan_in())

    def kernel(self) -> torch.Tensor:
        """The full (16, 6, 5, 5) kernel: the packed weights in place, zeros for the missing connections."""
        full = self.weight.new_zeros(self.mask.numel())
        return full.index_put((self.index,), self.weight).view(self.mask.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel(), self.bias)

    def trainable_parameters(self) -> int:
        return self.weight.numel() + self.bias.numel()

    def connections(self, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
        positions = math.prod(output_shape[1:])
        return positions * self.trainable_parameters()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        """Also read the masked version's checkpoints: a full (16, 6, 5, 5) weight and its saved mask."""
        mask = state_dict.pop(prefix + "mask", None)
        weight = state_dict.get(prefix + "weight")
        if weight is not None and weight.dim() == 4:
            if mask is not None and not torch.equal(mask.to(self.mask), self.mask):
                raise RuntimeError(f"{prefix}mask: this C3 was saved with another connection table")
            state_dict[prefix + "weight"] = weight.flatten()[self.index.to(weight.device)]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __repr__(self) -> str:
        pairs = int(self.mask[:, :, 0, 0].sum())
        return (
            f"C3Conv({self.in_channels} -> {self.out_channels} maps, {self.kernel_size}x{self.kernel_size}, "
            f"{pairs} of {self.in_channels * self.out_channels} map pairs connected: "
            f"{self.weight.numel():,} weights + {self.bias.numel()} biases)"
        )


class RBFOutput(nn.Module):
    """The output layer: y_i = sum_j (x_j - w_ij)^2 with fixed w_ij in {-1, +1} (the digit bitmaps).

    Returns the penalties y_i (smallest wins); 10 x 84 = 840 connections, no
    trainable parameters (``weight`` is a buffer).
    """

    def __init__(self, prototypes: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("weight", (rbf_prototypes() if prototypes is None else prototypes).clone().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.unsqueeze(1) - self.weight) ** 2).sum(dim=2)

    def connections(self, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
        return self.weight.numel()

    def __repr__(self) -> str:
        n, d = self.weight.shape
        return f"RBFOutput({d} -> {n}, fixed +1/-1 bitmaps, output y_i = sum_j (x_j - w_ij)^2)"


def init_fan_in_(model: nn.Module) -> nn.Module:
    """The paper's initialisation: every weight and bias uniform in (-2.4/F_i, 2.4/F_i), F_i the unit's fan-in."""
    for module in model.modules():
        if isinstance(module, (TrainableSubsampling, C3Conv)):
            module.reset_parameters()
        elif isinstance(module, nn.Conv2d):
            fan_in = module.in_channels // module.groups * math.prod(module.kernel_size)
            _uniform_fan_in_(module.weight, fan_in)
            if module.bias is not None:
                _uniform_fan_in_(module.bias, fan_in)
        elif isinstance(module, nn.Linear):
            _uniform_fan_in_(module.weight, module.in_features)
            if module.bias is not None:
                _uniform_fan_in_(module.bias, module.in_features)
    return model


def scale_input(x: torch.Tensor) -> torch.Tensor:
    """Map pixels in [0, 1] (0 = background) to the paper's range: background -0.1, ink 1.175."""
    return BACKGROUND + (FOREGROUND - BACKGROUND) * x


def classic_loader(
    split, batch_size: int = 32, shuffle: bool = False, seed: int = 0, device: torch.device | str = "cpu"
):
    """A ``TensorLoader`` of 28x28 digits padded to 32x32 and scaled as in the paper (chapter 11)."""
    from ..data import TensorLoader

    return TensorLoader(
        split, batch_size=batch_size, shuffle=shuffle, seed=seed, device=device, pad=2, normalize=scale_input
    )


class LeNet5Classic(nn.Module):
    """LeNet-5 as published in 1998: 60,000 trainable parameters, 340,908 connections.

    Input: 1x32x32 images scaled to background -0.1 / ink 1.175 (``classic_loader``).
    Output: the scores -y_i, where y_i is output unit i's RBF penalty.
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        if seed is not None:
            torch.manual_seed(seed)
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = TrainableSubsampling(6)
        self.c3 = C3Conv(C3_TABLE)
        self.s4 = TrainableSubsampling(16)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.f7 = RBFOutput()
        init_fan_in_(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 84 outputs of F6, which the RBF units compare with the bitmaps."""
        check_input(x, 1, 32, type(self).__name__)
        x = scaled_tanh(self.c1(x))
        x = self.s2(x)
        x = scaled_tanh(self.c3(x))
        x = self.s4(x)
        x = scaled_tanh(self.c5(x))
        x = torch.flatten(x, 1)
        return scaled_tanh(self.f6(x))

    def penalties(self, x: torch.Tensor) -> torch.Tensor:
        """The RBF outputs y_i (N, 10): squared distance of F6's output to each digit's bitmap."""
        return self.f7(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.penalties(x)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """exp(-y_i) normalised over the ten classes (eq. 9's posterior without the rubbish class)."""
        was_training = self.training
        self.eval()
        probs = torch.softmax(self(x.to(self.f7.weight.device)), dim=1)
        self.train(was_training)
        return probs

    def sdlm_stages(self) -> list[Stage]:
        """The layers in order with their squashing functions, for the SDLM curvature estimate."""
        f = ScaledTanh()
        return [
            Stage(self.c1, f),
            Stage(self.s2, self.s2.squash),
            Stage(self.c3, f),
            Stage(self.s4, self.s4.squash),
            Stage(self.c5, f),
            Stage(self.f6, f, flatten=True),
        ]
