# The formula without its ValueError: 9 of the 14 cases right, so 9/14 of a point.
# base: reference
# at: answer 1.1
# marks: 37/14
# flagged: no
# results: failed 9/14, passed, passed
def conv_output_size(W: int, F: int, P: int = 0, S: int = 1) -> int:
    return (W - F + 2 * P) // S + 1
