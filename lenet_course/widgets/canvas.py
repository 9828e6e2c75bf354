"""Draw a digit with the mouse and watch LeNet-5's ten probabilities: ``DrawingPad``.

Introduced in chapter 9 (``09_prediction_gallery.ipynb``). The canvas is an
``ipycanvas.Canvas``; every stroke is also drawn into a tensor kept in Python
(white ink on black, like MNIST), so what the network sees never depends on
reading pixels back from the browser. After each mouse movement the drawing
is scaled into a 20x20 box, centred by centre of mass in 28x28 and padded to
32x32 (:mod:`lenet_course.digits`, the same preprocessing as the training
data) and the probabilities are recomputed.

Python API (what the tests use): ``pad.draw_line([(x, y), ...])`` draws one
stroke, ``pad.clear()`` wipes it, ``pad.probabilities`` (a tensor of 10, or
``None`` while blank), ``pad.prediction``, ``pad.model_input`` (1x1x32x32).
The mouse handlers ``pad.mouse_down(x, y)``, ``pad.mouse_move(x, y)`` and
``pad.mouse_up(x, y)`` are the ones the canvas calls.

CSS classes, stable for browser tests:

=========================  ==================================================
``lenet-draw``             the whole pad (an HBox)
``lenet-draw-canvas``      the canvas to draw on (280x280)
``lenet-draw-probs``       the probabilities: one row per class, each with
                           the class, a bar and a percentage; the text reads
                           ``Draw a digit in the black square.`` while blank
``lenet-draw-prediction``  one line, ``Prediction: 3 (97.1%)``, or the same
                           hint while blank
``lenet-draw-clear``       the Clear button
``lenet-draw-input``       the 32x32 image the network is given, enlarged
=========================  ==================================================
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Sequence

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from ..digits import rasterize_stroke, to_lenet_input
from ..models import predict_proba
from ._style import ACCENT, MUTED, TRACK, tag

__all__ = ["DrawingPad"]

BLANK = "Draw a digit in the black square."


class DrawingPad(widgets.HBox):
    """A canvas to draw a digit on, beside LeNet-5's probability for each class (chapter 9).

    >>> pad = DrawingPad(model)                      # doctest: +SKIP
    >>> pad.draw_line([(140, 60), (140, 220)])       # doctest: +SKIP
    >>> pad.prediction                               # doctest: +SKIP
    1
    """

    def __init__(
        self,
        model: nn.Module,
        size: int = 280,
        line_width: float = 20.0,
        classes: Sequence[str] | None = None,
    ) -> None:
        from ipycanvas import Canvas

        self.model = model
        self.size = size
        self.line_width = line_width
        self.classes = list(classes) if classes else [str(i) for i in range(10)]
        self.image = torch.zeros(size, size)
        self.probabilities: torch.Tensor | None = None
        self._last: tuple[float, float] | None = None
        self._drawing = False

        self.canvas = Canvas(width=size, height=size, layout=widgets.Layout(width=f"{size}px", height=f"{size}px"))
        self.canvas.on_mouse_down(self.mouse_down)
        self.canvas.on_mouse_move(self.mouse_move)
        self.canvas.on_mouse_up(self.mouse_up)
        self.canvas.on_mouse_out(self.mouse_up)
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.clear_button.on_click(lambda _button: self.clear())
        self.prediction_view = widgets.HTML()
        self.probs_view = widgets.HTML()
        self.input_view = widgets.Image(format="png", width=96, height=96)
        seen = widgets.VBox([widgets.HTML("<b>What LeNet-5 sees</b> (32&times;32)"), self.input_view])
        super().__init__(
            [
                widgets.VBox([self.canvas, self.clear_button]),
                widgets.VBox([self.prediction_view, self.probs_view, seen], layout=widgets.Layout(margin="0 0 0 16px")),
            ]
        )
        tag(
            self,
            "lenet-draw",
            canvas=self.canvas,
            clear=self.clear_button,
            prediction=self.prediction_view,
            probs=self.probs_view,
            input=self.input_view,
        )
        self.clear()

    # ------------------------------------------------------------------ state
    @property
    def is_blank(self) -> bool:
        return not bool((self.image > 0).any())

    @property
    def model_input(self) -> torch.Tensor:
        """The (1, 1, 32, 32) batch the network is given for the current drawing."""
        return to_lenet_input(self.image)

    @property
    def prediction(self) -> int | None:
        """The most probable class, or ``None`` while the pad is blank."""
        return None if self.probabilities is None else int(self.probabilities.argmax())

    def __repr__(self) -> str:
        if self.probabilities is None:
            return "DrawingPad(blank)"
        p = self.probabilities
        return f"DrawingPad(prediction={self.classes[self.prediction]}, probability={float(p.max()):.3f})"

    # ------------------------------------------------------------------ drawing
    def clear(self) -> None:
        """Wipe the canvas and the probabilities."""
        self.image.zero_()
        self._last = None
        self._drawing = False
        self.canvas.fill_style = "black"
        self.canvas.fill_rect(0, 0, self.size, self.size)
        self.canvas.stroke_style = "white"
        self.canvas.fill_style = "white"
        self.canvas.line_width = self.line_width
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"
        self.update()

    def _segment(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if (x0, y0) == (x1, y1):
            self.canvas.fill_circle(x1, y1, self.line_width / 2)
        else:
            self.canvas.stroke_line(x0, y0, x1, y1)
        rasterize_stroke(self.image, x0, y0, x1, y1, self.line_width)

    def mouse_down(self, x: float, y: float) -> None:
        """Start a stroke at (x, y): the canvas calls this on a mouse press."""
        self._drawing = True
        self._last = (x, y)
        self._segment(x, y, x, y)
        self.update()

    def mouse_move(self, x: float, y: float) -> None:
        """Extend the stroke to (x, y) while the button is held; recompute the probabilities."""
        if not self._drawing or self._last is None:
            return
        self._segment(*self._last, x, y)
        self._last = (x, y)
        self.update()

    def mouse_up(self, x: float = 0.0, y: float = 0.0) -> None:
        """End the stroke (mouse released or left the canvas)."""
        self._drawing = False
        self._last = None

    def draw_line(self, points: Iterable[tuple[float, float]]) -> None:
        """Draw one stroke through ``points`` (canvas pixels, x to the right, y down), as the mouse would."""
        points = [(float(x), float(y)) for x, y in points]
        if not points:
            return
        from ipycanvas import hold_canvas

        with hold_canvas():
            self.mouse_down(*points[0])
            for x, y in points[1:]:
                self._segment(*self._last, x, y)
                self._last = (x, y)
            self.mouse_up(*points[-1])
        self.update()

    # ------------------------------------------------------------------ display
    def update(self) -> None:
        """Recompute the probabilities from the drawing and show them."""
        if self.is_blank:
            self.probabilities = None
        else:
            self.probabilities = predict_proba(self.model, self.model_input).detach().cpu()[0]
        self.prediction_view.value = self._prediction_html()
        self.probs_view.value = self._bars_html()
        self.input_view.value = self._input_png()

    def _prediction_html(self) -> str:
        if self.probabilities is None:
            return f"<span>{BLANK}</span>"
        k = self.prediction
        return (
            f'<span style="font-size:1.3em">Prediction: <b>{html.escape(self.classes[k])}</b> '
            f"({100 * float(self.probabilities[k]):.1f}%)</span>"
        )

    def _bars_html(self) -> str:
        probs = self.probabilities
        best = self.prediction
        rows = []
        for k, name in enumerate(self.classes):
            p = 0.0 if probs is None else float(probs[k])
            colour = ACCENT if k == best else MUTED
            rows.append(
                f'<div class="lenet-draw-prob" data-class="{k}" data-probability="{p:.4f}" '
                'style="display:flex;align-items:center;gap:6px;height:20px;font-family:monospace">'
                f'<span style="width:2em;text-align:right">{html.escape(name)}</span>'
                f'<span style="display:inline-block;width:180px;height:14px;background:{TRACK}">'
                f'<span style="display:block;width:{100 * p:.1f}%;height:100%;background:{colour}"></span></span>'
                f'<span style="width:4.5em;text-align:right">{100 * p:5.1f}%</span></div>'
            )
        note = f'<div style="margin-bottom:4px">{BLANK}</div>' if probs is None else ""
        return f'<div data-prediction="{"" if best is None else best}">{note}{"".join(rows)}</div>'

    def _input_png(self) -> bytes:
        from PIL import Image

        pixels = (self.model_input[0, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        picture = Image.fromarray(np.ascontiguousarray(pixels)).resize((96, 96), Image.NEAREST)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return buffer.getvalue()
