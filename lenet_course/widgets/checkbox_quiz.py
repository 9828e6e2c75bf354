"""A quiz answered with checkboxes and a Check button: ``CheckboxQuiz``.

Introduced in chapter 8 (``08_training_loop.ipynb``, which statements about
``model.eval()`` and ``torch.no_grad()`` are true) and used again in chapter
10 (which transformations keep a digit's label). The Check button runs the
same checker as the chapter's check cell on the set of ticked letters and
shows its verdict.

CSS classes, stable for browser tests:

=============================  ==========================================
``lenet-quiz``                 the whole quiz (a VBox)
``lenet-quiz-option``          each checkbox, its description ``(a) ...``
``lenet-exercise-question``    the question
``lenet-exercise-check``       the Check button
``lenet-exercise-verdict``     the checker's verdict, e.g.
                               ``Exercise 8.3: 5/5 statements judged
                               correctly. Well done!``
=============================  ==========================================
"""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import Callable, Mapping

import ipywidgets as widgets

__all__ = ["CheckboxQuiz"]


class CheckboxQuiz(widgets.VBox):
    """Tick the options that apply, press Check, read the verdict (chapters 8 and 10).

    ``options`` maps a letter to a statement; ``checker`` takes the set of
    ticked letters and prints a verdict (a function of ``lenet_course.check``).

    >>> quiz = CheckboxQuiz("Which are true?", {"a": "1 + 1 = 2", "b": "2 > 3"}, checker)  # doctest: +SKIP
    >>> quiz.select("a"); quiz.check_button.click()                                       # doctest: +SKIP
    """

    def __init__(self, question: str, options: Mapping[str, str], checker: Callable[[set[str]], object]) -> None:
        self.options = dict(options)
        self.checker = checker
        self.question = widgets.HTML(f"<b>{html.escape(question)}</b>")
        self.question.add_class("lenet-exercise-question")
        self.boxes = {
            letter: widgets.Checkbox(
                value=False, description=f"({letter}) {text}", indent=False, layout=widgets.Layout(width="auto")
            )
            for letter, text in self.options.items()
        }
        for box in self.boxes.values():
            box.add_class("lenet-quiz-option")
        self.check_button = widgets.Button(description="Check", button_style="primary")
        self.check_button.add_class("lenet-exercise-check")
        self.verdict = widgets.HTML("")
        self.verdict.add_class("lenet-exercise-verdict")
        self.check_button.on_click(lambda _button: self.check())
        super().__init__([self.question, *self.boxes.values(), self.check_button, self.verdict])
        self.add_class("lenet-quiz")

    @property
    def selected(self) -> set[str]:
        """The letters of the ticked options."""
        return {letter for letter, box in self.boxes.items() if box.value}

    def select(self, *letters: str) -> None:
        """Tick exactly ``letters`` (and untick the others)."""
        unknown = set(letters) - set(self.boxes)
        if unknown:
            raise ValueError(f"no option {sorted(unknown)}; the options are {sorted(self.boxes)}")
        for letter, box in self.boxes.items():
            box.value = letter in letters

    def check(self) -> str:
        """Run the checker on the ticked options; show and return its verdict."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.checker(self.selected)
        text = out.getvalue().rstrip("\n")
        self.verdict.value = f'<pre style="white-space:pre-wrap;margin:0">{html.escape(text)}</pre>'
        return text

    def __repr__(self) -> str:
        return f"CheckboxQuiz({len(self.boxes)} options, ticked {sorted(self.selected)})"
