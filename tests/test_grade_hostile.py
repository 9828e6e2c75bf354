"""Hostile submissions: every attack in ``tests/hostile/`` graded in one sandboxed run, marks and flags checked.

One grading run (``--jobs 2``, chapter 1) over every file of ``tests/hostile/``;
each gets the marks and the flag its header states, and nothing outside the
sandboxes changes: not the reference chapters, not the package, not the other
submissions, not the grader's output (even after a daemon had time to act),
not the grader's temporary folder, and no process of theirs is left running.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import lenet_course
from lenet_course.instructor.feedback import feedback_name
from lenet_course.instructor.grade import Options, grade
from lenet_course.instructor.sandbox import SandboxUnavailable, probe

from .hostile_submissions import HOSTILE, build, parse

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_output_size_formula.ipynb"
PACKAGE = Path(lenet_course.__file__).resolve().parent
CELL_TIMEOUT = 20  # seconds: well above any cell of chapter 1, paid once by the endless loop
MEMORY = 2 * 2**30  # the limit of this run: a kernel with PyTorch fits, a second GiB does not
CASES = sorted(p.stem for p in HOSTILE.glob("*.py"))
DAEMON_MARK = "lenet-hostile-daemon"


def _snapshot(*folders: Path) -> dict[str, str]:
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _daemons() -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if DAEMON_MARK.encode() in (entry / "cmdline").read_bytes():
                    alive.append(int(entry.name))
            except OSError:
                continue
    return alive


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    try:
        probe()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no sandbox here: {exc}")
    tmp = tmp_path_factory.mktemp("hostile")
    reference = tmp / "course" / "chapters"  # a snapshot: authors may be editing chapters/ meanwhile
    reference.mkdir(parents=True)
    for source in CHAPTER.parent.glob("*.ipynb"):
        shutil.copy(source, reference / source.name)
    subs, out, canary = tmp / "submissions", tmp / "grading", tmp / "canary.txt"
    paths = {"OUT": out, "REFERENCE": reference, "SUBMISSIONS": subs, "PACKAGE": PACKAGE, "CANARY": canary}
    cases = {case.name: case for case in build(reference / CHAPTER.name, subs, paths)}
    before = _snapshot(reference, subs, PACKAGE)
    grader_tmp = tmp / "grader-tmp"
    grader_tmp.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(grader_tmp)
    start = time.monotonic()
    try:
        options = Options(timeout=300, cell_timeout=CELL_TIMEOUT, memory=MEMORY, processes=128)
        results = grade([subs], reference, out, options=options, jobs=2)
    finally:
        tempfile.tempdir = saved
    seconds = time.monotonic() - start
    print(f"\ngraded {len(results)} hostile submissions in {seconds:.0f} s")
    reports = _snapshot(out)
    time.sleep(6)  # the daemon's wait, and then some
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        raw = list(csv.reader(fh))
    rows = {r["submission"]: r for r in (dict(zip(raw[0], line)) for line in raw[1:])}
    by_case = {name: rows[str(case.path)] for name, case in cases.items()}
    return {
        "cases": cases,
        "rows": by_case,
        "raw": raw,
        "results": {str(r.path): r for r in results},
        "before": before,
        "after": _snapshot(reference, subs, PACKAGE),
        "reports": reports,
        "reports_later": _snapshot(out),
        "grader_tmp": grader_tmp,
        "canary": canary,
        "out": out,
    }


def test_every_file_of_the_folder_is_a_case_with_a_title_and_expected_marks():
    for name in CASES:
        header, _ = parse(HOSTILE / f"{name}.py")
        assert header["title"] and "marks" in header and header.get("flagged") in ("yes", "no"), name


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("name", CASES)
def test_each_hostile_submission_gets_its_marks_and_flag(hostile, name):
    case, row = hostile["cases"][name], hostile["rows"][name]
    assert float(row["total"]) == pytest.approx(float(case.marks), abs=1e-3), (case.title, row)  # 4 digits kept
    assert bool(row["review"]) == case.flagged, (case.title, row["review"])
    assert row["status"] == case.status, (case.title, row["notes"])
    if case.results:
        assert [row[f"{n} result"] for n in ("1.1", "1.2", "1.3")] == case.results, case.title
    assert case.note in row["notes"] and case.review in row["review"]
    if row["chapter"]:
        assert row["max"] == "3"  # no submission changed the chapter's maximum


def test_nothing_outside_the_sandboxes_changed(hostile):
    assert hostile["after"] == hostile["before"]  # reference chapters, package, every submission
    assert hostile["reports_later"] == hostile["reports"]  # the reports, after the daemon's wait
    assert list(hostile["grader_tmp"].iterdir()) == []  # the grader's private folders, all removed
    assert not hostile["canary"].exists()
    assert _daemons() == []


def test_every_submission_has_its_one_row_whatever_the_others_did(hostile):
    assert len(hostile["raw"]) - 1 == len(hostile["cases"])
    assert len({row[1] for row in hostile["raw"][1:]}) == len(hostile["cases"])


def test_the_folder_names_the_learner_and_names_stay_apart(hostile):
    rows = hostile["rows"]
    assert rows["identity_prefix"]["learner"] == "mallory"
    assert all("victim" not in row["learner"] for row in rows.values())
    jose, josè = rows["identity_accents_1"], rows["identity_accents_2"]
    assert (jose["learner"], josè["learner"]) == ("José García", "Josè Garcìa")
    first = (hostile["out"] / "feedback" / feedback_name("José García")).read_text(encoding="utf-8")
    second = (hostile["out"] / "feedback" / feedback_name("Josè Garcìa")).read_text(encoding="utf-8")
    assert feedback_name("José García") != feedback_name("Josè Garcìa")
    assert "# Feedback for José García" in first and "3/3 points" in first
    assert "# Feedback for Josè Garcìa" in second and "0/3 points" in second


def test_formula_like_names_are_escaped_in_the_csv(hostile):
    learners = [line[0] for line in hostile["raw"][1:]]
    assert "'=1+2" in learners and "'@SUM(1+1)" in learners
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in hostile["raw"] for cell in line)


def test_limits_are_named_in_the_report(hostile):
    memory = hostile["results"][str(hostile["cases"]["memory_6gb"].path)].results[2]
    assert "2 GiB of memory per process" in memory.detail
    bomb = hostile["results"][str(hostile["cases"]["fork_bomb"].path)].results[2]
    assert "128 processes" in bomb.detail


def test_partial_credit_is_points_times_cases_right(hostile):
    row = hostile["rows"]["partial_credit"]
    assert float(row["1.1 points"]) == pytest.approx(9 / 14, abs=1e-3)
    feedback = (hostile["out"] / "feedback" / feedback_name("partial_credit")).read_text(encoding="utf-8")
    assert "9 of 14 cases right, worth 0.6429 of its 1 points" in feedback
    assert "P x p / t" in feedback


def test_a_flood_of_output_stays_out_of_the_reports(hostile):
    row = hostile["rows"]["flood_and_deleted_answer"]
    assert len(row["notes"]) < 1000
    assert (hostile["out"] / "gradebook.csv").stat().st_size < 50_000


def test_an_endless_loop_costs_one_cell_timeout_and_a_dead_kernel_none(hostile):
    assert float(hostile["rows"]["endless_loop"]["seconds"]) >= CELL_TIMEOUT
    assert float(hostile["rows"]["dying_kernel"]["seconds"]) < CELL_TIMEOUT + 60
    feedback = (hostile["out"] / "feedback" / feedback_name("dying_kernel")).read_text(encoding="utf-8")
    assert "your answer to exercise 1.2" in feedback
