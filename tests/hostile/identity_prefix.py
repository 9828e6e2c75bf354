# A file named after another learner, in Mallory's folder: Mallory's, not the victim's.
# learner: mallory
# file: victim_01_output_size_formula.ipynb
# base: wrong
# marks: 0
# flagged: no
