"""An exercise done in the learner's workbook, in JupyterLab, as a learner does it.

The workbook is written by ``python -m lenet_course lab --prepare-only`` (what
``make lab`` runs, without starting JupyterLab) into the folder the test's
JupyterLab serves. In chapter 0 the learner runs the setup cell, types a wrong
answer over the stub of exercise 0.2 and runs it and its check: a failing
verdict with a hint. Then a right answer, written differently from the
solution: "Well done".
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .jupyterlab_driver import REPO

pytestmark = pytest.mark.browser

CHAPTER = "workbook/00_welcome.ipynb"
STUB = 'raise NotImplementedError("Exercise 0.2: replace this line with the body of linear_parameters")'
SIGNATURE = "def linear_parameters(n_in: int, n_out: int) -> int:"


@pytest.fixture(scope="module")
def workbook(jupyterlab):
    """The learner's workbook, written by make lab's own command into the served folder."""
    folder = jupyterlab.root / "workbook"
    made = subprocess.run(
        [sys.executable, "-m", "lenet_course", "lab", "--prepare-only", "--workbook", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Wrote your workbook:"), made.stdout
    return folder


def test_exercise_0_2_in_the_workbook_wrong_then_right(workbook, open_notebook):
    nb = open_notebook(CHAPTER)
    assert nb.cell_state("ex-0-2")["source"] == f"{SIGNATURE}\n    {STUB}"  # the learner's copy: no solution
    expect(nb.cell("ex-0-2")).to_contain_text("Exercise 0.2: replace this line")
    assert nb.cell_state("check-0-2")["outputs"] == []  # and no verdict waiting for them

    setup = nb.run_cell("c00-setup", timeout=180)
    assert not [o for o in setup["outputs"] if o.get("output_type") == "error"], setup["outputs"]

    # A wrong answer: the weights, but not the biases.
    nb.replace_last_line("ex-0-2", "return n_in * n_out")
    assert nb.cell_state("ex-0-2")["source"] == f"{SIGNATURE}\n    return n_in * n_out"
    nb.run_cell("ex-0-2")
    nb.run_cell("check-0-2")
    verdict = nb.cell_text("check-0-2")
    assert re.search(r"^Exercise 0\.2: ", verdict, re.M), verdict
    assert "Well done" not in verdict and "Error" not in verdict, verdict
    assert re.search(r"^\s*Hint: \S", verdict, re.M), f"no nudge in {verdict!r}"
    expect(nb.cell("check-0-2").locator(".jp-OutputArea-output")).to_contain_text("Hint:")
    nb.screenshot("workbook-ch00-exercise-wrong", nb.cell("check-0-2"))

    # A right answer, not the solution's words: (n_in + 1) weights per output, bias included.
    nb.replace_last_line("ex-0-2", "return (n_in + 1) * n_out")
    assert nb.cell_state("ex-0-2")["source"] == f"{SIGNATURE}\n    return (n_in + 1) * n_out"
    nb.run_cell("ex-0-2")
    nb.run_cell("check-0-2")
    verdict = nb.cell_text("check-0-2")
    assert re.search(r"^Exercise 0\.2: .*Well done!", verdict, re.M), verdict
    assert "Hint:" not in verdict
    expect(nb.cell("check-0-2").locator(".jp-OutputArea-output")).to_contain_text("Well done")
    nb.screenshot("workbook-ch00-exercise-right", nb.cell("check-0-2"))
