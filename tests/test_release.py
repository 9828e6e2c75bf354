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

from lenet_course.instructor.notebook_format import (
    ANSWER_DEPENDENT_TAG,
    BEGIN,
    END,
    answer_names,
    answer_of,
    chapter_paths,
    check_of,
    exercise_of,
    parse_code,
)
from lenet_course.instructor.release import (
    answer_dependent_cells,
    cell_names,
    release_chapters,
    release_notebook,
    stub_solutions,
)

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
        "def f(x):\n    '''Doc.'''\n"
        '    raise NotImplementedError("Exercise 3.2: replace this line with the body of f")\n'
    )


def test_stub_replaces_every_block_and_keeps_a_missing_final_newline():
    source = (
        "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n"
        "if b:\n        ### BEGIN SOLUTION\n        c = 3\n        ### END SOLUTION"
    )
    stubbed = stub_solutions(source, "1.4")
    assert stubbed.splitlines() == [
        'raise NotImplementedError("Exercise 1.4: replace this line with code that sets a")',
        "b = 2",
        "if b:",
        '        raise NotImplementedError("Exercise 1.4: replace this line with code that sets c")',
    ]
    assert not stubbed.endswith("\n")
    compile(stubbed, "<stub>", "exec")


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "### BEGIN SOLUTION\nc1_parameters = 1\nc1_connections = 2\n### END SOLUTION\n",
            "code that sets c1_parameters and c1_connections",
        ),
        (
            "### BEGIN SOLUTION\nfor i in range(3):\n    w = i\nmask = 1\n### END SOLUTION\n",
            "code that sets w and mask",
        ),
        (
            "### BEGIN SOLUTION\ndef f():\n    hidden = 1\nclass A:\n    pass\ny = 2\n### END SOLUTION\n",
            "code that defines f and A, and sets y",
        ),
        (
            "class Net:\n    def forward(self, x):\n"
            "        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION\n",
            "the body of Net.forward",
        ),
        (
            "picked = set()  # the letters\n### BEGIN SOLUTION\npicked = {'a'}\n### END SOLUTION\n",
            "set picked above, then delete this line",
        ),
        ("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION\n", "replace this line with your code"),
        ("%matplotlib inline\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "code that sets x"),
    ],
)
def test_the_stub_names_what_to_write(source, message):
    stub = stub_solutions(source, "9.9")
    assert 'NotImplementedError("Exercise 9.9: ' in stub and message in stub
    compile(stub.replace("%matplotlib inline", ""), "<stub>", "exec")


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


def test_answer_names_come_from_the_solution_or_the_metadata():
    assert answer_names("### BEGIN SOLUTION\na, b = 1, 2\nfor i in range(2):\n    a += i\n### END SOLUTION") == (
        "a",
        "b",
    )
    assert answer_names(
        "class Net:\n    def forward(self):\n        ### BEGIN SOLUTION\n        pass\n        ### END SOLUTION"
    ) == ("Net",)
    assert answer_names("x = (\n### BEGIN SOLUTION") == ()  # does not parse
    cell = _code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "ex", {"exercise": "1.1"})
    assert answer_of(cell) == ("x",)
    cell.metadata["lenet_course"]["answer"] = ["x", "y"]
    assert answer_of(cell) == ("x", "y")
    cell.metadata["lenet_course"]["answer"] = "model"
    assert answer_of(cell) == ("model",)
    [stubbed] = release_notebook(new_notebook(cells=[cell])).cells  # the stub follows the declaration
    assert stubbed.source == 'raise NotImplementedError("Exercise 1.1: replace this line with code that sets model")'
    assert answer_of(_code("x = 1", "plain")) == ()


@pytest.mark.parametrize(
    "source, reads, binds",
    [
        ("model = model.to(device)", {"model", "device"}, {"model"}),
        ("for what, x in inputs.items():\n    f(x)", {"inputs", "f"}, {"what", "x"}),
        ("squares = [x * x for x in xs]", {"xs"}, {"squares"}),
        ("def g(a, b=default):\n    c = a + b\n    return c + outer", {"default", "outer"}, {"g"}),
        ("mask[i, j] = True", {"mask", "i", "j"}, set()),
        ("total += 1", {"total"}, {"total"}),
        ("import numpy as np\nx = np.zeros(3)", set(), {"np", "x"}),
        ("with torch.no_grad():\n    y = net(x)", {"torch", "net", "x"}, {"y"}),
        ("try:\n    f()\nexcept ValueError as error:\n    print(error)", {"f", "ValueError", "print"}, {"error"}),
        ("fn = lambda v: v + shift", {"shift"}, {"fn"}),
    ],
)
def test_cell_names_follow_the_order_of_execution(source, reads, binds):
    assert cell_names(parse_code(source)) == (reads, binds)


