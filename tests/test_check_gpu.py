"""``make check-gpu`` (tools/check_gpu.py): the steps it runs, and a report that records every failure.

The GPU steps themselves run only where a GPU is; here the script's own
logic is tested with small commands, and the CPU-only path for real.
"""

import os
import subprocess
import sys

import pytest
import torch

from tools import check_gpu

from .conftest import ROOT


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_without_a_gpu_it_says_so_in_one_line_and_succeeds(tmp_path):
    report = tmp_path / "report.md"
    run = subprocess.run(
        [sys.executable, "tools/check_gpu.py", "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("No CUDA GPU on this machine") and run.stdout.count("\n") == 1
    assert "No CUDA GPU" in report.read_text()


def test_the_gpu_steps_cover_the_cuda_tests_every_chapter_and_the_benchmark():
    steps = check_gpu.gpu_steps(python="python")
    names = [s.name for s in steps]
    commands = [" ".join(s.command) for s in steps]
    assert any("-m cuda" in c and c.endswith(" tests") for c in commands)
    assert any("-m cuda" in c and c.endswith("tests/test_fused.py") for c in commands)
    chapters = sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    assert len(chapters) == 12
    for name in chapters:
        (step,) = [s for s in steps if s.command[-1] == f"chapters/{name}"]
        assert "--nbval-lax" in step.command and step.env["LENET_COURSE_DEVICE"] == "cuda"
    numbers = [n.split()[1][:2] for n in names if n.startswith("chapter ")]
    assert numbers == [f"{i:02d}" for i in range(12)]  # one step per chapter, 00 to 11, in order
    assert commands[-1] == "python -m lenet_course bench --device cuda --quick"


def test_every_step_runs_and_every_failure_is_recorded(tmp_path, capsys):
    python = sys.executable
    steps = [
        check_gpu.Step("fails", [python, "-c", "import sys; print('half done'); sys.exit(3)"]),
        check_gpu.Step("missing program", ["no-such-program-for-check-gpu"]),
        check_gpu.Step("too slow", [python, "-c", "import time; time.sleep(30)"], timeout=1),
        check_gpu.Step("passes", [python, "-c", "import os; print('value', os.environ['CHECK_GPU_TEST'])"],
                       {"CHECK_GPU_TEST": "42"}),
    ]  # fmt: skip
    report = tmp_path / "out" / "report.md"
    assert check_gpu.check(steps, report, "a test machine") == 1
    text = report.read_text()
    assert "**1 of 4 steps passed.**" in text
    assert "| fails | FAILED |" in text and "exit status 3: half done" in text
    assert "| missing program | FAILED |" in text and "could not start" in text
    assert "| too slow | FAILED |" in text and "timed out after 1 s" in text
    assert "| passes | passed |" in text and "value 42" in text
    assert "## fails" in text and "## passes" not in text  # the output of failing steps only
    assert "1 of 4 steps passed" in capsys.readouterr().out
    assert check_gpu.check(steps[-1:], report, "again") == 0


def test_pytest_summaries_and_an_empty_selection_are_read_right():
    assert check_gpu._summary("....\n===== 12 passed, 1 skipped in 3.1s =====\n", 0) == "12 passed, 1 skipped in 3.1s"
    pytest_none = [sys.executable, "-m", "pytest", "-q", "-m", "no_such_marker", "tests/test_shapes.py"]
    empty = check_gpu.Step("none", pytest_none)
    outcome = check_gpu.run_step(empty)
    assert not outcome.ok and outcome.summary.startswith("no test found")


def test_without_a_gpu_no_step_runs_and_an_old_report_is_replaced(tmp_path, capsys, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a step ran on a machine without a GPU")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(check_gpu, "run_step", must_not_run)
    monkeypatch.setattr(check_gpu, "check", must_not_run)
    report = tmp_path / "report.md"
    report.write_text("# make check-gpu\n\n**17 of 17 steps passed.**\n")  # from an earlier run on a GPU
    assert check_gpu.main(["--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("No CUDA GPU on this machine")
    text = report.read_text()
    assert "No CUDA GPU on this machine" in text
    assert "passed" not in text and "FAILED" not in text and "|" not in text  # no result claimed, no table


@pytest.mark.parametrize(
    "command, timeout, summary, printed",
    [
        (["-c", "import sys; print('half done'); sys.exit(3)"], 60, "exit status 3: half done", "half done"),
        (["-c", "import sys; sys.exit('a message on stderr')"], 60, "exit status 1: a message on stderr", "stderr"),
        (["-c", "import time; print('started', flush=True); time.sleep(60)"], 5, "timed out after 5 s", "started"),
        (None, 60, "could not start: ", ""),
    ],
    ids=["exit status", "stderr only", "timeout", "missing program"],
)
def test_run_step_records_each_kind_of_failure_without_raising(command, timeout, summary, printed):
    argv = [sys.executable, *command] if command else ["no-such-program-for-check-gpu"]
    outcome = check_gpu.run_step(check_gpu.Step("a step", argv, timeout=timeout))
    assert isinstance(outcome, check_gpu.Outcome) and outcome.ok is False
    assert outcome.summary.startswith(summary), outcome.summary
    assert printed in outcome.output  # what it printed before it failed is kept for the report
    assert outcome.seconds >= 0


def test_the_report_keeps_the_tail_of_a_long_failing_output(tmp_path):
    step = check_gpu.Step("long", ["cmd"])
    long_output = "FIRST LINE\n" + "x" * (2 * check_gpu.TAIL) + "\nLAST LINE\n"
    outcomes = [
        check_gpu.Outcome(step, False, 1.0, "exit status 1: LAST LINE", long_output),
        check_gpu.Outcome(check_gpu.Step("passes", ["ok"]), True, 2.0, "3 passed | fine", "all good"),
    ]
    text = check_gpu.write_report(outcomes, tmp_path / "r.md", "a header").read_text()
    assert "**1 of 2 steps passed.**" in text
    assert "| long | FAILED | 1 | exit status 1: LAST LINE |" in text
    assert "3 passed \\| fine" in text  # a | in a summary does not break the table
    assert "xx\nLAST LINE" in text and "FIRST LINE" not in text
    assert len(text) < check_gpu.TAIL + 1000
