"""The layer explorer of chapter 6 (``06_assembling_lenet5.ipynb``).

Choose a layer of a model: see what it is, the shape it outputs, its
parameters and connections, and a picture of its weights.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from ..summary import layer_table

__all__ = ["LayerExplorer", "plot_layer_weights"]


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape)


def plot_layer_weights(module: nn.Module, max_kernels: int = 16) -> Figure | None:
    """A picture of a layer's weights (``None`` for a layer without any). Chapter 6.

    Convolution kernels are drawn one per output map (the first ``max_kernels``),
    the input channels side by side; a linear layer's weight matrix as one image.
    The figure is not registered with pyplot, so it only appears where it is shown.
    """
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return None
    w = weight.detach().cpu().float()
    limit = float(w.abs().max()) or 1.0
    style = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
    if w.dim() == 4:
        shown = w[:max_kernels]
        out_maps, in_maps, k, _ = shown.shape
        # one row per output map: its kernels for every input channel, side by side with a gap
        canvas = torch.full((out_maps, k, in_maps * (k + 1) - 1), float("nan"))
        for c in range(in_maps):
            canvas[:, :, c * (k + 1) : c * (k + 1) + k] = shown[:, c]
        cols = 4 if out_maps > 4 else out_maps
        rows = -(-out_maps // cols)
        fig = Figure(figsize=(min(12, cols * max(1.2, in_maps * 0.5)), rows * 1.1))
        axes = fig.subplots(rows, cols, squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < out_maps:
                ax.imshow(canvas[index].numpy(), **style)
                ax.set_title(f"map {index}", fontsize=8)
        more = f" (first {out_maps} of {w.shape[0]} maps)" if w.shape[0] > out_maps else ""
        fig.suptitle(f"{_shape(w.shape)} kernels{more}; columns: input channels", fontsize=9)
        return fig
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    image = ax.imshow(w.reshape(w.shape[0], -1).numpy(), aspect="auto", **style)
    ax.set_xlabel("input unit")
    ax.set_ylabel("output unit")
    ax.set_title(f"weight matrix {_shape(w.shape)}", fontsize=9)
    fig.colorbar(image, ax=ax)
    return fig


class LayerExplorer(widgets.VBox):
    """Choose a layer of ``model``; see its output shape, parameters, connections and weights."""

    def __init__(self, model: nn.Module, input_size: tuple[int, ...] = (1, 1, 32, 32), plot: bool = True) -> None:
        self.model = model
        self.table = layer_table(model, input_size, verbose=False)
        self.input_size = input_size
        self._input_shapes = self._record_inputs(input_size)
        self.layer = widgets.Dropdown(options=[row.name for row in self.table], description="layer")
        self.info = widgets.HTML()
        self.plot = widgets.Output()
        self.show_plots = plot
        self.figure: Figure | None = None
        self.layer.observe(lambda change: self.show(change["new"]), names="value")
        super().__init__([self.layer, self.info, self.plot])
        self.show(self.layer.value)

    def _record_inputs(self, input_size) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        children = dict(self.model.named_children())

        def recorder(name: str):
            def record(_module, inputs, _output) -> None:
                shapes.setdefault(name, tuple(inputs[0].shape[1:]))

            return record

        hooks = [children[row.name].register_forward_hook(recorder(row.name)) for row in self.table]
        try:
            device = next(self.model.parameters()).device
            was_training = self.model.training
            self.model.eval()
            with torch.no_grad():
                self.model(torch.zeros(input_size, device=device))
            self.model.train(was_training)
        finally:
            for h in hooks:
                h.remove()
        return shapes

    def describe(self, name: str) -> str:
        """The facts shown for layer ``name``, as plain text lines."""
        row = self.table.row(name)
        module = getattr(self.model, name)
        lines = [
            f"{name}: {module}",
            f"input {_shape(self._input_shapes[name])} -> output {_shape(row.output_shape)}",
        ]
        shapes = [f"{pname} {_shape(p.shape)}" for pname, p in module.named_parameters()]
        lines.append(f"{row.params:,} trainable parameters" + (f" ({', '.join(shapes)})" if shapes else ""))
        lines.append(f"{row.connections:,} connections")
        return "\n".join(lines)

    def show(self, name: str) -> None:
        """Show layer ``name`` (also what choosing it in the drop-down does)."""
        if self.layer.value != name:
            self.layer.value = name  # observing the drop-down calls show again
            return
        self.info.value = f"<pre>{html.escape(self.describe(name))}</pre>"
        self.figure = plot_layer_weights(getattr(self.model, name))
        if not self.show_plots:
            return
        # outputs are set directly (not captured with `with self.plot:`), which
        # works the same in JupyterLab, under nbval and in a headless run
        if self.figure is None:
            text = f"{name} has no weights: it averages each 2x2 block of its input.\n"
            self.plot.outputs = ({"output_type": "stream", "name": "stdout", "text": text},)
        else:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", bbox_inches="tight")
            png = base64.b64encode(buffer.getvalue()).decode("ascii")
            data = {"image/png": png, "text/plain": f"<weights of {name}>"}
            self.plot.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    def __repr__(self) -> str:
        return f"LayerExplorer({type(self.model).__name__}, layer={self.layer.value!r})"
