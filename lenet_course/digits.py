"""Turning a digit drawn at any size into an MNIST-style input (chapter 9).

Introduced in chapter 9 (``09_prediction_gallery.ipynb``), where the drawing
pad feeds LeNet-5 with what the learner draws. MNIST's images were made this
way (LeCun et al. 1998, section III.A): the digit is scaled, keeping its
aspect ratio, to fit a 20x20 box (anti-aliased, so edges become grey), then
placed in a 28x28 field so that its centre of mass sits at the centre. The
course pads 28x28 to 32x32 with 2 black pixels on each side, as every
chapter from 7 on does for the training data.

Images here are white ink (1) on black (0), as in MNIST.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["bounding_box", "center_of_mass", "to_mnist", "to_lenet_input", "rasterize_stroke"]


def _as_float_image(image) -> torch.Tensor:
    x = torch.as_tensor(image)
    if x.dim() == 3 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 2:
        raise ValueError(f"expected one grey image of shape (H, W), got shape {tuple(x.shape)}; pass a single image")
    x = x.detach().cpu().float()
    if torch.as_tensor(image).dtype == torch.uint8:
        x = x / 255
    return x


def bounding_box(image: torch.Tensor, threshold: float = 0.0) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` (bottom/right exclusive) of the pixels above ``threshold``; ``None`` if blank."""
    x = _as_float_image(image)
    rows = torch.nonzero((x > threshold).any(dim=1)).flatten()
    cols = torch.nonzero((x > threshold).any(dim=0)).flatten()
    if len(rows) == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def center_of_mass(image: torch.Tensor) -> tuple[float, float]:
    """``(row, column)`` of the centre of mass of the ink, in pixel coordinates (chapter 9)."""
    x = _as_float_image(image)
    total = x.sum()
    if total <= 0:
        return (x.shape[0] - 1) / 2, (x.shape[1] - 1) / 2
    rows = torch.arange(x.shape[0], dtype=torch.float32)
    cols = torch.arange(x.shape[1], dtype=torch.float32)
    return float((x.sum(1) * rows).sum() / total), float((x.sum(0) * cols).sum() / total)


def to_mnist(image: torch.Tensor, box: int = 20, size: int = 28) -> torch.Tensor:
    """A 28x28 float image in [0, 1]: the ink scaled into a ``box`` square, centred by centre of mass.

    ``image`` is one (H, W) image, white ink on black, float in [0, 1] or uint8.
    A blank image gives a blank 28x28.
    """
    x = _as_float_image(image).clamp(0, 1)
    out = torch.zeros(size, size)
    bbox = bounding_box(x)
    if bbox is None:
        return out
    top, bottom, left, right = bbox
    digit = x[top:bottom, left:right]
    h, w = digit.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # antialias=True averages the pixels that fall into each new one when shrinking, like MNIST's grey edges
    small = F.interpolate(digit[None, None], size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False)[
        0, 0
    ]
    small = small.clamp(0, 1)
    cy, cx = center_of_mass(small)
    centre = (size - 1) / 2
    top, left = round(centre - cy), round(centre - cx)
    # paste with clipping, in case centring pushes part of the box off the field
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + new_h, size), min(left + new_w, size)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = small[r0 - top : r1 - top, c0 - left : c1 - left]
    return out


def to_lenet_input(image: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """``to_mnist`` then ``pad`` black pixels on each side: a (1, 1, 32, 32) batch for LeNet-5 (chapter 9)."""
    return F.pad(to_mnist(image), (pad, pad, pad, pad))[None, None]


def rasterize_stroke(canvas: torch.Tensor, x0: float, y0: float, x1: float, y1: float, width: float) -> torch.Tensor:
    """Draw a round-capped line of ``width`` pixels from (x0, y0) to (x1, y1) into ``canvas`` (H, W), in place.

    x is the column and y the row, as on a screen. Edges are anti-aliased over
    one pixel; a pixel keeps the brightest value any stroke gave it.
    """
    h, w = canvas.shape
    r = width / 2
    left, right = max(int(min(x0, x1) - r - 1), 0), min(int(max(x0, x1) + r + 2), w)
    top, bottom = max(int(min(y0, y1) - r - 1), 0), min(int(max(y0, y1) + r + 2), h)
    if left >= right or top >= bottom:
        return canvas
    ys = torch.arange(top, bottom, dtype=torch.float32)[:, None] + 0.5
    xs = torch.arange(left, right, dtype=torch.float32)[None, :] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 == 0:
        t = torch.zeros_like(xs * ys)
    else:
        t = (((xs - x0) * dx + (ys - y0) * dy) / length2).clamp(0, 1)
    dist = torch.sqrt((xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2)
    ink = (r + 0.5 - dist).clamp(0, 1)
    region = canvas[top:bottom, left:right]
    torch.maximum(region, ink, out=region)
    return canvas
