"""The learner's workbook (make lab): written once, the learner's edits never overwritten, news reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from lenet_course.cli import lab_command, main
from lenet_course.instructor.notebook_format import BEGIN, END, chapter_paths, exercise_of
from lenet_course.workbook import MANIFEST, content_hash, prepare_workbook

from .test_release import demo_chapter

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"


@pytest.fixture
def course(tmp_path):
    """A two-chapter course with a data file beside the chapters, and where its workbook goes."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    nbformat.write(demo_chapter(), chapters / "01_demo.ipynb")
    nbformat.write(demo_chapter(), chapters / "02_demo.ipynb")
    (chapters / "data").mkdir()
    (chapters / "data" / "digits.csv").write_text("0,1\n")
    (chapters / "runs").mkdir()  # what running the chapters writes: not the learner's to get
    (chapters / "runs" / "model.pt").write_bytes(b"weights")
    return chapters, tmp_path / "workbook"


def edit_source(path: Path, cell_id: str, source: str) -> None:
    """Change one cell's source as JupyterLab would save it."""
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.id == cell_id).source = source
    nbformat.write(nb, path)


def change_the_course(path: Path, text: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, new_markdown_cell(text, id=f"new-{len(nb.cells)}"))
    nbformat.write(nb, path)


def test_first_use_writes_the_learner_version_of_every_chapter_and_the_files_beside_them(course):
    chapters, workbook = course
    report = prepare_workbook(chapters, workbook)
    assert report.created == ["01_demo.ipynb", "02_demo.ipynb"]
    assert report.files == [str(Path("data") / "digits.csv")]
    assert (workbook / "data" / "digits.csv").read_text() == "0,1\n"
    assert not (workbook / "runs").exists()
    nb = nbformat.read(workbook / "01_demo.ipynb", as_version=4)
    text = nbformat.writes(nb)
    assert "math.pi * squared" not in text and "answer_9_2 = 42" not in text
    stub = next(c for c in nb.cells if c.id == "ex-9-1").source
    assert 'raise NotImplementedError("Exercise 9.1: replace this line with the body of area")' in stub
    assert report.lines()[0] == f"Wrote your workbook: 2 chapters in {workbook}/, with the exercises for you to do."
    manifest = json.loads((workbook / MANIFEST).read_text())
    assert sorted(manifest["chapters"]) == ["01_demo.ipynb", "02_demo.ipynb"]


def test_a_second_run_changes_nothing_and_says_so(course):
    chapters, workbook = course
    prepare_workbook(chapters, workbook)
    before = {p.name: p.read_bytes() for p in workbook.iterdir() if p.is_file()}
    report = prepare_workbook(chapters, workbook)
    assert report.unchanged == ["01_demo.ipynb", "02_demo.ipynb"]
    assert report.lines() == [f"Your workbook in {workbook}/ is up to date with the course."]
    assert {p.name: p.read_bytes() for p in workbook.iterdir() if p.is_file()} == before


def test_the_learners_edits_are_never_overwritten_and_upstream_changes_are_reported(course):
    chapters, workbook = course
    prepare_workbook(chapters, workbook)
    mine = workbook / "01_demo.ipynb"
    edit_source(mine, "ex-9-1", "def area(r):\n    return 3.14 * r * r")
    saved = mine.read_bytes()

    report = prepare_workbook(chapters, workbook)  # the course has not changed
    assert report.kept == ["01_demo.ipynb"] and report.unchanged == ["02_demo.ipynb"]
    assert mine.read_bytes() == saved

    change_the_course(chapters / "01_demo.ipynb", "A new paragraph.")
    change_the_course(chapters / "02_demo.ipynb", "Another new paragraph.")
    report = prepare_workbook(chapters, workbook)
    assert mine.read_bytes() == saved  # still the learner's
    assert report.changed_upstream == ["01_demo.ipynb"]
    assert report.refreshed == ["02_demo.ipynb"]  # untouched by the learner: the new version replaces it
    assert "Another new paragraph." in (workbook / "02_demo.ipynb").read_text()
    lines = report.lines()
    assert "Changed in the course since your copy was written: 01_demo.ipynb" in lines
    assert any("rename or delete your copy and run `make lab` again" in line for line in lines)
    # it keeps saying so until the learner acts
    assert prepare_workbook(chapters, workbook).changed_upstream == ["01_demo.ipynb"]


def test_a_deleted_notebook_comes_back_fresh_and_a_new_chapter_is_added(course):
    chapters, workbook = course
    prepare_workbook(chapters, workbook)
    (workbook / "02_demo.ipynb").unlink()
    nbformat.write(demo_chapter(), chapters / "03_demo.ipynb")
    report = prepare_workbook(chapters, workbook)
    assert report.restored == ["02_demo.ipynb"]
    assert report.added == ["03_demo.ipynb"]
    assert "New chapters added: 03_demo.ipynb" in report.lines()
    assert (workbook / "03_demo.ipynb").is_file()


