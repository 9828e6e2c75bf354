"""Grading with nbval: checks restored from the chapter, every kind of broken submission survived."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lenet_course.cli import grade_main as main
from lenet_course.instructor.grade import (
    Chapter,
    _exercises_of,
    _read_submission,
    grade,
    graded_notebook,
    learner_of,
    load_reference,
    match_chapter,
    suspicious_cells,
)
from lenet_course.instructor.notebook_format import BEGIN, END, check_of, exercise_of
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


def test_learner_code_that_replaces_the_checker_or_print_is_flagged_for_review():
    chapter = demo()
    sub = copy.deepcopy(chapter.nb)
    assert suspicious_cells(graded_notebook(chapter, sub)) == []
    sub.cells[2].source += "\ncheck.twice = lambda f: print('Exercise 9.1: ok')  # sneaky"
    sub.cells[5].source += "\nimport builtins"
    flagged = suspicious_cells(graded_notebook(chapter, sub))
    assert flagged == [
        "code cell 2: check.twice = lambda f: print('Exercise 9.1: ok')  # sneaky",
        "code cell 4: import builtins",
    ]


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


@pytest.mark.timeout(300)
def test_output_flooding_a_check_is_clipped_in_the_report(tmp_path):
    reference = tmp_path / "chapters"
    reference.mkdir()
    nbformat.write(demo_chapter(), reference / "09_demo.ipynb")
    sub = demo_chapter()
    sub.cells[2].source = "def twice(x):\n    for _ in range(20000):\n        print('#' * 200)\n    return 2 * x"
    (tmp_path / "flood").mkdir()
    nbformat.write(sub, tmp_path / "flood" / "09_demo.ipynb")
    start = time.monotonic()
    [result] = grade([tmp_path / "flood"], reference, tmp_path / "report", timeout=120, cell_timeout=60)
    assert time.monotonic() - start < 120
    assert [r.summary for r in result.results] == ["failed", "passed"]
    assert len(result.results[0].got) < 10_000  # 4 MB printed, a few kB kept
    assert "Exercise 9.1: ok" in result.results[0].expected
    assert (tmp_path / "report" / "gradebook.csv").stat().st_size < 10_000


# ---------------------------------------------------------------- submissions built from a real chapter


def _light_chapter() -> Path:
    for name in LIGHT:
        if (CHAPTERS / f"{name}.ipynb").is_file():
            return CHAPTERS / f"{name}.ipynb"
    pytest.skip("no light chapter (00 or 01) in chapters/ yet")


def _function_exercise(nb) -> nbformat.NotebookNode:
    """The first exercise whose solution is the body of a function (its BEGIN marker is indented)."""
    for cell in nb.cells:
        if exercise_of(cell) and any(
            line.startswith((" ", "\t")) and line.strip().startswith(BEGIN) for line in cell.source.splitlines()
        ):
            return cell
    pytest.skip("the light chapter has no function exercise")


def _wrong(source: str) -> str:
    """The solution block replaced by ``return None``: runs, but answers wrongly."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith(BEGIN):
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + "return None")
        elif line.strip().startswith(END):
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def _cell(nb, number: str, kind: str):
    of = exercise_of if kind == "answer" else check_of
    return next(c for c in nb.cells if of(c) == number)


