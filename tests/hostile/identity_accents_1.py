# José García: one of two learners whose names differ only by their accents.
# learner: José García
# base: reference
# marks: 3
# flagged: no
