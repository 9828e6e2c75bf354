"""Exercise checkers, one module per topic; call them from a chapter's check cells.

Used by the check cells of chapters 0 to 11.

>>> from lenet_course import check
>>> check.conv_output_size(conv_output_size)   # doctest: +SKIP
Exercise 1.1: 12/12 cases correct. Well done!
"""

from ._core import Case, Raises, Verdict, report, same_value  # noqa: F401
from .assembly import *  # noqa: F401,F403
from .augmentation import *  # noqa: F401,F403
from .basics import *  # noqa: F401,F403
from .c3_table import *  # noqa: F401,F403
from .classic import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .formula import *  # noqa: F401,F403
from .mnist_input import *  # noqa: F401,F403
from .output_layer import *  # noqa: F401,F403
from .predictions import *  # noqa: F401,F403
from .subsampling import *  # noqa: F401,F403
from .training_loop import *  # noqa: F401,F403