def _expected_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one set of submissions built from a light chapter, against a snapshot of chapters/."""
    tmp = tmp_path_factory.mktemp("grading")
    reference = tmp / "course" / "chapters"  # a snapshot: authors may be editing chapters/ meanwhile
    reference.mkdir(parents=True)
    for source in CHAPTERS.glob("*.ipynb"):
        shutil.copy(source, reference / source.name)
    path = reference / _light_chapter().name
    chapter = nbformat.read(path, as_version=4)
    numbers = [e.number for e in _exercises_of(chapter)]
    assert len(numbers) >= 2
    release = release_notebook(chapter, chapter=path.stem)
    first, second = numbers[0], numbers[1]
    func = _function_exercise(chapter)
    subs = tmp / "submissions"
    made: dict[str, object] = {}

    def save(learner: str, nb, name: str = path.name):
        (subs / learner).mkdir(parents=True, exist_ok=True)
        target = subs / learner / name
        if isinstance(nb, str):
            target.write_text(nb)
        else:
            nbformat.write(nb, target)
        made[learner] = nb

    save("reference", chapter)
    save("release", release)

    wrong = copy.deepcopy(chapter)  # a wrong answer, whose check the learner also deleted
    _cell(wrong, exercise_of(func), "answer").source = _wrong(func.source)
    wrong.cells = [c for c in wrong.cells if check_of(c) != exercise_of(func)]
    save("wrong", wrong)

    # the release, every check forged: even exercises print the verdict they should print,
    # odd ones keep their check but carry the expected output pasted into it and into a new cell
    forged = copy.deepcopy(release)
    for k, number in enumerate(numbers):
        check = _cell(forged, number, "check")
        text = _expected_text(_cell(chapter, number, "check"))
        check.outputs, check.execution_count = [new_output("stream", name="stdout", text=text)], 1
        if k % 2 == 0:
            check.source = f"print({text.rstrip(chr(10))!r})"
        else:
            extra = new_code_cell(f"print({text.rstrip(chr(10))!r})", metadata={"tags": ["nbval-check-output"]})
            extra.outputs, extra.execution_count = [new_output("stream", name="stdout", text=text)], 2
            forged.cells.insert(forged.cells.index(check) + 1, extra)
    save("forged_checks", forged)

    no_checks = copy.deepcopy(release)
    no_checks.cells = [c for c in no_checks.cells if not check_of(c)]
    save("deleted_checks", no_checks)

    flood = copy.deepcopy(chapter)  # megabytes printed in one answer, another answer deleted
    _cell(flood, first, "answer").source += "\nfor _ in range(40_000):\n    print('#' * 100)"
    flood.cells = [c for c in flood.cells if exercise_of(c) != second]
    save("flood_and_deleted_answer", flood)

    loop = copy.deepcopy(chapter)
    _cell(loop, first, "answer").source += "\nwhile True:\n    pass"
    save("endless_loop", loop)

    dies = copy.deepcopy(chapter)
    _cell(dies, second, "answer").source += "\nimport os\nos._exit(1)"
    save("dying_kernel", dies)

    save("invalid_json", nbformat.writes(chapter)[:500])
    bad_version = json.loads(nbformat.writes(chapter))
    bad_version["nbformat"] = 99
    save("wrong_nbformat", json.dumps(bad_version))
    save("unknown_chapter", chapter, name="99_no_such_chapter.ipynb")

    digests = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in [*reference.glob("*.ipynb"), *subs.rglob("*.ipynb")]
    }
    start = time.monotonic()
    results = grade([subs], reference, tmp / "report", timeout=300, cell_timeout=CELL_TIMEOUT, jobs=2)
    seconds = time.monotonic() - start
    with open(tmp / "report" / "gradebook.csv", newline="") as fh:
        rows = {row["learner"]: row for row in csv.DictReader(fh)}
    assert len(rows) == len(made) == len(results)
    print(f"\ngraded {len(results)} submissions of {path.stem} in {seconds:.0f} s")
    return {
        "rows": rows,
        "numbers": numbers,
        "tmp": tmp,
        "func": exercise_of(func),
        "chapter": chapter,
        "path": path,
        "digests": digests,
    }


def _results(row, numbers):
    return [row[f"{n} result"] for n in numbers]


def _points(row, numbers):
    return [float(row[f"{n} points"]) for n in numbers]


@pytest.mark.timeout(900)
def test_reference_solutions_get_full_marks(graded):
    row, numbers = graded["rows"]["reference"], graded["numbers"]
    assert _results(row, numbers) == ["passed"] * len(numbers)
    assert float(row["total"]) == float(row["max"]) == sum(_points(row, numbers)) > 0
    assert row["status"] == "graded" and row["chapter"] == graded["path"].stem
    assert row["notes"] == ""


def test_untouched_release_gets_zero_with_not_implemented_everywhere(graded):
    row, numbers = graded["rows"]["release"], graded["numbers"]
    assert _results(row, numbers) == ["error: NotImplementedError"] * len(numbers)
    assert float(row["total"]) == 0


def test_a_wrong_answer_fails_even_without_its_check_and_the_diff_is_in_the_feedback(graded):
    row, func = graded["rows"]["wrong"], graded["func"]
    assert row[f"{func} result"] == "failed"
    assert float(row[f"{func} points"]) == 0
    feedback = (graded["tmp"] / "report" / "feedback" / "wrong.md").read_text()
    expected = _expected_text(_cell(graded["chapter"], func, "check")).strip()
    assert f"### Exercise {func}: failed" in feedback
    assert expected in feedback and "Your output:" in feedback and "nbval's comparison:" in feedback


@pytest.mark.parametrize("learner", ["forged_checks", "deleted_checks"])
def test_forged_pasted_or_deleted_checks_never_pass(graded, learner):
    row, numbers = graded["rows"][learner], graded["numbers"]
    assert _results(row, numbers) == ["error: NotImplementedError"] * len(numbers)
    assert float(row["total"]) == 0


def test_a_flood_of_output_is_survived_and_a_deleted_answer_is_missing(graded):
    row, numbers = graded["rows"]["flood_and_deleted_answer"], graded["numbers"]
    assert row[f"{numbers[0]} result"] == "passed"
    assert row[f"{numbers[1]} result"] == "missing"
    assert len(row["notes"]) < 1000


def test_an_endless_loop_times_out_and_the_rest_is_graded(graded):
    row, numbers = graded["rows"]["endless_loop"], graded["numbers"]
    assert _results(row, numbers) == ["timed out"] + ["passed"] * (len(numbers) - 1)
    assert float(row["seconds"]) >= CELL_TIMEOUT


def test_a_dying_kernel_is_reported_and_grading_goes_on(graded):
    row, numbers = graded["rows"]["dying_kernel"], graded["numbers"]
    assert _results(row, numbers) == ["passed"] + ["error: kernel died"] * (len(numbers) - 1)
    assert float(row["seconds"]) < CELL_TIMEOUT + 60  # noticed at once, not after the cell timeout
    feedback = (graded["tmp"] / "report" / "feedback" / "dying_kernel.md").read_text()
    assert f"your answer to exercise {numbers[1]}" in feedback


@pytest.mark.parametrize(
    "learner, status, note",
    [
        ("invalid_json", "invalid notebook", "not valid JSON"),
        ("wrong_nbformat", "invalid notebook", "nbformat 99"),
        ("unknown_chapter", "unknown chapter", "no chapter matches"),
    ],
)
def test_unreadable_or_unknown_submissions_get_their_own_row(graded, learner, status, note):
    row, numbers = graded["rows"][learner], graded["numbers"]
    assert row["status"] == status and note in row["notes"]
    assert float(row["total"]) == 0
    if status == "invalid notebook":
        assert _results(row, numbers) == ["not graded"] * len(numbers)


def test_the_learners_files_and_the_chapters_are_left_alone(graded):
    for path, digest in graded["digests"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path.name} was modified"
    assert sorted(p.name for p in (graded["tmp"] / "report" / "feedback").glob("*.md")) == sorted(
        f"{k}.md" for k in graded["rows"]
    )


@pytest.fixture(scope="module")
def chapters():
    return load_reference(CHAPTERS)


@pytest.mark.parametrize("name", sorted(p.stem for p in CHAPTERS.glob("*.ipynb")))
def test_no_chapter_is_flagged_for_review_when_submitted_as_it_is(chapters, name):
    chapter = chapters[name]
    graded = graded_notebook(chapter, chapter.nb)
    assert suspicious_cells(graded) == []
    assert all(answer is not None and check is not None for answer, check in graded.positions.values())
