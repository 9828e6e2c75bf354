"""The grader's reports: escaped CSV cells, one feedback file per person, written whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import os
import unicodedata
from pathlib import Path

import pytest

from lenet_course.instructor import feedback
from lenet_course.instructor.feedback import Reports, atomic_write, feedback_name, feedback_text, spreadsheet_safe
from lenet_course.instructor.grade import Chapter, Exercise, ExerciseResult, Submission

CHAPTER = Chapter("01_x", Path("01_x.ipynb"), None, [Exercise("1.1", 1.0, "a", "b"), Exercise("1.2", 2.0, "c", "d")])


def _sub(learner: str, passed: int = 12, name: str | None = None) -> Submission:
    results = [
        ExerciseResult("1.1", "passed" if passed == 12 else "failed", points=passed / 12, passed=passed, total=12),
        ExerciseResult("1.2", "error", "NameError: name 'x' is not defined", max_points=2.0),
    ]
    path = Path("subs") / (name or learner) / "01_x.ipynb"
    return Submission(path, learner, "01_x", results=results, flags=["code cell 3: changes sys.stdout"])


@pytest.mark.parametrize(
    "cell, safe",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("alice", "alice"),
        ("3", "3"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_escaped(cell, safe):
    assert spreadsheet_safe(cell) == safe


def test_the_gradebook_escapes_every_cell_and_shows_partial_credit():
    text = feedback.gradebook_text([_sub("=cmd|' /C calc'!A0", passed=3), _sub("bob")], {"01_x": CHAPTER})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["learner"] == "'=cmd|' /C calc'!A0"
    assert (rows[0]["1.1 points"], rows[0]["1.1 result"], rows[0]["total"], rows[0]["max"]) == (
        "0.25",
        "failed 3/12",
        "0.25",
        "3",
    )
    assert rows[1]["1.2 result"] == "error: NameError" and rows[1]["review"] == "code cell 3: changes sys.stdout"


def test_feedback_files_are_one_per_person_and_ascii():
    names = ["José García", "Josè Garcìa", unicodedata.normalize("NFD", "José García"), "jose garcia", "../../etc"]
    files = [feedback_name(n) for n in names]
    assert len(set(files)) == len(names)
    assert all(f.isascii() and "/" not in f and f.endswith(".md") for f in files)
    assert files[0].startswith("Jose_Garcia-")


def test_feedback_explains_partial_credit_and_all_or_nothing():
    text = feedback_text("alice", [_sub("alice", passed=3)])
    assert "3 of 12 cases right, worth 0.25 of its 1 points." in text and "P x p / t" in text
    strict = feedback_text("alice", [_sub("alice", passed=3)], all_or_nothing=True)
    assert "all or nothing" in strict and "worth" not in strict


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "gradebook.csv"
    atomic_write(target, "old\n")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(feedback.os, "replace", broken)
    with pytest.raises(OSError):
        atomic_write(target, "new\n" * 1000)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["gradebook.csv"]  # no temporary file left behind


def test_reports_are_up_to_date_after_each_submission_and_count_each_once(tmp_path):
    reports = Reports(tmp_path, {"01_x": CHAPTER}, order=["subs/bob/01_x.ipynb", "subs/alice/01_x.ipynb"])
    reports.add(_sub("alice"))
    rows = list(csv.DictReader(open(tmp_path / "gradebook.csv", encoding="utf-8")))
    assert [r["learner"] for r in rows] == ["alice"]
    assert (tmp_path / "feedback" / feedback_name("alice")).is_file()
    reports.add(_sub("bob", passed=6))
    reports.add(_sub("bob", passed=12))  # graded again (a task run twice): replaces its row
    rows = list(csv.DictReader(open(tmp_path / "gradebook.csv", encoding="utf-8")))
    assert [(r["learner"], r["total"]) for r in rows] == [("bob", "1"), ("alice", "1")]
    saved = json.loads((tmp_path / "gradebook.json").read_text())
    assert [Submission.from_dict(s) for s in saved] == reports.rows()
