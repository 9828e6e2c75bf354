"""The learner release: solutions stubbed, graded cells cleared, everything else intact."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from lenet_course.instructor.notebook_format import BEGIN, END, chapter_paths, check_of, exercise_of
from lenet_course.instructor.release import release_chapters, release_notebook, stub_solutions

from .notebook_cells import code_cell as _code

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
LIGHT = ["01_output_size_formula", "00_welcome"]  # no training: quick to run


def demo_chapter() -> nbformat.NotebookNode:
    """A two-exercise chapter following CONTRIBUTING.md's conventions."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Demo\n\n```python\n### BEGIN SOLUTION\n```", id="title"),
            _code("import math\nprint('ready')", "setup", text="ready\n", count=1),
            _code(
                "def area(r):\n    '''Area of a disc.'''\n    ### BEGIN SOLUTION\n"
                "    squared = r * r\n    return math.pi * squared\n    ### END SOLUTION",
                "ex-9-1",
                {"exercise": "9.1", "points": 2},
                ["exercise"],
                text="",
                count=2,
            ),
            _code(
                "print('Exercise 9.1:', 'ok' if round(area(1), 4) == 3.1416 else 'wrong')",
                "check-9-1",
                {"check": "9.1"},
                ["check", "nbval-check-output"],
                text="Exercise 9.1: ok\n",
                count=3,
            ),
            _code("print(area(2))", "explore", text="12.566370614359172\n", count=4),
            _code(
                "### BEGIN SOLUTION\nanswer_9_2 = 42\n### END SOLUTION\nprint(answer_9_2)",
                "ex-9-2",
                {"exercise": "9.2"},
                ["exercise"],
                text="42\n",
                count=5,
            ),
            _code(
                "print('Exercise 9.2:', 'ok' if answer_9_2 == 42 else 'wrong')",
                "check-9-2",
                {"check": "9.2"},
                ["check", "nbval-check-output"],
                text="Exercise 9.2: ok\n",
                count=6,
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def _solution_lines(source: str) -> list[str]:
    """The non-blank lines between the markers that do not also appear outside them."""
    inside, outside, lines = False, set(), []
    for line in source.splitlines():
        if line.strip().startswith(BEGIN):
            inside = True
        elif line.strip().startswith(END):
            inside = False
        elif inside:
            lines.append(line.strip())
        else:
            outside.add(line.strip())
    return [line for line in lines if line and line not in outside]


def _real_chapters() -> list[Path]:
    return chapter_paths(CHAPTERS) if CHAPTERS.is_dir() else []


def _light_chapter() -> Path:
    for name in LIGHT:
        if (CHAPTERS / f"{name}.ipynb").is_file():
            return CHAPTERS / f"{name}.ipynb"
    pytest.skip("no light chapter (00 or 01) in chapters/ yet")


# ---------------------------------------------------------------- stubs


def test_stub_keeps_the_code_around_the_markers_and_the_indentation():
    source = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n"
    assert stub_solutions(source, "3.2") == (
        "def f(x):\n    '''Doc.'''\n    raise NotImplementedError(\"Exercise 3.2: replace this line with your code\")\n"
    )


def test_stub_replaces_every_block_and_keeps_a_missing_final_newline():
    source = (
        "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n"
        "if b:\n        ### BEGIN SOLUTION\n        c = 3\n        ### END SOLUTION"
    )
    stubbed = stub_solutions(source, "1.4")
    assert stubbed.splitlines() == [
        'raise NotImplementedError("Exercise 1.4: replace this line with your code")',
        "b = 2",
        "if b:",
        '        raise NotImplementedError("Exercise 1.4: replace this line with your code")',
    ]
    assert not stubbed.endswith("\n")
    compile(stubbed, "<stub>", "exec")


@pytest.mark.parametrize(
    "source, complaint",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "second"),
    ],
)
def test_unbalanced_markers_are_reported_with_the_cell(source, complaint):
    with pytest.raises(ValueError, match=complaint) as info:
        stub_solutions(source, "1.1", where="01_x, cell 4")
    assert "01_x, cell 4" in str(info.value)


# ---------------------------------------------------------------- one notebook


def test_release_notebook_stubs_exercises_clears_graded_outputs_and_keeps_the_rest():
    chapter = demo_chapter()
    before = copy.deepcopy(chapter)
    released = release_notebook(chapter, chapter="09_demo")
    assert chapter == before, "the source notebook must not be modified"
    assert released.metadata["lenet_course"]["chapter"] == "09_demo"
    assert [c.id for c in released.cells] == [c.id for c in chapter.cells]
    for ref, rel in zip(chapter.cells, released.cells):
        if exercise_of(ref):
            assert 'NotImplementedError("Exercise ' + exercise_of(ref) + ":" in rel.source
            assert BEGIN not in rel.source and END not in rel.source
            assert rel.outputs == [] and rel.execution_count is None
            assert "exercise" in rel.metadata["tags"] and rel.metadata["lenet_course"] == ref.metadata["lenet_course"]
        elif check_of(ref):
            assert rel.source == ref.source
            assert rel.outputs == [] and rel.execution_count is None
            assert {"check", "nbval-check-output"} <= set(rel.metadata["tags"])
        else:
            assert rel == ref  # prose, setup, exploration: untouched, outputs kept
    assert "math.pi * squared" not in nbformat.writes(released)
    assert "answer_9_2 = 42" not in nbformat.writes(released)


