# Asking the judge many times with different answers until one passes: only the first answers count.
# base: reference
# at: after setup
# marks: 2
# flagged: yes
# results: failed 0/14, passed, passed
import json
import os
import socket

from lenet_course.check import wire


def ask(sock, reader, message):
    sock.sendall(json.dumps(message).encode() + b"\n")
    return json.loads(reader.readline())


for guess in range(30):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(os.environ["LENET_COURSE_JUDGE"])
        reader = sock.makefile("rb")
        cases = ask(sock, reader, {"op": "cases", "exercise": "1.1"})
        if "cases" not in cases:
            break
        answers = [{"value": wire.encode(guess)} for _ in cases["cases"]]
        verdict = ask(sock, reader, {"op": "answers", "exercise": "1.1", "answers": answers})
        if verdict.get("passed") == verdict.get("total"):
            break
print("tried", guess + 1, "answers")
