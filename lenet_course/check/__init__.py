"""Exercise checkers: call them from a chapter's check cells (chapter 0 on).

Used by the check cells of chapters 0 to 11.

>>> from lenet_course import check
>>> check.conv_output_size(conv_output_size)   # doctest: +SKIP
Exercise 1.1: 14/14 cases correct. Well done!

Each of the course's exercises is declared once (:mod:`.exercise`): its
cases, how the learner's answer is run on them, the reference, the
comparison and the hint. A checker runs whole in the notebook; under grading
the same declaration runs split between the learner's kernel and a judge
outside it (:mod:`.judge`). A wrong answer never raises: the checker prints
how many cases are right, the first failing case and a hint. A stub that
raises ``NotImplementedError`` stops the notebook there.

The rule for numbers, the same in every exercise (chapter 0 states it):

    Counts, sizes, widths, indices and labels are Python ints: a float is
    refused, even a whole one such as 28.0, and so are True and False. A
    measured quantity asked for as a Python number (a loss, an accuracy, a
    probability) is a float, or an int; a tensor is refused, and .item()
    turns a one-element tensor into a number. A tensor answer is compared in
    shape, dtype and values, float values within a small tolerance.
"""

from .assembly import *  # noqa: F401,F403
from .augmentation import *  # noqa: F401,F403
from .basics import *  # noqa: F401,F403
from .c3_table import *  # noqa: F401,F403
from .classic import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .exercise import EXERCISES, Case, Exercise, Raises, Verdict  # noqa: F401
from .formula import *  # noqa: F401,F403
from .mnist_input import *  # noqa: F401,F403
from .output_layer import *  # noqa: F401,F403
from .predictions import *  # noqa: F401,F403
from .subsampling import *  # noqa: F401,F403
from .training_loop import *  # noqa: F401,F403

# in the course's order: 0.1, 0.2, 1.1, ..., 11.3
_ordered = sorted(EXERCISES.items(), key=lambda item: tuple(int(part) for part in item[0].split(".")))
EXERCISES.clear()
EXERCISES.update(_ordered)

NUMBER_RULE = (
    "Counts, sizes, widths, indices and labels are Python ints: a float is refused, even a whole one such as "
    "28.0, and so are True and False. A measured quantity asked for as a Python number (a loss, an accuracy, "
    "a probability) is a float, or an int; a tensor is refused, and .item() turns a one-element tensor into a "
    "number. A tensor answer is compared in shape, dtype and values, float values within a small tolerance."
)
