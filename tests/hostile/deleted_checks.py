# The learner version with every check cell deleted: the checks come back from the chapter.
# base: release
# build: delete_checks
# marks: 0
# flagged: no
# results: error: NotImplementedError, error: NotImplementedError, error: NotImplementedError
