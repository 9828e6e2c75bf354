"""A first widget, to see that widgets work in your Jupyter (chapter 0).

CSS classes, stable for browser tests: ``lenet-welcome`` (the whole box),
``lenet-welcome-slider`` (an ``IntSlider``), ``lenet-welcome-echo`` (the
line that repeats the slider's value, ``The slider reads 3; 3 x 3 = 9.``).
"""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["WidgetCheck"]


class WidgetCheck(widgets.VBox):
    """A slider and a line that follows it (chapter 0): if the line changes as the slider moves, widgets work."""

    def __init__(self, value: int = 3) -> None:
        self.slider = widgets.IntSlider(value=value, min=0, max=10, description="move me")
        self.echo = widgets.HTML()
        self.slider.add_class("lenet-welcome-slider")
        self.echo.add_class("lenet-welcome-echo")
        super().__init__([self.slider, self.echo])
        self.add_class("lenet-welcome")
        self.slider.observe(lambda _change: self.update(), names="value")
        self.update()

    def update(self) -> None:
        v = self.slider.value
        self.echo.value = f"The slider reads {v}; {v} x {v} = {v * v}."

    def __repr__(self) -> str:
        return f"WidgetCheck(slider={self.slider.value})"
