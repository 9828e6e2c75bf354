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
    assert {"08", "09", "11"} <= {n.split()[1][:2] for n in names if n.startswith("chapter ")}
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
