# A notebook claiming nbformat 99.
# build: wrong_nbformat
# status: invalid notebook
# marks: 0
# flagged: no
# results: not graded, not graded, not graded
# note: nbformat 99
