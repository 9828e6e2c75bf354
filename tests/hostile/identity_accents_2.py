# Josè Garcìa: the other one, with a file of their own.
# learner: Josè Garcìa
# base: wrong
# marks: 0
# flagged: no