def test_solution_markers_without_exercise_metadata_stop_the_release():
    chapter = demo_chapter()
    del chapter.cells[2].metadata["lenet_course"]
    with pytest.raises(ValueError, match="no metadata.lenet_course.exercise"):
        release_notebook(chapter, chapter="09_demo")


def test_release_chapters_writes_every_chapter_and_never_touches_the_sources(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    nbformat.write(demo_chapter(), chapters / "09_demo.ipynb")
    (chapters / "figure.svg").write_text("<svg/>")
    (chapters / "runs" / "ch08").mkdir(parents=True)
    (chapters / "runs" / "ch08" / "lenet5.pt").write_bytes(b"weights")
    digest = hashlib.sha256((chapters / "09_demo.ipynb").read_bytes()).hexdigest()
    written = release_chapters(chapters, tmp_path / "release")
    assert [p.name for p in written] == ["09_demo.ipynb"]
    assert (tmp_path / "release" / "figure.svg").read_text() == "<svg/>"
    assert not (tmp_path / "release" / "runs").exists()  # what running the chapters wrote is not released
    assert hashlib.sha256((chapters / "09_demo.ipynb").read_bytes()).hexdigest() == digest
    with pytest.raises(ValueError, match="inside the chapters directory"):
        release_chapters(chapters, chapters / "release")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no chapter notebooks"):
        release_chapters(tmp_path / "empty", tmp_path / "out")


# ---------------------------------------------------------------- the real chapters


@pytest.mark.parametrize("path", _real_chapters(), ids=lambda p: p.stem)
def test_released_chapter_contains_no_solution_and_changes_nothing_else(path):
    chapter = nbformat.read(path, as_version=4)
    released = release_notebook(chapter, chapter=path.stem)
    exercises = [c for c in chapter.cells if exercise_of(c)]
    assert exercises, f"{path.name} has no exercise cells"
    by_id = {c.id: c for c in released.cells}
    for cell in exercises:
        stubbed = by_id[cell.id]
        assert f'raise NotImplementedError("Exercise {exercise_of(cell)}:' in stubbed.source
        stubbed_lines = {line.strip() for line in stubbed.source.splitlines()}
        leaked = [line for line in _solution_lines(cell.source) if line in stubbed_lines]
        assert not leaked, f"{path.name} exercise {exercise_of(cell)} still holds solution lines {leaked}"
    for cell in released.cells:
        if cell.cell_type == "code":
            assert BEGIN not in cell.source and END not in cell.source
    for ref, rel in zip(chapter.cells, released.cells):
        if not exercise_of(ref) and not check_of(ref):
            assert rel == ref


def test_the_release_command_writes_every_chapter(tmp_path):
    if not _real_chapters():
        pytest.skip("no chapters yet")
    result = subprocess.run(
        [sys.executable, "-m", "lenet_course", "release", "--out", str(tmp_path / "release")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "release").glob("*.ipynb"))
    assert names == sorted(p.name for p in _real_chapters())
    assert f"wrote {len(names)} learner notebooks" in result.stdout


@pytest.mark.timeout(300)
def test_running_a_released_chapter_stops_at_each_exercise_with_not_implemented(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports the course package from this checkout
    path = _light_chapter()
    released = release_notebook(nbformat.read(path, as_version=4), chapter=path.stem)
    NotebookClient(
        released,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    cells = released.cells
    for cell in cells:
        number = exercise_of(cell)
        if number is None:
            continue
        check = next(c for c in cells if check_of(c) == number)
        errors = [o for c in (cell, check) for o in c.outputs if o.output_type == "error"]
        assert errors, f"exercise {number} ran without error in the release"
        assert errors[0].ename == "NotImplementedError"
        assert errors[0].evalue.startswith(f"Exercise {number}:")


def reinsert_solutions(released: nbformat.NotebookNode, chapter: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put each chapter's solution blocks back in place of the release's stubs."""
    restored = copy.deepcopy(released)
    solutions = {c.id: c.source for c in chapter.cells if exercise_of(c)}
    for cell in restored.cells:
        if cell.get("id") not in solutions:
            continue
        blocks, current = [], None
        for line in solutions[cell.id].splitlines():
            if line.strip().startswith(BEGIN):
                current = []
            elif line.strip().startswith(END):
                blocks.append(current)
                current = None
            elif current is not None:
                current.append(line)
        lines = []
        for line in cell.source.splitlines():
            if 'raise NotImplementedError("Exercise ' in line:
                lines += blocks.pop(0)
            else:
                lines.append(line)
        assert not blocks
        cell.source = "\n".join(lines)
    return restored


@pytest.mark.timeout(300)
def test_solutions_put_back_into_the_release_pass_every_check(tmp_path):
    from lenet_course.instructor.grade import grade

    path = _light_chapter()
    chapter = nbformat.read(path, as_version=4)
    released = release_notebook(chapter, chapter=path.stem)
    restored = reinsert_solutions(released, chapter)
    assert restored != chapter  # the check outputs were cleared: nbval alone would compare nothing
    (tmp_path / "learner").mkdir()
    nbformat.write(restored, tmp_path / "learner" / path.name)
    [result] = grade([tmp_path / "learner" / path.name], CHAPTERS, tmp_path / "report", timeout=240, cell_timeout=120)
    assert [r.status for r in result.results] == ["passed"] * len(result.results)
    assert result.total == result.max_points > 0
