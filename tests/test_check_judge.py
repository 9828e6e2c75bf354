"""The judge: verdicts computed outside the learner's process, first answers only, robust to garbage."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from lenet_course import check
from lenet_course.check.judge import JUDGE_ENV, JudgeServer, read_record


def floor_width(W, F, P=0, S=1):
    return (W - F + 2 * P) // S + 1


def exact_width(W, F, P=0, S=1):
    if (W - F + 2 * P) % S or W - F + 2 * P < 0:
        raise ValueError("does not tile")
    return (W - F + 2 * P) // S + 1


@pytest.fixture
def judge(tmp_path, monkeypatch):
    server = JudgeServer(tmp_path / "judge.sock", tmp_path / "record.jsonl", ["0.1", "1.1", "1.2", "6.1", "8.3"])
    with server:
        monkeypatch.setenv(JUDGE_ENV, str(tmp_path / "judge.sock"))
        yield server
    assert server.errors == [] or all("unreadable" in e or "ended" in e for e in server.errors)


def whole(checker, answer, capsys, monkeypatch):
    with monkeypatch.context() as m:
        m.delenv(JUDGE_ENV, raising=False)
        capsys.readouterr()
        verdict = checker(answer)
        return verdict, capsys.readouterr().out


def talk(path, *messages, raw=None, timeout=10.0):
    """Send messages (dicts, or raw bytes) to the judge; the replies as dicts (None where it hung up)."""
    replies = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        f = s.makefile("rb")
        for message in messages:
            s.sendall(message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n")
            line = f.readline()
            replies.append(json.loads(line) if line else None)
    return replies


@pytest.mark.parametrize(
    "checker, answer",
    [
        (check.conv_output_size, floor_width),
        (check.conv_output_size, exact_width),
        (check.warmup_zeros, torch.zeros(1, 32, 32)),
        (lambda a: check.formula_target(a, size=32, target=16, exercise="1.2"), dict(W=32, F=3, P=1, S=2)),
        (check.eval_and_no_grad, "b, c, e"),
    ],
)
def test_split_prints_the_same_verdict_as_whole_and_the_judge_records_it(judge, checker, answer, capsys, monkeypatch):
    expected_verdict, expected_text = whole(checker, answer, capsys, monkeypatch)
    verdict = checker(answer)
    assert capsys.readouterr().out == expected_text
    assert verdict == expected_verdict
    record = read_record(judge.record_path)[verdict.exercise]
    assert record == {
        "exercise": verdict.exercise,
        "passed": verdict.passed,
        "total": verdict.total,
        "verdict": expected_text.rstrip("\n"),
        "first_failure": None
        if verdict
        else expected_text.splitlines()[1].removeprefix("  First failing case: ").removeprefix("  Rethink "),
    }


def test_only_the_first_answers_count(judge, capsys):
    assert not check.conv_output_size(floor_width)
    first = capsys.readouterr().out
    again = check.conv_output_size(exact_width)  # right this time, but too late
    out = capsys.readouterr().out
    assert not again and again.passed == 9 and again.total == 14
    assert (
        out
        == first + "  (Exercise 1.1 was already judged: only the first answer counts, this one was not looked at.)\n"
    )
    lines = judge.record_path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["passed"] == 9
    # asking for the cases again gets the recorded verdict, not the cases
    (reply,) = talk(judge.socket_path, {"op": "cases", "exercise": "1.1"})
    assert reply["judged_before"] is True and "cases" not in reply and reply["passed"] == 9


def test_the_kernel_receives_inputs_only_never_expected_values(judge):
    (reply,) = talk(judge.socket_path, {"op": "cases", "exercise": "1.1"})
    assert reply["ok"] and len(reply["cases"]) == 14
    assert reply["cases"][0] == {"$dict": [["W", 32], ["F", 5], ["P", 0], ["S", 1]]}
    assert "28" not in json.dumps(reply["cases"][0]) and "expected" not in json.dumps(reply)


def test_a_checker_in_another_process_gets_its_verdict_from_the_judge(judge, tmp_path):
    kernel = textwrap.dedent(
        """
        from lenet_course import check
        verdict = check.conv_output_size(lambda W, F, P=0, S=1: (W - F + 2 * P) // S + 1)
        print("returned", verdict.passed, verdict.total)
        """
    )
    env = dict(os.environ, **{JUDGE_ENV: str(judge.socket_path)})
    done = subprocess.run([sys.executable, "-c", kernel], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Exercise 1.1: 9/14 cases correct.\n  First failing case: conv_output_size(W=224")
    assert done.stdout.endswith("returned 9 14\n")
    assert read_record(judge.record_path)["1.1"]["passed"] == 9


def test_answers_that_claim_a_pass_are_judged_on_their_values(judge):
    (cases,) = talk(judge.socket_path, {"op": "cases", "exercise": "1.1"})
    forged = [{"value": 1} for _ in cases["cases"]]  # the kernel may send anything: only values count
    (reply,) = talk(judge.socket_path, {"op": "answers", "exercise": "1.1", "answers": forged, "passed": 14})
    assert reply["passed"] == 2 and reply["total"] == 14  # C5 and W=3, F=5, P=1 have width 1
    assert read_record(judge.record_path)["1.1"]["passed"] == 2


@pytest.mark.parametrize(
    "message",
    [
        b"not json\n",
        b"\xff\xfe\n",
        b"[1, 2, 3]\n",
        b'{"op": "cases"}\n',
        b'{"op": "cases", "exercise": "99.9"}\n',
        b'{"op": "cases", "exercise": "5.2"}\n',  # not one of this notebook's exercises
        b'{"op": "eval", "exercise": "1.1"}\n',
        b'{"op": "cases", "exercise": ["1.1"]}\n',
        b"[" * 100_000 + b"\n",
        b'{"op": "answers", "exercise": "1.1", "answers": {"$pickle": "gASVAAAA"}}\n',
    ],
)
def test_garbage_gets_an_error_and_the_judge_keeps_judging(judge, message, capsys):
    (reply,) = talk(judge.socket_path, message)
    assert reply is not None
    if reply["ok"]:  # the last one: answers that cannot be read count as wrong, and are the first answers
        assert reply["passed"] == 0
    else:
        assert isinstance(reply["error"], str)
    assert check.warmup_zeros(torch.zeros(1, 1, 32, 32))
    assert capsys.readouterr().out == "Exercise 0.1: 4/4 cases correct. Well done!\n"


def test_garbage_answers_count_as_wrong_and_never_crash_the_judge(judge):
    (cases,) = talk(judge.socket_path, {"op": "cases", "exercise": "6.1"})
    n = len(cases["cases"])
    answers = [
        {"value": {"$tensor": {"dtype": "float32", "shape": [1, 10], "data": "AAAA"}}},
        {"raised": {"types": [], "message": 3}},
        {"refused": ["x"]},
        {"value": {"$object": "torch.Tensor", "repr": "x" * 10_000}},
    ][:n]
    (reply,) = talk(judge.socket_path, {"op": "answers", "exercise": "6.1", "answers": answers})
    assert reply["ok"] and reply["passed"] == 0 and reply["total"] == 4
    assert len(reply["first_failure"]) < 400


def test_a_message_over_the_size_limit_is_refused(tmp_path):
    with JudgeServer(tmp_path / "j.sock", tmp_path / "r.jsonl", max_message=1000) as judge:
        (reply,) = talk(judge.socket_path, b'{"op": "cases", "exercise": "1.1", "pad": "' + b"x" * 5000 + b'"}\n')
        assert reply == {"ok": False, "error": "the judge could not read this message"}
        (reply,) = talk(judge.socket_path, {"op": "cases", "exercise": "1.1"})
        assert reply["ok"]


def test_a_silent_connection_times_out_and_others_are_still_served(tmp_path):
    with JudgeServer(tmp_path / "j.sock", tmp_path / "r.jsonl", timeout=0.5, max_connections=2) as judge:
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(str(judge.socket_path))
        (reply,) = talk(judge.socket_path, {"op": "cases", "exercise": "0.1"})
        assert reply["ok"]
        silent.settimeout(5)
        assert json.loads(silent.makefile("rb").readline()) == {
            "ok": False,
            "error": "the judge could not read this message",
        }
        silent.close()


def test_close_ends_hanging_connections_and_removes_the_socket(tmp_path):
    judge = JudgeServer(tmp_path / "j.sock", tmp_path / "r.jsonl").start()
    hanging = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hanging.connect(str(judge.socket_path))
    tic = time.monotonic()
    judge.close()
    assert time.monotonic() - tic < 10
    assert not (tmp_path / "j.sock").exists()
    hanging.settimeout(5)
    assert hanging.recv(10) == b""
    hanging.close()


def test_an_existing_record_counts_as_judged(tmp_path, monkeypatch, capsys):
    record = tmp_path / "r.jsonl"
    line = {
        "exercise": "1.1",
        "passed": 3,
        "total": 14,
        "verdict": "Exercise 1.1: 3/14 cases correct.",
        "first_failure": "x",
    }
    record.write_text(json.dumps(line) + "\n")
    with JudgeServer(tmp_path / "j.sock", record):
        monkeypatch.setenv(JUDGE_ENV, str(tmp_path / "j.sock"))
        assert check.conv_output_size(exact_width).passed == 3
    assert capsys.readouterr().out.startswith("Exercise 1.1: 3/14 cases correct.\n")
    assert read_record(record) == {"1.1": line}


def test_read_record_keeps_the_first_line_of_each_exercise_and_skips_garbage(tmp_path):
    path = tmp_path / "r.jsonl"
    good = {"exercise": "2.1", "passed": 1, "total": 2, "verdict": "v", "first_failure": None}
    later = dict(good, passed=2)
    path.write_text(
        "\n".join(["{not json", json.dumps({"exercise": "2.2", "passed": "2"}), json.dumps(good), json.dumps(later)])
    )
    assert read_record(path) == {"2.1": good}
    assert read_record(tmp_path / "missing.jsonl") == {}


def test_unknown_exercises_are_refused_when_the_server_is_made(tmp_path):
    with pytest.raises(ValueError, match="no exercise 12.1"):
        JudgeServer(tmp_path / "j.sock", tmp_path / "r.jsonl", ["1.1", "12.1"])


def test_an_unreachable_judge_gives_one_line_and_no_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(JUDGE_ENV, str(tmp_path / "nobody.sock"))
    verdict = check.conv_output_size(exact_width)
    assert not verdict and verdict.total == 0
    assert capsys.readouterr().out == (
        "Exercise 1.1: could not reach the judge (FileNotFoundError), so nothing was recorded\n"
    )


def test_the_environment_is_read_at_each_call(judge, monkeypatch, capsys):
    monkeypatch.delenv(JUDGE_ENV)
    check.conv_output_size(floor_width)  # whole: nothing recorded
    assert read_record(judge.record_path) == {}
    monkeypatch.setenv(JUDGE_ENV, str(judge.socket_path))
    check.conv_output_size(floor_width)
    assert read_record(judge.record_path)["1.1"]["passed"] == 9


def test_the_stub_stops_the_notebook_and_nothing_is_recorded(judge):
    def stub(W, F, P=0, S=1):
        raise NotImplementedError("Exercise 1.1: write conv_output_size")

    with pytest.raises(NotImplementedError):
        check.conv_output_size(stub)
    assert read_record(judge.record_path) == {}


def _answers():
    from tests.test_check_answers import CHECKERS, RIGHT, WRONG

    for number in CHECKERS:
        yield number, "wrong", next(iter(WRONG[number].values()))
        yield number, "right", next(iter(RIGHT[number].values()))


@pytest.mark.parametrize("number, kind, answer", list(_answers()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_exercise_prints_the_same_verdict_split_as_whole(number, kind, answer, tmp_path, capsys, monkeypatch):
    from tests.test_check_answers import CHECKERS

    expected, text = whole(CHECKERS[number], answer, capsys, monkeypatch)
    with JudgeServer(tmp_path / "j.sock", tmp_path / "r.jsonl", [number]) as server:
        monkeypatch.setenv(JUDGE_ENV, str(tmp_path / "j.sock"))
        verdict = CHECKERS[number](answer)
        assert server.errors == []
    assert capsys.readouterr().out == text
    assert verdict == expected and bool(verdict) == (kind == "right")
    record = read_record(tmp_path / "r.jsonl")[number]
    assert (record["passed"], record["total"], record["verdict"]) == (verdict.passed, verdict.total, text.rstrip("\n"))