def test_files_the_workbook_did_not_write_are_never_overwritten(course):
    chapters, workbook = course
    workbook.mkdir()
    (workbook / "01_demo.ipynb").write_text("my own notes, not a notebook")
    (workbook / "data").mkdir()
    (workbook / "data" / "digits.csv").write_text("mine")
    report = prepare_workbook(chapters, workbook)
    assert (workbook / "01_demo.ipynb").read_text() == "my own notes, not a notebook"
    assert (workbook / "data" / "digits.csv").read_text() == "mine"
    assert report.kept == ["01_demo.ipynb"] and report.files == []
    # a lost manifest: notebooks still as written are adopted, the rest stay the learner's
    (workbook / MANIFEST).unlink()
    report = prepare_workbook(chapters, workbook)
    assert report.kept == ["01_demo.ipynb"] and report.unchanged == ["02_demo.ipynb"]


def test_outputs_changing_upstream_refresh_an_untouched_copy_without_news(course):
    chapters, workbook = course
    prepare_workbook(chapters, workbook)
    nb = nbformat.read(chapters / "01_demo.ipynb", as_version=4)
    nb.cells[1].outputs[0]["text"] = "ready, again\n"  # a setup cell's output: not answer-dependent
    nbformat.write(nb, chapters / "01_demo.ipynb")
    report = prepare_workbook(chapters, workbook)
    assert report.refreshed == [] and report.unchanged == ["01_demo.ipynb", "02_demo.ipynb"]
    assert "ready, again" in (workbook / "01_demo.ipynb").read_text()


def test_content_hash_ignores_outputs_and_sees_sources():
    nb = demo_chapter()
    text = nbformat.writes(nb)
    nb.cells[1].outputs = []
    assert content_hash(nbformat.writes(nb)) == content_hash(text)
    nb.cells[1].source += "\n# changed"
    assert content_hash(nbformat.writes(nb)) != content_hash(text)


def test_bad_folders_are_refused(course):
    chapters, _ = course
    with pytest.raises(ValueError, match="inside"):
        prepare_workbook(chapters, chapters / "workbook")
    with pytest.raises(FileNotFoundError, match="no chapters folder"):
        prepare_workbook(chapters.parent / "nowhere", chapters.parent / "workbook")


def test_lab_opens_jupyterlab_with_this_python():
    command = lab_command(Path("workbook"))
    assert command[:5] == [sys.executable, "-m", "jupyter", "lab", "--notebook-dir=workbook"]
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert command[5:] == (["--allow-root"] if as_root else [])


def test_lab_prepare_only_from_the_command_line_keeps_an_edit(tmp_path, capsys):
    chapters, workbook = tmp_path / "chapters", tmp_path / "workbook"
    chapters.mkdir()
    nbformat.write(demo_chapter(), chapters / "01_demo.ipynb")
    argv = ["lab", "--prepare-only", "--chapters", str(chapters), "--workbook", str(workbook)]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("Wrote your workbook: 1 chapters")
    edit_source(workbook / "01_demo.ipynb", "ex-9-2", "answer_9_2 = 41")
    assert main(argv) == 0
    assert "Your work, kept as it is: 01_demo.ipynb" in capsys.readouterr().out
    assert "answer_9_2 = 41" in (workbook / "01_demo.ipynb").read_text()
    assert main(["lab", "--solutions", "--prepare-only", "--chapters", str(chapters)]) == 0
    assert "worked solutions are in" in capsys.readouterr().out
    assert main(["lab", "--solutions", "--prepare-only", "--chapters", str(tmp_path / "none")]) == 1
    assert "no chapters folder" in capsys.readouterr().err


@pytest.mark.skipif(not CHAPTERS.is_dir(), reason="no chapters/")
def test_make_lab_prepares_the_real_course(tmp_path):
    """`make lab`'s own command, on the real chapters: every chapter, no solution in any of them."""
    result = subprocess.run(
        [sys.executable, "-m", "lenet_course", "lab", "--prepare-only", "--workbook", str(tmp_path / "workbook")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "workbook").glob("*.ipynb"))
    assert written == [p.name for p in chapter_paths(CHAPTERS)]
    assert result.stdout.startswith(f"Wrote your workbook: {len(written)} chapters")
    for name in written:
        for cell in nbformat.read(tmp_path / "workbook" / name, as_version=4).cells:
            assert BEGIN not in cell.source and END not in cell.source, name
            if exercise_of(cell):
                assert cell.outputs == [] and "NotImplementedError" in cell.source
