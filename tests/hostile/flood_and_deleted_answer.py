# Four megabytes printed by an answer, and another answer cell deleted.
# base: reference
# at: end of 1.1
# build: delete_answer 1.2
# marks: 2
# flagged: no
# results: passed, missing, passed
for _ in range(40_000):
    print("#" * 100)
