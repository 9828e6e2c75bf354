"""Chapter 9 in JupyterLab: the prediction gallery and the drawing pad.

The notebook is run once (Run > Run All Cells) for the module; the drawing pad
is then used with the mouse. Widget classes: ``lenet_course/widgets/canvas.py``.
"""

from __future__ import annotations

import math
import re
import time

import pytest
from playwright.sync_api import expect

from .jupyterlab_driver import CHAPTERS

pytestmark = pytest.mark.browser

CHAPTER = "09_prediction_gallery.ipynb"
BLANK = "Draw a digit in the black square."
PREDICTION = re.compile(r"Prediction:\s*(\d)\s*\(([\d.]+)%\)")


@pytest.fixture(scope="module")
def chapter(notebook_opener):
    with notebook_opener(CHAPTER) as nb:
        nb.run_all(timeout=240)
        yield nb


def probabilities(pad) -> list[float]:
    """The ten probabilities the pad shows, read from its bars, in class order."""
    rows = pad.locator(".lenet-draw-probs .lenet-draw-prob")
    assert rows.count() == 10, f"expected 10 probability rows, found {rows.count()}"
    values = {int(row.get_attribute("data-class")): float(row.get_attribute("data-probability")) for row in rows.all()}
    return [values[k] for k in range(10)]


def shown_prediction(pad) -> tuple[int, float]:
    text = pad.locator(".lenet-draw-prediction").inner_text()
    match = PREDICTION.search(text)
    assert match, f"the prediction line reads {text!r}, expected 'Prediction: <digit> (<p>%)'"
    return int(match.group(1)), float(match.group(2))


def settle(pad, quiet: float = 1.5, timeout: float = 30.0) -> list[float]:
    """Wait until the kernel has handled every mouse event: the bars stay the same for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = probabilities(pad)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
        time.sleep(0.25)
    raise AssertionError(f"the probabilities kept changing for {timeout:.0f} s after the drag")


def assert_consistent(pad) -> tuple[int, list[float]]:
    """The bars are a probability distribution and the prediction line names their largest."""
    probs = settle(pad)
    assert all(0.0 <= p <= 1.0 for p in probs), probs
    assert math.isclose(sum(probs), 1.0, abs_tol=2e-3), f"probabilities sum to {sum(probs)}"
    digit, percent = shown_prediction(pad)
    assert digit == max(range(10), key=probs.__getitem__), (digit, probs)
    assert math.isclose(percent, 100 * probs[digit], abs_tol=0.06), (percent, probs[digit])
    return digit, probs


def test_runs_without_errors_and_shows_the_committed_verdicts(chapter):
    chapter.assert_no_errors()
    chapter.assert_committed_verdicts_shown(CHAPTERS / CHAPTER)
    chapter.screenshot("ch09-after-run-all")


def test_drawing_pad_follows_the_mouse(chapter):
    pads = chapter.find(".lenet-draw")
    assert pads.count() == 1, f"expected one drawing pad on the page, found {pads.count()}"
    pad = pads.first
    canvas = chapter.canvas("lenet-draw-canvas")
    expect(canvas).to_be_visible()
    prediction = pad.locator(".lenet-draw-prediction")
    seen = pad.locator("img.lenet-draw-input, .lenet-draw-input img").first

    expect(prediction).to_have_text(BLANK)
    assert probabilities(pad) == [0.0] * 10
    blank_image = seen.get_attribute("src")
    chapter.screenshot("ch09-draw-blank", pad)

    # A vertical stroke down the middle: a one.
    chapter.drag(canvas, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)])
    expect(prediction).to_have_text(PREDICTION)
    digit, one = assert_consistent(pad)
    chapter.screenshot("ch09-draw-one", pad)
    assert digit == 1, f"a vertical stroke was read as {digit} ({one})"
    assert seen.get_attribute("src") != blank_image, "the 32x32 input shown did not change"

    # Clear, then a seven: a bar along the top and a diagonal down to the left.
    pad.locator(".lenet-draw-clear").click()
    expect(prediction).to_have_text(BLANK)
    assert probabilities(pad) == [0.0] * 10
    chapter.drag(canvas, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
    expect(prediction).to_have_text(PREDICTION)
    digit, seven = assert_consistent(pad)
    chapter.screenshot("ch09-draw-seven", pad)
    assert digit == 7, f"a seven-shaped stroke was read as {digit} ({seven})"