def test_outputs_that_use_an_answer_are_found_directly_through_names_and_by_tag():
    def cell(source, cell_id, meta=None, tags=None):
        return _code(source, cell_id, meta, tags, text="out\n", count=1)

    nb = new_notebook(
        cells=[
            cell("import torch", "setup"),
            cell("def f(n):\n    ### BEGIN SOLUTION\n    return n\n    ### END SOLUTION", "ex", {"exercise": "1.1"}),
            cell("check.f(f)", "check", {"check": "1.1"}),
            cell("print(f(3))", "direct"),
            cell("model = f(4)", "through"),
            cell("print(model)", "via-model"),
            cell("model = torch.nn.Linear(2, 2)\nprint(model)", "fresh"),
            cell("print(model)", "independent-again"),
            cell("for f in range(3):\n    print(f)", "own-loop"),
            cell("print(torch.rand(1))", "tagged", tags=[ANSWER_DEPENDENT_TAG]),
        ]
    )
    found = [nb.cells[i].id for i in answer_dependent_cells(nb)]
    assert found == ["direct", "through", "via-model", "tagged"]
    released = release_notebook(nb)
    by_id = {c.id: c for c in released.cells}
    for name in found:
        assert by_id[name].outputs == [] and by_id[name].execution_count is None
    for name in ("setup", "fresh", "independent-again", "own-loop"):
        assert by_id[name].outputs and by_id[name].execution_count == 1


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
        elif ref.id == "explore":  # prints area(2): the learner's answer will fill it in
            assert rel.source == ref.source and rel.metadata == ref.metadata
            assert rel.outputs == [] and rel.execution_count is None
        else:
            assert rel == ref  # prose, setup: untouched, outputs kept
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
    dependent = set(answer_dependent_cells(chapter))
    for index, (ref, rel) in enumerate(zip(chapter.cells, released.cells)):
        if exercise_of(ref) or check_of(ref):
            continue
        if index in dependent:
            assert rel.outputs == [] and rel.source == ref.source and rel.metadata == ref.metadata
        else:
            assert rel == ref


def _real_exercises() -> list[tuple[str, nbformat.NotebookNode, nbformat.NotebookNode]]:
    found = []
    for path in _real_chapters():
        cells = nbformat.read(path, as_version=4).cells
        checks = {check_of(c): c for c in cells if check_of(c)}
        found += [(exercise_of(c), c, checks.get(exercise_of(c))) for c in cells if exercise_of(c)]
    return found


@pytest.mark.parametrize("number, cell, check", _real_exercises(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_stub_names_what_its_check_reads(number, cell, check):
    """Every exercise: the names derived from its solution are the ones its check cell passes to the checker."""
    names = answer_of(cell)
    assert names, f"exercise {number}: no answer name could be read from the solution"
    assert check is not None, f"exercise {number} has no check cell"
    read_by_check, _ = cell_names(parse_code(check.source))
    assert set(names) <= read_by_check, f"exercise {number}: the check does not read {names}"
    stub = stub_solutions(cell.source, number)
    stub_line = next(line for line in stub.splitlines() if "NotImplementedError" in line)
    assert all(name in stub_line or f"{name}." in stub_line for name in names), stub_line
    compile(stub, f"<exercise {number}>", "exec")


def test_derived_answer_names_agree_with_the_checkers_declarations():
    """Where the checkers declare what each exercise defines (``check.EXERCISES[n].name``), the stubs agree."""
    from lenet_course import check

    declared = getattr(check, "EXERCISES", None)
    if not declared or not _real_chapters():
        pytest.skip("the checkers declare no exercise names here")
    for number, cell, _ in _real_exercises():
        assert answer_of(cell) == tuple(name.strip() for name in declared[number].name.split(",")), number


def test_there_are_exercises_to_name():
    if _real_chapters():
        assert len(_real_exercises()) >= 30


@pytest.mark.parametrize(
    "chapter, cell_id, output",
    [("00_welcome", "c00-f6", "by hand:    10164"), ("04_c3_s4", "my-table-params", "parameters of your C3: 1216")],
)
def test_outputs_that_show_the_solutions_answer_are_cleared_in_the_release(chapter, cell_id, output):
    path = CHAPTERS / f"{chapter}.ipynb"
    if not path.is_file():
        pytest.skip(f"no {path.name}")
    source = nbformat.read(path, as_version=4)
    ref = next(c for c in source.cells if c.id == cell_id)
    assert output in "".join(o.get("text", "") for o in ref.outputs)  # the chapter shows it ...
    released = next(c for c in release_notebook(source, chapter).cells if c.id == cell_id)
    assert released.outputs == [] and released.source == ref.source  # ... the learner's copy does not


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


def test_with_solution_puts_an_answer_in_place_of_each_block_at_its_indentation():
    from lenet_course.instructor.notebook_format import with_solution

    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nanswer = f(1)"
    assert with_solution(source, "y = x * 2\nreturn y") == "def f(x):\n    y = x * 2\n    return y\n\nanswer = f(1)"
    assert with_solution("### BEGIN SOLUTION\nn = 1\n### END SOLUTION", "n = 2") == "n = 2"
    assert with_solution("print(1)", "n = 2") == "print(1)"  # no block: nothing changes
