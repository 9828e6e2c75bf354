# A fork bomb before an answer: every child stays alive, holding its place.
# base: reference
# at: start of 1.3
# marks: 2
# flagged: yes
# results: passed, passed, error: BlockingIOError
import os
import time

children = 0
while True:
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
    children += 1
