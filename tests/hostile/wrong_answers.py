# Answers that run but are wrong in every case: the judge's verdicts, no points.
# base: wrong
# marks: 0
# flagged: no
# results: failed 0/14, failed 0/2, failed 0/7
