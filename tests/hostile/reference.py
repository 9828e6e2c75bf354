# The reference chapter, as it is: every answer right, nothing to review.
# base: reference
# marks: 3
# flagged: no
# results: passed, passed, passed
