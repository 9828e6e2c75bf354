"""Builds chapter-1 submissions from the files in ``tests/hostile/``: one file per attack or broken notebook.

Each file is a small Python snippet with a header of ``# key: value`` lines
(the first comment line is its title) saying how to build the submission and
what grading must give it:

- ``base``: ``reference`` (every answer right, the default), ``release`` (the
  learner version: stubs) or ``wrong`` (every answer runs but is wrong);
- ``at``: where the snippet goes: ``after setup`` (a new cell after the setup
  cell), ``end`` (a new cell at the end), ``start of N.k`` / ``end of N.k``
  (into the answer cell of exercise N.k), ``answer N.k`` (the answer's whole
  source), or nowhere when the snippet is empty;
- ``build``: notebook-level edits: ``forge_checks``, ``delete_checks``,
  ``delete_answer N.k``, ``invalid_json``, ``wrong_nbformat``;
- ``learner`` (the folder, default the file's stem) and ``file`` (the file
  name, default the chapter's);
- what grading must give: ``marks`` (a number or fraction, ``23/14``),
  ``flagged`` (yes / no), optionally ``status``, ``results`` (each
  exercise's result, comma-separated), ``note`` (text in the notes) and
  ``review`` (text in the review column).

In a snippet, ``"@@OUT@@"``, ``"@@REFERENCE@@"``, ``"@@SUBMISSIONS@@"``,
``"@@PACKAGE@@"`` and ``"@@CANARY@@"`` become the absolute paths of the
grader's output folder, the reference chapters, the submissions, the
lenet_course package and a file no submission may create: the attacker is
assumed to know the grader's layout.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_output

from lenet_course.instructor.notebook_format import check_of, exercise_of, with_solution
from lenet_course.instructor.release import release_notebook

HOSTILE = Path(__file__).with_name("hostile")
SETUP_ID = "c01-setup"
WRONG = {  # chapter 1: answers that run but are wrong, each case of them
    "1.1": "return 0",
    "1.2": "answer_1_2 = dict(W=0, F=0, P=0, S=0)",
    "1.3": "widths = []",
}


@dataclass
class Case:
    """One hostile submission: how it was built and what grading must give it."""

    name: str
    title: str
    learner: str
    path: Path
    marks: Fraction
    flagged: bool
    status: str = "graded"
    results: list[str] = field(default_factory=list)
    note: str = ""
    review: str = ""


def parse(path: Path) -> tuple[dict[str, str], str]:
    """The header (``title`` plus every ``# key: value``) and the snippet's body."""
    header: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            body_start = i
            break
        text = line[1:].strip()
        if "title" not in header:
            header["title"] = text
        elif ":" in text:
            key, value = text.split(":", 1)
            header[key.strip()] = value.strip()
    else:
        body_start = len(lines)
    return header, "\n".join(lines[body_start:]).strip("\n")


def _answer(nb, number: str):
    return next(c for c in nb.cells if exercise_of(c) == number)


def _base(chapter, kind: str):
    if kind == "release":
        return release_notebook(chapter, chapter="01_output_size_formula")
    nb = copy.deepcopy(chapter)
    if kind == "wrong":
        for number, code in WRONG.items():
            cell = _answer(nb, number)
            cell.source = with_solution(cell.source, code)
    return nb


def _place(nb, at: str, body: str) -> None:
    if not at:
        return
    if at in ("after setup", "end"):
        cell = new_code_cell(body)
        cell.id = f"hostile-{len(nb.cells)}"
        where = next(i for i, c in enumerate(nb.cells) if c.get("id") == SETUP_ID) + 1 if at != "end" else len(nb.cells)
        nb.cells.insert(where, cell)
        return
    kind, number = at.rsplit(" ", 1)
    cell = _answer(nb, number)
    if kind == "start of":
        cell.source = body + "\n" + cell.source
    elif kind == "end of":
        cell.source = cell.source + "\n" + body
    elif kind == "answer":
        cell.source = body
    else:
        raise ValueError(f"unknown place {at!r}")


def _forge_checks(nb, chapter) -> None:
    """Every check printing its expected verdict, pasted in and as an extra cell."""
    for k, check in enumerate([c for c in nb.cells if check_of(c)]):
        text = "".join(o.get("text", "") for o in next(c for c in chapter.cells if c.id == check.id).outputs)
        check.outputs, check.execution_count = [new_output("stream", name="stdout", text=text)], 1
        if k % 2 == 0:
            check.source = f"print({text.rstrip(chr(10))!r})"
        else:
            extra = new_code_cell(f"print({text.rstrip(chr(10))!r})", metadata={"tags": ["nbval-check-output"]})
            extra.outputs, extra.execution_count = [new_output("stream", name="stdout", text=text)], 2
            nb.cells.insert(nb.cells.index(check) + 1, extra)


def build(chapter_path: Path, submissions: Path, paths: dict[str, Path], folder: Path = HOSTILE) -> list[Case]:
    """Write one submission per file of ``folder`` under ``submissions``; returns what each must get."""
    chapter = nbformat.read(chapter_path, as_version=4)
    cases = []
    for source in sorted(folder.glob("*.py")):
        header, body = parse(source)
        for key, path in paths.items():
            body = body.replace(f"@@{key}@@", str(path))
        nb = _base(chapter, header.get("base", "reference"))
        _place(nb, header.get("at", ""), body)
        build_steps = header.get("build", "")
        learner = header.get("learner", source.stem)
        target = submissions / learner / header.get("file", chapter_path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if build_steps.startswith("delete_answer"):
            number = build_steps.split()[-1]
            nb.cells = [c for c in nb.cells if exercise_of(c) != number]
        elif build_steps == "forge_checks":
            _forge_checks(nb, chapter)
        elif build_steps == "delete_checks":
            nb.cells = [c for c in nb.cells if not check_of(c)]
        if build_steps == "invalid_json":
            target.write_text(nbformat.writes(nb)[:500], encoding="utf-8")
        elif build_steps == "wrong_nbformat":
            data = json.loads(nbformat.writes(nb))
            data["nbformat"] = 99
            target.write_text(json.dumps(data), encoding="utf-8")
        else:
            nbformat.write(nb, target)
        results = [r.strip() for r in header.get("results", "").split(",") if r.strip()]
        cases.append(
            Case(
                name=source.stem,
                title=header["title"],
                learner=learner,
                path=target,
                marks=Fraction(header.get("marks", "0")),
                flagged=header.get("flagged", "no") == "yes",
                status=header.get("status", "graded"),
                results=results,
                note=header.get("note", ""),
                review=header.get("review", ""),
            )
        )
    return cases
