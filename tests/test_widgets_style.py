"""The widgets draw with the theme's colours (lenet_course/widgets/_style.py), never fixed ones.

The browser test tests/browser/test_browser_theme.py measures the contrast
that results in JupyterLab's light and dark themes.
"""

from __future__ import annotations

import re

import pytest
import torch

from lenet_course.widgets import DrawingPad, FormulaExercise, FormulaExplorer
from lenet_course.widgets._style import status_colour

# What a fixed colour looks like in a style or an SVG attribute.
FIXED = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|(?<![-\w])(?:black|white|red|green|blue|grey|gray)(?![-\w])")
THEMED = re.compile(r"var\(--jp-[a-z0-9-]+(?:, [^()]*)?\)")


def fixed_colours(markup: str) -> list[str]:
    """Colours in ``markup``'s style and fill attributes that are not a theme variable (with its fallback)."""
    found = []
    for attribute in re.findall(r'(?:style|fill|stroke)="([^"]*)"', markup):
        found += FIXED.findall(THEMED.sub("", attribute))
    return found


@pytest.mark.parametrize(
    "values",
    [dict(W=32, F=5, P=0, S=1), dict(W=32, F=5, P=0, S=2), dict(W=4, F=9, P=0, S=1), dict(W=28, F=5, P=2, S=1)],
    ids=["tiles", "does-not-tile", "does-not-fit", "padded"],
)
def test_formula_explorer_uses_theme_colours_only(values):
    explorer = FormulaExplorer().set(**values)
    for markup in (explorer.result.value, explorer.arithmetic.value, explorer.picture.value):
        assert fixed_colours(markup) == [], markup[:300]
    assert "var(--jp-" in explorer.result.value and "var(--jp-" in explorer.picture.value


def test_svg_text_takes_the_text_colour_of_the_page():
    svg = FormulaExplorer().set(W=32, F=5, P=0, S=2).picture.value
    texts = re.findall(r"<text [^>]*>", svg)
    assert len(texts) == 2 and all('fill="currentColor"' in t for t in texts)


def test_exercise_verdicts_use_theme_colours_for_right_and_wrong():
    exercise = FormulaExercise(size=32, target=16, exercise="1.2")
    assert exercise.check() is False
    wrong = exercise.verdict.value
    exercise.explorer.set(F=2, S=2)
    assert exercise.check() is True
    right = exercise.verdict.value
    for markup in (wrong, right):
        assert fixed_colours(markup) == []
    assert "--jp-error-color1" in wrong and "--jp-success-color1" in right


def test_drawing_pad_bars_use_theme_colours():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 10))
    pad = DrawingPad(model)
    pad.draw_line([(70, 60), (215, 60), (175, 140), (130, 240)])
    assert fixed_colours(pad.probs_view.value) == []
    assert "--jp-brand-color1" in pad.probs_view.value


def test_status_colour_mixes_the_theme_colour_with_the_text_colour():
    ok, wrong = status_colour(True), status_colour(False)
    assert "color-mix(in srgb, var(--jp-success-color1" in ok and "var(--jp-content-font-color0" in ok
    assert "color-mix(in srgb, var(--jp-error-color1" in wrong
    # a browser without color-mix keeps the first declaration: the theme's darker shade
    assert ok.startswith("color:var(--jp-success-color0") and wrong.startswith("color:var(--jp-error-color0")
