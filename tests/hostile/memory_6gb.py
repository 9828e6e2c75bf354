# Six gigabytes allocated and touched, a gigabyte at a time, before an answer.
# base: reference
# at: start of 1.3
# marks: 2
# flagged: no
# results: passed, passed, error: MemoryError
chunks = []
for _ in range(6):
    chunks.append(bytearray(2**30))  # zero-filled: every page touched
