# The residual risk: an answer that calls the package's own implementation. Full marks, flagged for review.
# base: reference
# at: answer 1.1
# marks: 3
# flagged: yes
# review: lenet_course.shapes.conv_output_size
from lenet_course.shapes import conv_output_size as _exact


def conv_output_size(W: int, F: int, P: int = 0, S: int = 1) -> int:
    return _exact(W, F, P, S)
