"""The layer table: output shape, trainable parameters and connections per layer.

Introduced in chapter 6 (``06_assembling_lenet5.ipynb``), in the spirit of
d2l's ``layer_summary``: a dummy batch goes through the network and each
named layer reports what came out.

Connections are counted as the paper counts them: for every output unit, the
number of inputs it reads plus one for its bias. A convolution shares its
weights across positions, so it has far more connections than parameters.
A layer can define ``connections(input_shape, output_shape) -> int`` to count
its own (the 1998 layers in ``classic.py`` do).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LayerRow", "LayerTable", "layer_table", "count_connections"]


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    connections: int


class LayerTable(list):
    """A list of :class:`LayerRow` that prints as a table."""

    @property
    def total_params(self) -> int:
        return sum(row.params for row in self)

    @property
    def total_connections(self) -> int:
        return sum(row.connections for row in self)

    def row(self, name: str) -> LayerRow:
        for row in self:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; the table has {[r.name for r in self]}")

    def __str__(self) -> str:
        header = f"{'layer':<6} {'type':<20} {'output shape':<16} {'parameters':>11} {'connections':>12}"
        lines = [header, "-" * len(header)]
        for r in self:
            shape = "x".join(str(d) for d in r.output_shape)
            lines.append(f"{r.name:<6} {r.kind:<20} {shape:<16} {r.params:>11,} {r.connections:>12,}")
        lines.append("-" * len(header))
        lines.append(f"{'total':<6} {'':<20} {'':<16} {self.total_params:>11,} {self.total_connections:>12,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def count_connections(module: nn.Module, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
    """Connections of one layer for one input image (shapes without the batch dimension)."""
    custom = getattr(module, "connections", None)
    if callable(custom):
        return int(custom(input_shape, output_shape))
    out_units = math.prod(output_shape)
    if isinstance(module, nn.Conv2d):
        per_unit = module.in_channels // module.groups * math.prod(module.kernel_size)
        return out_units * (per_unit + (module.bias is not None))
    if isinstance(module, nn.Linear):
        return out_units * (module.in_features + (module.bias is not None))
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k = module.kernel_size
        return out_units * (k * k if isinstance(k, int) else math.prod(k))
    return 0


def layer_table(
    model: nn.Module,
    input_size: tuple[int, ...] = (1, 1, 32, 32),
    layers: list[str] | None = None,
    verbose: bool = True,
) -> LayerTable:
    """Push a dummy batch through ``model`` and tabulate each named layer.

    ``layers`` names the children to report (default: every direct child, in
    the order they run). Prints the table unless ``verbose=False``.
    """
    children = dict(model.named_children())
    names = layers or list(children)
    unknown = [n for n in names if n not in children]
    if unknown:
        raise ValueError(f"{type(model).__name__} has no layer(s) {unknown}; it has {list(children)}")
    seen: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    order: list[str] = []

    def hook(name):
        def record(module, inputs, output):
            if name not in seen:
                order.append(name)
            out = output[0] if isinstance(output, (tuple, list)) else output
            seen[name] = (tuple(inputs[0].shape[1:]), tuple(out.shape[1:]))

        return record

    handles = [children[n].register_forward_hook(hook(n)) for n in names]
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_size, device=device))
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    table = LayerTable()
    for name in order:
        module = children[name]
        in_shape, out_shape = seen[name]
        params = sum(p.numel() for p in module.parameters() if p.requires_grad)
        trainable = getattr(module, "trainable_parameters", None)
        if callable(trainable):
            params = int(trainable())
        table.append(
            LayerRow(name, type(module).__name__, out_shape, params, count_connections(module, in_shape, out_shape))
        )
    if verbose:
        print(table)
    return table
