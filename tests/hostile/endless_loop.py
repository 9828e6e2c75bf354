# An endless loop in an answer: that cell is stopped at the cell time limit, the rest is graded.
# base: reference
# at: start of 1.2
# marks: 2
# flagged: no
# results: passed, timed out, passed
while True:
    pass
