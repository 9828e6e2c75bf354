# The kernel exits in the middle of an answer: what ran before it keeps its verdicts.
# base: reference
# at: end of 1.2
# marks: 1
# flagged: no
# results: passed, error: kernel died, error: kernel died
import os

os._exit(1)
