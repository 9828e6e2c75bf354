"""Chapter 1 in JupyterLab: the output-size formula explorer and its slider exercise.

The notebook is run once (Run > Run All Cells) for the module; each test then
works on what the page shows. Widget classes: ``lenet_course/widgets/formula.py``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .jupyterlab_driver import CHAPTERS

pytestmark = pytest.mark.browser

CHAPTER = "01_output_size_formula.ipynb"
# The explorer on its own, not the one inside the exercise widget.
EXPLORER = ".jp-Cell:not(:has(.lenet-formula-exercise)) .lenet-formula"
EXERCISE = ".lenet-formula-exercise"


@pytest.fixture(scope="module")
def chapter(notebook_opener):
    with notebook_opener(CHAPTER) as nb:
        nb.run_all(timeout=180)
        yield nb


def expected_result(W: int, F: int, P: int, S: int) -> str:
    """What the result line must say, from the formula itself."""
    span = W - F + 2 * P
    if span < 0:
        return f"Does not fit: the kernel ({F}) is wider than the padded input ({W + 2 * P})"
    if span % S:
        return f"Does not tile: {span / S + 1:g} is not a whole number"
    return f"Output size: {span // S + 1}"


def readouts(nb, root: str) -> dict[str, int]:
    """The four slider values as the page shows them."""
    values = {}
    for key, name in (("W", "size"), ("F", "kernel"), ("P", "padding"), ("S", "stride")):
        values[key] = int(nb.find(f"{root} .lenet-formula-{name} .widget-readout").first.inner_text())
    return values


def test_runs_without_errors_and_shows_the_committed_verdicts(chapter):
    chapter.assert_no_errors()
    chapter.assert_committed_verdicts_shown(CHAPTERS / CHAPTER)
    chapter.screenshot("ch01-after-run-all")


def test_formula_explorer_follows_its_sliders(chapter):
    explorer = chapter.find(EXPLORER).first
    result = explorer.locator(".lenet-formula-result")
    expect(result).to_be_visible()
    start = readouts(chapter, EXPLORER)
    assert start == {"W": 32, "F": 5, "P": 0, "S": 1}
    expect(result).to_have_text(expected_result(**start))  # Output size: 28
    expect(explorer.locator(".lenet-formula-picture svg")).to_be_visible()
    chapter.screenshot("ch01-explorer-start", explorer)

    # Keyboard on the stride handle: S 1 -> 2 does not tile 32 with F = 5.
    chapter.press_on_slider(explorer.locator(".lenet-formula-stride"), "ArrowRight")
    expect(explorer.locator(".lenet-formula-stride .widget-readout")).to_have_text("2")
    expect(result).to_have_text(expected_result(32, 5, 0, 2))
    assert result.inner_text().startswith("Does not tile: 14.5")
    chapter.screenshot("ch01-explorer-does-not-tile", explorer)

    # Typed into the readouts: S2's pooling, 28 -> 14.
    chapter.set_slider(explorer.locator(".lenet-formula-size"), 28)
    chapter.set_slider(explorer.locator(".lenet-formula-kernel"), 2)
    values = readouts(chapter, EXPLORER)
    assert values == {"W": 28, "F": 2, "P": 0, "S": 2}
    expect(result).to_have_text(expected_result(**values))  # Output size: 14
    expect(explorer.locator(".lenet-formula-arithmetic")).to_contain_text("= 14")

    # Padding that keeps the size: W 28, F 5, P 2, S 1 -> 28.
    chapter.set_slider(explorer.locator(".lenet-formula-kernel"), 5)
    chapter.set_slider(explorer.locator(".lenet-formula-padding"), 2)
    chapter.press_on_slider(explorer.locator(".lenet-formula-stride"), "ArrowLeft")
    values = readouts(chapter, EXPLORER)
    assert values == {"W": 28, "F": 5, "P": 2, "S": 1}
    expect(result).to_have_text(expected_result(**values))  # Output size: 28
    chapter.screenshot("ch01-explorer-padding", explorer)


def test_slider_exercise_check_shows_its_verdict(chapter):
    exercise = chapter.find(EXERCISE).first
    check = exercise.locator(".lenet-exercise-check")
    verdict = exercise.locator(".lenet-exercise-verdict")
    expect(exercise.locator(".lenet-exercise-question")).to_contain_text("Exercise 1.2")

    # Sliders as they start (32 -> 28): a wrong answer, with the failing case and a hint.
    check.click()
    expect(verdict).to_contain_text("Exercise 1.2: 1/2 cases correct.")
    expect(verdict).to_contain_text("the output width with answer_1_2 is 28, expected 16")
    expect(verdict).to_contain_text("Hint:")
    chapter.screenshot("ch01-exercise-wrong", exercise)

    # F = 2, S = 2 takes 32 to 16.
    chapter.set_slider(exercise.locator(".lenet-formula-kernel"), 2)
    chapter.press_on_slider(exercise.locator(".lenet-formula-stride"), "ArrowRight")
    expect(exercise.locator(".lenet-formula-result")).to_have_text(expected_result(32, 2, 0, 2))
    check.click()
    expect(verdict).to_have_text(re.compile(r"^\s*Exercise 1\.2: 2/2 cases correct\. Well done!\s*$"))
    chapter.screenshot("ch01-exercise-right", exercise)
