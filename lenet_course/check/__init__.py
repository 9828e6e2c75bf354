"""Exercise checkers, one module per topic; call them from a chapter's check cells.

>>> from lenet_course import check
>>> check.conv_output_size(conv_output_size)   # doctest: +SKIP
Exercise 1.1: 12/12 cases correct. Well done!
"""

from ._core import Case, Raises, report, same_value  # noqa: F401
