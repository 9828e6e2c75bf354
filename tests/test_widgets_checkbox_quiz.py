"""The checkbox quiz of chapters 8 and 10: tick, press Check, read the verdict."""

import pytest

from lenet_course import check
from lenet_course.widgets import CheckboxQuiz


@pytest.fixture
def quiz():
    return CheckboxQuiz("Which keep the label?", check.TRANSFORM_STATEMENTS, check.label_preserving)


def test_shows_every_option_unticked(quiz):
    assert len(quiz.boxes) == 8 and quiz.selected == set()
    assert quiz.boxes["e"].description == "(e) flip left to right (a mirror image)"
    assert quiz.verdict.value == ""


def test_right_answer(quiz):
    for letter in "abcdh":
        quiz.boxes[letter].value = True
    quiz.check_button.click()
    assert "Exercise 10.2: 8/8 statements judged correctly. Well done!" in quiz.verdict.value


def test_wrong_answer_names_a_statement_to_rethink(quiz):
    quiz.select("a", "b", "g")
    assert quiz.selected == {"a", "b", "g"}
    text = quiz.check()
    assert text.startswith("Exercise 10.2: 4/8 statements judged correctly.")
    assert "Rethink statement (c): shift by up to 2 pixels in any direction" in quiz.verdict.value


def test_ticking_again_and_rechecking_updates_the_verdict(quiz):
    quiz.select("a")
    quiz.check_button.click()
    before = quiz.verdict.value
    quiz.select("a", "b", "c", "d", "h")
    quiz.check_button.click()
    assert quiz.verdict.value != before and "Well done!" in quiz.verdict.value


def test_select_rejects_an_unknown_letter(quiz):
    with pytest.raises(ValueError, match="no option"):
        quiz.select("z")


def test_eval_quiz_of_chapter_8():
    quiz = CheckboxQuiz("Which are true?", check.EVAL_STATEMENTS, check.eval_and_no_grad)
    quiz.select("b", "c", "d", "f")
    assert quiz.check() == "Exercise 8.3: 6/6 statements judged correctly. Well done!"
