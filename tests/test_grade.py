"""Grading with nbval: checks restored from the chapter, every kind of broken submission survived."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook, new_output

from lenet_course.cli import grade_main as main
from lenet_course.instructor.grade import (
    Chapter,
    Options,
    Submission,
    _exercises_of,
    _read_submission,
    find_submissions,
    grade,
    graded_notebook,
    learner_of,
    match_chapter,
    read_reference,
    score,
)
from lenet_course.instructor.notebook_format import check_of, exercise_of
from lenet_course.instructor.release import release_notebook

from .notebook_cells import code_cell as _code

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
LIGHT = ["01_output_size_formula", "00_welcome"]  # no training: quick to run many times
CELL_TIMEOUT = 30  # seconds: well above any cell of a light chapter, paid once by the endless loop


# ---------------------------------------------------------------- a small chapter built here


def demo_chapter() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# Demo", id="title"),
            _code("import math", "setup", count=1),
            _code(
                "def twice(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                "ex-9-1",
                {"exercise": "9.1", "points": 2},
                ["exercise"],
                count=2,
            ),
            new_markdown_cell("Now check it.", id="between"),
            _code(
                "print('Exercise 9.1:', 'ok' if twice(4) == 8 else 'wrong')",
                "check-9-1",
                {"check": "9.1"},
                ["check", "nbval-check-output"],
                text="Exercise 9.1: ok\n",
                count=3,
            ),
            _code(
                "def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION",
                "ex-9-2",
                {"exercise": "9.2"},
                ["exercise"],
                count=4,
            ),
            _code(
                "print('Exercise 9.2:', 'ok' if half(4) == 2 else 'wrong')",
                "check-9-2",
                {"check": "9.2"},
                ["check", "nbval-check-output"],
                text="Exercise 9.2: ok\n",
                count=5,
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def demo() -> Chapter:
    nb = demo_chapter()
    return Chapter("09_demo", Path("09_demo.ipynb"), nb, _exercises_of(nb))


def _roles(graded):
    """(kind, exercise) of each cell of a graded notebook, for readable assertions."""
    out = []
    for cell in graded.nb.cells:
        out.append(
            ("check", check_of(cell))
            if check_of(cell)
            else ("answer", exercise_of(cell))
            if exercise_of(cell)
            else (cell.cell_type, None)
        )
    return out


def test_exercises_come_from_cell_metadata_with_points():
    chapter = demo()
    assert [(e.number, e.points, e.exercise_id, e.check_id) for e in chapter.exercises] == [
        ("9.1", 2.0, "ex-9-1", "check-9-1"),
        ("9.2", 1.0, "ex-9-2", "check-9-2"),
    ]


def test_an_edited_check_gets_back_its_source_and_expected_output():
    chapter = demo()
    sub = release_notebook(chapter.nb, "09_demo")
    sub.cells[4].source = "print('Exercise 9.1: ok')"
    sub.cells[4].outputs = [new_output("stream", name="stdout", text="Exercise 9.1: ok\n")]
    sub.cells[4].metadata = {}
    graded = graded_notebook(chapter, sub)
    restored = graded.nb.cells[4]
    assert restored == chapter.nb.cells[4]
    assert graded.positions == {"9.1": (1, 2), "9.2": (3, 4)}


def test_a_deleted_check_comes_back_where_the_chapter_has_it():
    chapter = demo()
    sub = copy.deepcopy(chapter.nb)
    del sub.cells[4]  # check 9.1
    sub.cells[5].cell_type = "markdown"  # check 9.2 turned into text
    sub.cells[5].pop("outputs")
    sub.cells[5].pop("execution_count")
    graded = graded_notebook(chapter, sub)
    assert _roles(graded) == [
        ("markdown", None),
        ("code", None),
        ("answer", "9.1"),
        ("markdown", None),
        ("check", "9.1"),
        ("answer", "9.2"),
        ("check", "9.2"),
    ]
    assert graded.nb.cells[6] == chapter.nb.cells[6]


def test_a_check_moved_above_its_exercise_goes_back_after_it_and_duplicates_are_dropped():
    chapter = demo()
    sub = copy.deepcopy(chapter.nb)
    check = sub.cells.pop(4)
    sub.cells.insert(1, check)
    sub.cells.append(copy.deepcopy(check))
    graded = graded_notebook(chapter, sub)
    assert [r for r in _roles(graded) if r[0] in ("check", "answer")] == [
        ("answer", "9.1"),
        ("check", "9.1"),
        ("answer", "9.2"),
        ("check", "9.2"),
    ]


def test_a_deleted_answer_is_missing_and_its_check_not_run():
    chapter = demo()
    sub = copy.deepcopy(chapter.nb)
    del sub.cells[5]  # answer 9.2
    graded = graded_notebook(chapter, sub)
    assert graded.positions["9.2"] == (None, None)
    assert ("check", "9.2") not in _roles(graded)


def test_learner_outputs_are_dropped_and_cell_ids_stay_unique():
    chapter = demo()
    sub = copy.deepcopy(chapter.nb)
    pasted = _code("print('anything')", "check-9-2", tags=["nbval-check-output"], text="Exercise 9.2: ok\n", count=9)
    pasted.metadata.pop("lenet_course", None)
    sub.cells.insert(2, _code("print(1)", "setup", text="1\n", count=7))  # a copy of a cell, same id
    sub.cells.insert(2, pasted)  # a learner cell wearing a check's id is that check, restored
    graded = graded_notebook(chapter, sub)
    ids = [c.id for c in graded.nb.cells]
    assert len(ids) == len(set(ids))
    learner = [c for c in graded.nb.cells if c.cell_type == "code" and not check_of(c)]
    assert all(c.outputs == [] and c.execution_count is None for c in learner)
    checks = [c for c in graded.nb.cells if check_of(c) == "9.2"]
    assert checks == [chapter.nb.cells[6]]
    assert [r for r in _roles(graded) if r[0] in ("check", "answer")][-2:] == [("answer", "9.2"), ("check", "9.2")]


def test_chapters_are_matched_by_metadata_then_by_name():
    chapters = {"01_output_size_formula": None, "02_c1_convolution": None}
    nb = new_notebook(metadata={"lenet_course": {"chapter": "02_c1_convolution"}})
    assert match_chapter(Path("anything.ipynb"), nb, chapters) == "02_c1_convolution"
    assert match_chapter(Path("01_output_size_formula.ipynb"), None, chapters) == "01_output_size_formula"
    assert match_chapter(Path("alice-01_output_size_formula (1).ipynb"), None, chapters) == "01_output_size_formula"
    assert match_chapter(Path("homework.ipynb"), new_notebook(), chapters) is None
    assert learner_of(Path("subs/alice/01_output_size_formula.ipynb"), "01_output_size_formula") == "alice"
    assert learner_of(Path("subs/bob_01_output_size_formula.ipynb"), "01_output_size_formula") == "bob"
    assert learner_of(Path("subs/carol/99_no_such_chapter.ipynb"), None) == "carol"


def test_in_a_folder_of_submissions_the_learner_is_the_subfolder_whatever_the_file_says(tmp_path):
    chapter = "01_output_size_formula"
    for name in [
        "mallory/victim_01_output_size_formula.ipynb",
        "mallory/week1/01_output_size_formula.ipynb",
        "bob_01_output_size_formula.ipynb",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found = {
        p.relative_to(tmp_path).as_posix(): learner_of(p, chapter, root) for p, root in find_submissions([tmp_path])
    }
    assert found == {
        "bob_01_output_size_formula.ipynb": "bob",
        "mallory/victim_01_output_size_formula.ipynb": "mallory",
        "mallory/week1/01_output_size_formula.ipynb": "mallory",
    }


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('{"cells": [', "not valid JSON"),
        ("[1, 2]", "not a Jupyter notebook"),
        ('{"cells": [], "metadata": {}, "nbformat": 99, "nbformat_minor": 0}', "nbformat 99"),
    ],
)
def test_unreadable_submissions_say_why(tmp_path, text, complaint):
    path = tmp_path / "01_output_size_formula.ipynb"
    path.write_text(text)
    nb, problem = _read_submission(path)
    assert nb is None and complaint in problem


def test_bad_arguments_and_a_missing_reference_exit_non_zero(tmp_path, capsys):
    sub = tmp_path / "x.ipynb"
    nbformat.write(demo_chapter(), sub)
    assert main([str(sub), "--reference", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 1
    assert "no reference directory" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.ipynb"), "--reference", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    with pytest.raises(SystemExit):
        main([])


def test_grade_is_a_course_command():
    from lenet_course.cli import build_parser

    args = build_parser().parse_args(["grade", "a.ipynb", "--timeout", "60", "--cell-timeout", "5"])
    assert (args.timeout, args.cell_timeout, args.reference) == (60.0, 5.0, Path("chapters"))


# ---------------------------------------------------------------- scoring: points from the judge alone


def _scored(judged, records, options=None, timed_out=False):
    options = options or Options()
    chapter = demo()
    graded = graded_notebook(chapter, chapter.nb)  # answers at code cells 1 and 3, checks at 2 and 4
    return score(chapter, graded, records, judged, timed_out, options)


def _verdict(exercise, passed, total, first=None):
    return {
        "exercise": exercise,
        "passed": passed,
        "total": total,
        "verdict": f"{passed}/{total}",
        "first_failure": first,
    }


def test_points_are_shared_out_by_the_cases_the_judge_found_right():
    [first, second] = _scored({"9.1": _verdict("9.1", 3, 12, "twice(1) returned 3"), "9.2": _verdict("9.2", 5, 5)}, {})
    assert (first.status, first.points, first.max_points, first.summary) == ("failed", 0.5, 2.0, "failed 3/12")
    assert first.detail == "first failing case: twice(1) returned 3"
    assert (second.status, second.points, second.summary) == ("passed", 1.0, "passed")
    [first, second] = _scored({"9.1": _verdict("9.1", 3, 12)}, {}, Options(all_or_nothing=True))
    assert first.points == 0 and first.summary == "failed 3/12"


def test_nbval_s_record_never_gives_points_it_only_explains():
    passed = {"outcome": "passed"}
    forged = {1: passed, 2: passed, 3: passed, 4: passed}  # every cell "passed", as a kernel could write
    assert [(r.status, r.points) for r in _scored({}, forged)] == [("not judged", 0.0), ("not judged", 0.0)]
    # the judge's verdict stands whatever nbval says of the cells
    assert [r.points for r in _scored({"9.1": _verdict("9.1", 0, 4)}, forged)] == [0.0, 0.0]
    explained = _scored(
        {},
        {
            1: {"outcome": "error", "ename": "NameError", "evalue": "name 'x' is not defined"},
            3: {"outcome": "kernel_died", "message": "gone"},
        },
    )
    assert [r.summary for r in explained] == ["error: NameError", "error: kernel died"]
    assert [r.summary for r in _scored({}, {}, timed_out=True)] == ["timed out", "timed out"]


def test_a_row_travels_as_plain_data():
    chapter = demo()
    [first, second] = _scored({"9.1": _verdict("9.1", 3, 12)}, {})
    sub = Submission(Path("subs/a/09_demo.ipynb"), "a", chapter.name, results=[first, second], flags=["code cell 2: x"])
    again = Submission.from_dict(json.loads(json.dumps(sub.to_dict())))
    assert again == sub and again.total == 0.5


def test_the_reference_is_read_once_and_fingerprinted(tmp_path):
    reference = tmp_path / "chapters"
    reference.mkdir()
    nbformat.write(demo_chapter(), reference / "09_demo.ipynb")
    (reference / "digits.txt").write_text("support")
    (reference / "runs").mkdir()
    (reference / "runs" / "x.pt").write_text("generated")
    trusted = read_reference(reference)
    assert trusted.support == {"digits.txt": b"support"}
    assert [e.points for e in trusted.chapters["09_demo"].exercises] == [2.0, 1.0]
    changed = demo_chapter()
    changed.cells[2].metadata["lenet_course"]["points"] = 100
    nbformat.write(changed, reference / "09_demo.ipynb")
    assert [e.points for e in trusted.chapters["09_demo"].exercises] == [2.0, 1.0]  # what was read stays
    assert read_reference(reference).digest != trusted.digest


def test_the_reports_cannot_go_inside_the_submissions_or_the_reference(tmp_path):
    (tmp_path / "subs").mkdir()
    with pytest.raises(ValueError, match="inside the submissions"):
        grade([tmp_path / "subs"], CHAPTERS, tmp_path / "subs" / "out", no_sandbox=True)
    with pytest.raises(ValueError, match="inside the reference"):
        grade([tmp_path / "subs"], CHAPTERS, CHAPTERS / "out", no_sandbox=True)


@pytest.mark.timeout(300)
def test_without_a_sandbox_the_judge_still_gives_every_point(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    chapter = CHAPTERS / "01_output_size_formula.ipynb"
    shutil.copy(chapter, tmp_path / "subs" / "alice" / chapter.name)
    [result] = grade([tmp_path / "subs"], CHAPTERS, tmp_path / "out", cell_timeout=120, no_sandbox=True)
    assert [r.status for r in result.results] == ["passed"] * 3 and result.total == 3
    assert all(r.total > 0 and r.verdict for r in result.results)  # from the judge's record
    with open(tmp_path / "out" / "gradebook.csv", newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["learner"], row["total"], row["max"]) == ("alice", "3", "3")
