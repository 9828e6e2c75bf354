"""The formula explorer and its exercise, driven from Python as a learner drives them in the browser."""

import pytest
import torch
from torch import nn

from lenet_course import shapes
from lenet_course.widgets import FormulaExercise, FormulaExplorer
from lenet_course.widgets.formula import formula_state


def text(html_widget):
    import re

    return re.sub(r"<[^>]+>", "", html_widget.value)


def test_starts_at_c1():
    explorer = FormulaExplorer()
    assert explorer.values == {"W": 32, "F": 5, "P": 0, "S": 1}
    assert text(explorer.result) == "Output size: 28"
    assert "= (32 &minus; 5 + 2&times;0) / 1 + 1" in explorer.arithmetic.value
    assert "turns 32&times;32 into 28&times;28" in explorer.arithmetic.value
    assert explorer.picture.value.count('rx="2"') == 28  # one bar per kernel position
    assert repr(explorer) == "FormulaExplorer(W=32, F=5, P=0, S=1 -> 28)"


def test_moving_a_slider_updates_the_result():
    explorer = FormulaExplorer()
    explorer.kernel.value = 2
    explorer.stride.value = 2
    assert text(explorer.result) == "Output size: 16"
    assert explorer.output_size == 16 and explorer.tiles
    assert explorer.picture.value.count('rx="2"') == 16
    explorer.padding.value = 2
    assert text(explorer.result) == "Output size: 18"


def test_says_when_the_stride_does_not_tile():
    explorer = FormulaExplorer(size=32, kernel=5, stride=2)
    assert text(explorer.result) == "Does not tile: 14.5 is not a whole number"
    assert explorer.output_size is None and not explorer.tiles
    assert "rounds down and gives 14&times;14" in explorer.arithmetic.value
    assert "the last column (and the last row) of the padded input is never read" in explorer.arithmetic.value
    assert "#ef9a9a" in explorer.picture.value  # the unread cell drawn in red
    assert repr(explorer).endswith("-> 14.5, does not tile)")


def test_says_when_the_kernel_does_not_fit():
    explorer = FormulaExplorer().set(W=3, F=7)
    assert text(explorer.result) == "Does not fit: the kernel (7) is wider than the padded input (3)"
    assert "refuses a 3&times;3 input" in explorer.arithmetic.value
    assert 'rx="2"' not in explorer.picture.value
    explorer.padding.value = 2
    assert text(explorer.result) == "Output size: 1"


@pytest.mark.parametrize(
    "W, F, P, S", [(32, 5, 0, 1), (28, 2, 0, 2), (7, 3, 1, 2), (32, 5, 0, 2), (11, 4, 1, 3), (40, 11, 5, 6)]
)
def test_state_agrees_with_pytorch_and_the_package(W, F, P, S):
    state = formula_state(W, F, P, S)
    conv = nn.Conv2d(1, 1, F, stride=S, padding=P)(torch.zeros(1, 1, W, W))
    pool = nn.AvgPool2d(F, stride=S, padding=P)(torch.zeros(1, 1, W, W)) if P <= F // 2 else conv
    assert state["torch"] == conv.shape[-1] == pool.shape[-1]
    try:
        assert state["output"] == shapes.conv_output_size(W, F, P, S)
    except ValueError:
        assert state["output"] is None
        assert state["unread"] == (W - F + 2 * P) % S > 0


def test_the_css_classes_for_browser_tests():
    explorer = FormulaExplorer()
    assert "lenet-formula" in explorer._dom_classes
    for name in ("size", "kernel", "padding", "stride", "result", "arithmetic", "picture"):
        assert f"lenet-formula-{name}" in getattr(explorer, name)._dom_classes
    exercise = FormulaExercise()
    assert "lenet-formula-exercise" in exercise._dom_classes
    assert "lenet-exercise-check" in exercise.check_button._dom_classes
    assert "lenet-exercise-verdict" in exercise.verdict._dom_classes
    assert "lenet-exercise-question" in exercise.question._dom_classes


def test_exercise_check_button_shows_the_verdict():
    exercise = FormulaExercise(size=32, target=16, exercise="1.2")
    assert exercise.verdict.value == ""
    exercise.check_button.click()
    assert "Exercise 1.2: 1/2 cases correct." in text(exercise.verdict)
    assert "the output width with answer_1_2 is 28, expected 16" in text(exercise.verdict)
    exercise.explorer.kernel.value = 4
    exercise.explorer.padding.value = 1
    exercise.explorer.stride.value = 2
    exercise.check_button.click()
    assert text(exercise.verdict) == "Exercise 1.2: 2/2 cases correct. Well done!"
    assert exercise.answer == {"W": 32, "F": 4, "P": 1, "S": 2}


def test_exercise_with_non_overlapping_windows():
    exercise = FormulaExercise(size=28, target=14, exercise="3.3", non_overlapping=True)
    assert "do not overlap" in exercise.question.value
    exercise.explorer.set(F=4, P=1, S=2)
    assert not exercise.check()
    assert "with F=4 and S=2 neighbouring windows overlap" in text(exercise.verdict)
    exercise.explorer.set(F=2, P=0, S=2)
    assert exercise.check()
    assert text(exercise.verdict) == "Exercise 3.3: 4/4 cases correct. Well done!"


def test_each_part_carries_the_class_the_browser_tests_find_it_by():
    explorer = FormulaExplorer()
    assert "lenet-formula" in explorer._dom_classes
    for name in ("size", "kernel", "padding", "stride", "result", "arithmetic", "picture"):
        assert f"lenet-formula-{name}" in getattr(explorer, name)._dom_classes
