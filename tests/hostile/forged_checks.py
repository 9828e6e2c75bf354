# The learner version with every check's verdict pasted in, into the check and as a cell of its own.
# base: release
# build: forge_checks
# marks: 0
# flagged: no
# results: error: NotImplementedError, error: NotImplementedError, error: NotImplementedError
