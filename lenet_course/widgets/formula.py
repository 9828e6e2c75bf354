"""The output-size formula as sliders: ``FormulaExplorer`` and ``FormulaExercise``.

Introduced in chapter 1 (``01_output_size_formula.ipynb``); chapter 3 uses
``FormulaExercise`` again for S2. Move the sliders for the input width W, the
kernel F, the padding P and the stride S; the widget shows the output width,
the arithmetic, what ``nn.Conv2d`` makes of the same numbers, and a drawing of
every kernel position along one row, and says plainly when the kernel does
not tile the padded input.

CSS classes, stable for browser tests (each on the widget's outer element):

=============================  ==============================================
``lenet-formula``              the whole explorer (a VBox)
``lenet-formula-size``         slider W (``IntSlider``)
``lenet-formula-kernel``       slider F
``lenet-formula-padding``      slider P
``lenet-formula-stride``       slider S
``lenet-formula-result``       one line: ``Output size: 28``, or text starting
                               ``Does not tile:`` / ``Does not fit:``
``lenet-formula-arithmetic``   the formula with the numbers filled in
``lenet-formula-picture``      the SVG drawing of the kernel positions
``lenet-formula-exercise``     the whole exercise (a VBox)
``lenet-exercise-question``    the exercise's question
``lenet-exercise-check``       its Check button
``lenet-exercise-verdict``     its verdict, the checker's own text, e.g.
                               ``Exercise 1.2: 2/2 cases correct. Well done!``
=============================  ==============================================
"""

from __future__ import annotations

import contextlib
import html
import io

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from ._style import ACCENT, ACCENT_LIGHT, BORDER, ERROR_FILL, PADDING, SURFACE, status_colour, tag

__all__ = ["FormulaExplorer", "FormulaExercise", "formula_state"]


def formula_state(size: int, kernel: int, padding: int = 0, stride: int = 1) -> dict:
    """Everything the explorer shows, as plain values (chapter 1).

    Keys: ``span`` (W - F + 2P), ``exact`` (the formula as a float), ``output``
    (the whole-number width, or ``None`` when it does not tile or fit),
    ``positions`` (how many kernel positions fit), ``unread`` (padded columns no
    kernel position reaches), ``torch`` (the width ``nn.Conv2d`` gives, or ``None``
    when it refuses).
    """
    span = size - kernel + 2 * padding
    exact = span / stride + 1
    positions = span // stride + 1 if span >= 0 else 0
    unread = span - (positions - 1) * stride if positions else 0
    output = positions if span >= 0 and span % stride == 0 else None
    try:
        with torch.no_grad():
            out = F.conv2d(
                torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel), stride=stride, padding=padding
            )
        torch_width = int(out.shape[-1])
    except RuntimeError:
        torch_width = None
    return {
        "span": span,
        "exact": exact,
        "output": output,
        "positions": positions,
        "unread": unread,
        "torch": torch_width,
    }


def _number(x: float) -> str:
    return f"{x:g}"


