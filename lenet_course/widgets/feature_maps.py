"""Feature-map explorer: pick a digit, a layer and a channel, see the map (chapters 2 and 3).

The widget runs one image through the model, catches what the chosen layers
output with forward hooks, and draws the input beside the chosen channel of
the chosen layer (red for positive values, blue for negative, white for 0).

CSS classes, stable for browser tests:

==========================  ================================================
``lenet-fmap``              the whole explorer (a VBox)
``lenet-fmap-index``        the digit slider (index into the images given)
``lenet-fmap-layer``        the layer drop-down
``lenet-fmap-channel``      the channel slider
``lenet-fmap-picture``      the PNG of the input and the map
``lenet-fmap-info``         one line: digit, label, layer, channel, map size, value range
==========================  ================================================
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from ._style import tag

__all__ = ["FeatureMapExplorer", "layer_outputs"]

_PANEL = 224  # pixels per panel: 32, 28, 14 and 7 all scale to it evenly


@torch.no_grad()
def layer_outputs(model: nn.Module, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """What each named layer of ``model`` outputs for one image, as ``(C, H, W)`` CPU tensors (chapter 2).

    ``image`` is ``(1, H, W)`` or ``(1, 1, H, W)``. A name is a path as in
    ``model.named_modules()`` (``"c1"``, ``"features.0"``).
    """
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules or not name]
    if missing:
        names = [n for n, _ in model.named_children()]
        raise ValueError(f"{type(model).__name__} has no layer(s) {missing}; choose from {names}")
    captured: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            captured.setdefault(name, out.detach())

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    x = image if image.dim() == 4 else image.unsqueeze(0)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else x.device
    was_training = model.training
    model.eval()
    try:
        model(x.to(device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    result = {}
    for name in layers:
        out = captured[name][0].float().cpu()
        result[name] = out.reshape(-1, 1, 1) if out.dim() == 1 else out
    return result


def _png(panels: list[np.ndarray]) -> bytes:
    """RGB panels of equal height side by side, with a white gap, as PNG bytes."""
    from PIL import Image

    gap = np.full((_PANEL, 16, 3), 255, dtype=np.uint8)
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    buffer = io.BytesIO()
    Image.fromarray(np.concatenate(row, axis=1)).save(buffer, format="PNG")
    return buffer.getvalue()


def _grey_panel(x: np.ndarray) -> np.ndarray:
    from PIL import Image

    low, high = float(x.min()), float(x.max())
    scaled = np.zeros_like(x) if high == low else (x - low) / (high - low)
    grey = (255 * (1 - scaled)).astype(np.uint8)  # ink dark on white, as on paper
    panel = Image.fromarray(grey).resize((_PANEL, _PANEL), Image.NEAREST).convert("RGB")
    return np.asarray(panel)


def _signed_panel(x: np.ndarray) -> np.ndarray:
    from matplotlib import colormaps
    from PIL import Image

    limit = float(np.abs(x).max()) or 1.0
    rgba = colormaps["RdBu_r"]((x / limit + 1) / 2)
    rgb = (255 * rgba[..., :3]).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((_PANEL, _PANEL), Image.NEAREST))


class FeatureMapExplorer(widgets.VBox):
    """Pick a digit and a channel of a layer; see the input beside that feature map.

    Introduced in chapter 2 for C1; chapter 3 passes ``layers=("c1", "s2")``.
    ``images`` is a float batch ``(N, 1, H, W)`` as the model reads it (for
    example ``TensorLoader(split).images``); ``labels`` is optional.

    >>> explorer = FeatureMapExplorer(LeNet5(), images, labels, layers=("c1", "s2"))  # doctest: +SKIP
    >>> explorer.channel.value = 3; explorer.feature_map.shape                           # doctest: +SKIP
    torch.Size([28, 28])
    """

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        layers: Sequence[str] = ("c1",),
        index: int = 0,
    ) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() not in (3, 4) or len(images) == 0:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(
                f"images must be a batch (N, 1, H, W), got {shape}; pass e.g. TensorLoader(data.valid).images"
            )
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels; pass one label per image")
        if not 0 <= index < len(images):
            raise ValueError(f"index must be between 0 and {len(images) - 1}, got {index}")
        self.model = model
        self.images = images if images.dim() == 4 else images.unsqueeze(1)
        self.labels = labels
        self.layers = tuple(layers)
        self._cache: dict[int, dict[str, torch.Tensor]] = {}
        layer_outputs(model, self.images[index], self.layers)  # fail now, with a clear message, on a bad layer name

        self.index = widgets.IntSlider(value=index, min=0, max=len(self.images) - 1, description="digit")
        self.layer = widgets.Dropdown(options=list(self.layers), value=self.layers[0], description="layer")
        self.channel = widgets.IntSlider(value=0, min=0, max=0, description="channel")
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width=f"{2 * _PANEL + 16}px"))
        self.info = widgets.HTML()
        super().__init__([widgets.HBox([self.index, self.layer, self.channel]), self.picture, self.info])
        tag(
            self,
            "lenet-fmap",
            index=self.index,
            layer=self.layer,
            channel=self.channel,
            picture=self.picture,
            info=self.info,
        )
        self._sync_channel_range()
        for control in (self.index, self.layer, self.channel):
            control.observe(self._changed, names="value")
        self.update()

    # ------------------------------------------------------------------ state
    def outputs(self, index: int | None = None) -> dict[str, torch.Tensor]:
        """Every chosen layer's output ``(C, H, W)`` for digit ``index`` (default: the one shown)."""
        index = self.index.value if index is None else index
        if index not in self._cache:
            self._cache[index] = layer_outputs(self.model, self.images[index], self.layers)
        return self._cache[index]

    @property
    def feature_map(self) -> torch.Tensor:
        """The map on show, ``(H, W)``, on the CPU."""
        return self.outputs()[self.layer.value][self.channel.value]

    @property
    def num_channels(self) -> int:
        return int(self.outputs()[self.layer.value].shape[0])

    def __repr__(self) -> str:
        return (
            f"FeatureMapExplorer(digit={self.index.value}, layer={self.layer.value!r}, "
            f"channel={self.channel.value}/{self.num_channels})"
        )

    # ------------------------------------------------------------------ display
    def _sync_channel_range(self) -> None:
        top = self.num_channels - 1
        if self.channel.value > top:
            self.channel.value = top
        self.channel.max = top

    def _changed(self, change) -> None:
        if change["owner"] is not self.channel:
            self._sync_channel_range()
        self.update()

    def update(self) -> None:
        """Redraw the picture and the info line from the controls."""
        image = self.images[self.index.value, 0].detach().float().cpu().numpy()
        fmap = self.feature_map.numpy()
        self.picture.value = _png([_grey_panel(image), _signed_panel(fmap)])
        label = f", label {int(self.labels[self.index.value])}" if self.labels is not None else ""
        h, w = fmap.shape
        self.info.value = html.escape(
            f"Digit #{self.index.value}{label} | layer {self.layer.value}, channel {self.channel.value} "
            f"of {self.num_channels} | map {h}x{w} | values from {fmap.min():.2f} to {fmap.max():.2f} "
            "(red positive, blue negative)"
        )
