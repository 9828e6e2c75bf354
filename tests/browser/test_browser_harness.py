"""The browser harness itself, on small notebooks written for the test.

These prove that the tools the chapter tests rely on can fail: a raised error
is found (and a warning is not taken for one), a slider moved in the page
reaches the kernel and changes the text shown, a button click shows its
result, and a mouse drag on an ipycanvas canvas reaches Python.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _write(root, name: str, sources: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    nbformat.write(nb, root / name)
    return name


WIDGETS = [
    "import warnings\nimport ipywidgets as widgets\nwarnings.warn('a warning is not an error')",
    # A slider and the text it drives, like the formula explorer.
    "size = widgets.IntSlider(value=32, min=1, max=64, description='W')\n"
    "size.add_class('harness-size')\n"
    "result = widgets.Label()\n"
    "result.add_class('harness-result')\n"
    "def show(change=None):\n"
    "    result.value = f'Output size: {size.value - 5 + 1}'\n"
    "size.observe(show, names='value')\n"
    "show()\n"
    "widgets.VBox([size, result])",
    # A button and its verdict, like an exercise check.
    "button = widgets.Button(description='Check')\n"
    "button.add_class('harness-check')\n"
    "verdict = widgets.HTML()\n"
    "verdict.add_class('harness-verdict')\n"
    "def check(_):\n"
    "    verdict.value = f'Exercise 0.1: {int(size.value == 16)}/1 cases correct.'\n"
    "button.on_click(check)\n"
    "widgets.VBox([button, verdict])",
    # A canvas that counts the points the mouse drew, like the drawing pad.
    "from ipycanvas import Canvas\n"
    "canvas = Canvas(width=140, height=140, layout=widgets.Layout(width='140px', height='140px'))\n"
    "canvas.add_class('harness-canvas')\n"
    "drawn = widgets.Label('0 points')\n"
    "drawn.add_class('harness-drawn')\n"
    "state = {'down': False, 'points': 0}\n"
    "def down(x, y):\n"
    "    state['down'] = True\n"
    "def move(x, y):\n"
    "    if state['down']:\n"
    "        state['points'] += 1\n"
    "        canvas.fill_rect(x - 3, y - 3, 6, 6)\n"
    "def up(x, y):\n"
    "    state['down'] = False\n"
    "    drawn.value = f\"{state['points']} points\"\n"
    "canvas.on_mouse_down(down)\n"
    "canvas.on_mouse_move(move)\n"
    "canvas.on_mouse_up(up)\n"
    "widgets.VBox([canvas, drawn])",
]


def test_widgets_respond_in_the_page(jupyterlab, open_notebook):
    name = _write(jupyterlab.root, "harness_widgets.ipynb", WIDGETS)
    nb = open_notebook(name)
    nb.run_all(timeout=90)
    nb.assert_no_errors()
    # The warning is shown as stderr but is not an error.
    assert nb.find(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() >= 1
    assert nb.tracebacks_shown() == []

    slider = nb.find(".harness-size")
    result = nb.find(".harness-result")
    expect(result).to_have_text("Output size: 28")
    nb.press_on_slider(slider, "ArrowRight", times=3)
    expect(result).to_have_text("Output size: 31")
    nb.set_slider(slider, 16)
    expect(result).to_have_text("Output size: 12")
    nb.screenshot("harness-slider", nb.cell_of(".harness-size"))

    nb.find(".harness-check").click()
    expect(nb.find(".harness-verdict")).to_have_text("Exercise 0.1: 1/1 cases correct.")

    canvas = nb.canvas("harness-canvas")
    nb.drag(canvas, [(0.2, 0.2), (0.5, 0.5), (0.8, 0.3)])
    drawn = nb.find(".harness-drawn")
    expect(drawn).to_have_text(re.compile(r"^[1-9]\d* points$"))
    assert int(drawn.inner_text().split()[0]) >= 2, "the drag reached Python as fewer than two mouse moves"
    nb.screenshot("harness-canvas", nb.cell_of(".harness-canvas"))
    assert nb.error_outputs() == []


def test_a_raised_error_is_found(jupyterlab, open_notebook):
    name = _write(jupyterlab.root, "harness_error.ipynb", ["print('before')", "1 / 0", "print('never reached')"])
    nb = open_notebook(name)
    nb.run_all(timeout=60)
    errors = nb.error_outputs()
    assert [(e["cell"], e["ename"]) for e in errors] == [(1, "ZeroDivisionError")]
    assert any("ZeroDivisionError" in text for text in nb.tracebacks_shown())
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        nb.assert_no_errors()
    # Run All stops at the error: the last cell never ran.
    assert nb.progress()["run"] == 2