class FormulaExplorer(widgets.VBox):
    """Sliders for W, F, P and S, and what the formula (W - F + 2P) / S + 1 makes of them (chapter 1).

    >>> explorer = FormulaExplorer(size=32, kernel=5)
    >>> explorer.output_size
    28
    >>> explorer.stride.value = 2
    >>> explorer.output_size is None, explorer.tiles
    (True, False)
    """

    def __init__(self, size: int = 32, kernel: int = 5, padding: int = 0, stride: int = 1, max_size: int = 40) -> None:
        style = {"description_width": "110px"}
        layout = widgets.Layout(width="460px")
        self.size = widgets.IntSlider(
            value=size, min=1, max=max(max_size, size), description="W (input)", style=style, layout=layout
        )
        self.kernel = widgets.IntSlider(
            value=kernel, min=1, max=11, description="F (kernel)", style=style, layout=layout
        )
        self.padding = widgets.IntSlider(
            value=padding, min=0, max=5, description="P (padding)", style=style, layout=layout
        )
        self.stride = widgets.IntSlider(
            value=stride, min=1, max=6, description="S (stride)", style=style, layout=layout
        )
        self.result = widgets.HTML()
        self.arithmetic = widgets.HTML()
        self.picture = widgets.HTML()
        super().__init__(
            [self.size, self.kernel, self.padding, self.stride, self.result, self.arithmetic, self.picture]
        )
        tag(
            self,
            "lenet-formula",
            size=self.size,
            kernel=self.kernel,
            padding=self.padding,
            stride=self.stride,
            result=self.result,
            arithmetic=self.arithmetic,
            picture=self.picture,
        )
        for slider in (self.size, self.kernel, self.padding, self.stride):
            slider.observe(self._changed, names="value")
        self.update()

    # ------------------------------------------------------------------ state
    @property
    def values(self) -> dict[str, int]:
        """The sliders as ``dict(W=..., F=..., P=..., S=...)``."""
        return {"W": self.size.value, "F": self.kernel.value, "P": self.padding.value, "S": self.stride.value}

    @property
    def state(self) -> dict:
        return formula_state(self.size.value, self.kernel.value, self.padding.value, self.stride.value)

    @property
    def output_size(self) -> int | None:
        """The output width, or ``None`` when the configuration does not tile or fit."""
        return self.state["output"]

    @property
    def tiles(self) -> bool:
        return self.output_size is not None

    def set(
        self, W: int | None = None, F: int | None = None, P: int | None = None, S: int | None = None
    ) -> FormulaExplorer:
        """Set several sliders at once (``None`` leaves one as it is)."""
        with self.hold_trait_notifications():
            for slider, value in ((self.size, W), (self.kernel, F), (self.padding, P), (self.stride, S)):
                if value is not None:
                    slider.value = value
        self.update()
        return self

    def __repr__(self) -> str:
        v = self.values
        out = self.output_size
        if out is not None:
            shown = str(out)
        else:
            shown = f"{_number(self.state['exact'])}, does not {'fit' if self.state['span'] < 0 else 'tile'}"
        return f"FormulaExplorer(W={v['W']}, F={v['F']}, P={v['P']}, S={v['S']} -> {shown})"

    # ------------------------------------------------------------------ display
    def _changed(self, _change) -> None:
        self.update()

    def update(self) -> None:
        """Recompute the result, the arithmetic and the picture from the sliders."""
        W, K, P, S = self.size.value, self.kernel.value, self.padding.value, self.stride.value
        st = formula_state(W, K, P, S)
        filled = f"({W} &minus; {K} + 2&times;{P}) / {S} + 1"
        steps = [
            "(W &minus; F + 2P) / S + 1",
            f"= {filled}",
            f"= {st['span']} / {S} + 1",
            f"= {_number(st['exact'])}",
        ]
        if st["span"] < 0:
            result = f"Does not fit: the kernel ({K}) is wider than the padded input ({W + 2 * P})"
        elif st["output"] is None:
            result = f"Does not tile: {_number(st['exact'])} is not a whole number"
        else:
            result = f"Output size: {st['output']}"
        colour = status_colour(st["output"] is not None)
        self.result.value = f'<span style="font-size:1.2em;font-weight:bold;{colour}">{html.escape(result)}</span>'

        conv = f"nn.Conv2d(1, 1, kernel_size={K}, stride={S}, padding={P})"
        if st["torch"] is None:
            torch_line = f"{conv} refuses a {W}&times;{W} input: the kernel does not fit."
        elif st["output"] is None:
            left = st["unread"]
            never = (
                "the last column (and the last row) of the padded input is"
                if left == 1
                else (f"the last {left} columns (and the last {left} rows) of the padded input are")
            )
            torch_line = f"{conv} rounds down and gives {st['torch']}&times;{st['torch']}: {never} never read."
        else:
            torch_line = f"{conv} turns {W}&times;{W} into {st['torch']}&times;{st['torch']}."
        self.arithmetic.value = (
            '<div style="font-family:monospace;line-height:1.5">'
            + "<br>".join(steps)
            + f'</div><div style="margin-top:4px">{torch_line}</div>'
        )
        self.picture.value = self._svg(W, K, P, S, st)

    @staticmethod
    def _svg(W: int, K: int, P: int, S: int, st: dict) -> str:
        cells = W + 2 * P
        cell = max(6, min(18, 600 // max(cells, 1)))
        row = 8
        top = 18
        n = st["positions"]
        height = top + cell + 10 + n * row + 22
        width = max(cells * cell, K * cell) + 2
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="kernel positions along one row">',
            '<text x="0" y="12" font-size="11" font-family="sans-serif" fill="currentColor">'
            f"one row of the padded input ({W} pixels + {P} of padding on each side)</text>",
        ]
        first_unread = cells - st["unread"] if n else cells
        for i in range(cells):
            padding_cell = i < P or i >= P + W
            fill = PADDING if padding_cell else SURFACE
            if n and st["output"] is None and i >= first_unread:
                fill = ERROR_FILL
            parts.append(
                f'<rect x="{i * cell + 1}" y="{top}" width="{cell}" height="{cell}" '
                f'style="fill:{fill};stroke:{BORDER}" stroke-width="0.5"/>'
            )
        for k in range(n):
            x = k * S * cell + 1
            y = top + cell + 6 + k * row
            colour = ACCENT if k % 2 == 0 else ACCENT_LIGHT
            parts.append(f'<rect x="{x}" y="{y}" width="{K * cell}" height="{row - 2}" style="fill:{colour}" rx="2"/>')
        if st["span"] < 0:
            caption = f"the {K}-wide kernel does not fit in {cells} cells"
        elif st["output"] is None:
            caption = f"{n} positions; the red cells are never reached: the stride does not tile the row"
        else:
            caption = f"{n} kernel position{'s' if n != 1 else ''}, so {n} output{'s' if n != 1 else ''} per row"
        parts.append(
            f'<text x="0" y="{height - 6}" font-size="11" font-family="sans-serif" fill="currentColor">'
            f"{html.escape(caption)} (grey: padding)</text>"
        )
        parts.append("</svg>")
        return "".join(parts)


class FormulaExercise(widgets.VBox):
    """An exercise answered with the sliders: take ``size`` to exactly ``target``, then press Check.

    Introduced in chapter 1 (Exercise 1.2); chapter 3 asks for S2's
    non-overlapping windows with it (Exercise 3.3). The verdict is the text of
    :func:`lenet_course.check.formula_target`, the checker of the non-widget path.
    """

    def __init__(
        self,
        size: int = 32,
        target: int = 16,
        exercise: str = "1.2",
        non_overlapping: bool = False,
        kernel: int = 5,
        padding: int = 0,
        stride: int = 1,
    ) -> None:
        self.size_goal, self.target, self.exercise, self.non_overlapping = size, target, exercise, non_overlapping
        self.explorer = FormulaExplorer(size=size, kernel=kernel, padding=padding, stride=stride)
        extra = " with windows that do not overlap and no padding" if non_overlapping else ""
        self.question = widgets.HTML(
            f"<b>Exercise {exercise}</b>: set the sliders so that a {size}-wide input gives exactly {target}{extra}, "
            "then press Check."
        )
        self.check_button = widgets.Button(description="Check", button_style="primary", icon="check")
        self.verdict = widgets.HTML()
        self.question.add_class("lenet-exercise-question")
        self.check_button.add_class("lenet-exercise-check")
        self.verdict.add_class("lenet-exercise-verdict")
        self.check_button.on_click(lambda _button: self.check())
        super().__init__([self.question, self.explorer, self.check_button, self.verdict])
        self.add_class("lenet-formula-exercise")

    @property
    def answer(self) -> dict[str, int]:
        """The sliders' values, ready for the non-widget check: ``dict(W=..., F=..., P=..., S=...)``."""
        return self.explorer.values

    def check(self) -> bool:
        """Run the checker on the sliders and show its verdict; True when it passes."""
        from ..check.formula import formula_target

        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            passed = formula_target(
                self.answer,
                size=self.size_goal,
                target=self.target,
                exercise=self.exercise,
                non_overlapping=self.non_overlapping,
            )
        self.verdict.value = (
            f'<pre style="{status_colour(passed)};white-space:pre-wrap">{html.escape(text.getvalue().rstrip())}</pre>'
        )
        return bool(passed)

    def __repr__(self) -> str:
        return f"FormulaExercise({self.exercise}: {self.size_goal} -> {self.target}, sliders at {self.answer})"
