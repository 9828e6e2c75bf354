# A daemon in a new session that waits for the grader to finish, then rewrites the gradebook and the feedback.
# base: wrong
# at: after setup
# marks: 0
# flagged: yes
# results: failed 0/14, failed 0/2, failed 0/7
import os
import subprocess
import sys

script = """
import pathlib, time
time.sleep(4)
for target in ["@@OUT@@/gradebook.csv", "@@OUT@@/gradebook.json", *pathlib.Path("@@OUT@@/feedback").glob("*.md")]:
    try:
        pathlib.Path(target).write_text("learner,total\\nsetsid_daemon,3\\n")
    except OSError:
        pass
try:
    pathlib.Path("@@CANARY@@").write_text("the daemon outlived its sandbox")
except OSError:
    pass
time.sleep(600)  # lenet-hostile-daemon: still here, if nothing stopped it
"""
subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c", script])
