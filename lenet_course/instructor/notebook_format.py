"""How a chapter notebook marks its exercises: the cell metadata that release and grading both read.

For instructors (README, "For instructors"); CONTRIBUTING.md describes the
format. An exercise cell carries ``metadata.lenet_course.exercise`` (its
number, "1.1") and optionally ``points``; its solution sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``. A check cell carries
``metadata.lenet_course.check``. What an exercise must define (the names its
check reads) is ``metadata.lenet_course.answer`` when the cell declares it, and
otherwise read from the solution (:func:`answer_names`). A cell tagged
``answer-dependent`` shows what the learner's answer produces. Nothing here
runs a notebook.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN",
    "END",
    "EXERCISE_TAG",
    "CHECK_TAGS",
    "ANSWER_DEPENDENT_TAG",
    "exercise_of",
    "check_of",
    "points_of",
    "answer_of",
    "answer_names",
    "defined_names",
    "statements_between",
    "parse_code",
    "solution_lines",
    "with_solution",
    "chapter_paths",
    "support_files_filter",
    "GENERATED",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
EXERCISE_TAG = "exercise"
CHECK_TAGS = ("check", "nbval-check-output")
ANSWER_DEPENDENT_TAG = "answer-dependent"  # a cell whose output the learner's answer produces


def _course_meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("lenet_course", {})
    return meta if isinstance(meta, dict) else {}


def exercise_of(cell: Any) -> str | None:
    """The exercise number ("1.1") a code cell answers, from ``metadata.lenet_course.exercise``."""
    if cell.get("cell_type") != "code":
        return None
    number = _course_meta(cell).get("exercise")
    return str(number) if number is not None else None


def check_of(cell: Any) -> str | None:
    """The exercise number ("1.1") a code cell checks, from ``metadata.lenet_course.check``."""
    if cell.get("cell_type") != "code":
        return None
    number = _course_meta(cell).get("check")
    return str(number) if number is not None else None


def points_of(cell: Any, default: float = 1) -> float:
    """Points an exercise cell is worth (``metadata.lenet_course.points``, default 1)."""
    points = _course_meta(cell).get("points", default)
    try:
        value = float(points)
    except (TypeError, ValueError):
        return float(default)
    return value if value >= 0 else float(default)


_MAGIC = re.compile(r"^(\s*)[%!]")


def parse_code(source: str) -> ast.Module | None:
    """The syntax tree of a code cell (IPython magics and shell lines read as ``pass``); None if it does not parse."""
    text = "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in source.splitlines())
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def solution_lines(source: str) -> list[tuple[int, int]]:
    """``(begin, end)`` line numbers (from 1) of each solution block's markers; an unclosed block is left out."""
    blocks, begin = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            begin = number
        elif stripped.startswith(END) and begin is not None:
            blocks.append((begin, number))
            begin = None
    return blocks


def with_solution(source: str, code: str) -> str:
    """``source`` with each solution block, markers included, replaced by ``code`` at the block's indentation.

    How a learner's answer is put into a chapter's cell (the grader's tests and ``tools/make_class.py``).
    """
    out, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith(BEGIN):
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + c for c in code.splitlines()]
        elif line.strip().startswith(END):
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def _stored_names(target: ast.AST) -> list[str]:
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)]


def defined_names(statement: ast.stmt) -> list[str]:
    """The names a top-level statement defines: a ``def`` or ``class``, the plain names an assignment binds."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, ast.Assign):
        return [name for target in statement.targets for name in _stored_names(target)]
    if isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        return _stored_names(statement.target)
    return []


def statements_between(body: list[ast.stmt], begin: int, end: int) -> list[ast.stmt]:
    """The statements of ``body`` on the lines strictly between ``begin`` and ``end``.

    Compound statements (``if``, ``for``, ``with``, ``try``) are looked into;
    the bodies of functions and classes are not: what they bind is theirs.
    """
    found = []
    for statement in body:
        if begin < statement.lineno < end:
            found.append(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        inner = [s for field in ("body", "orelse", "finalbody") for s in getattr(statement, field, [])]
        inner += [s for handler in getattr(statement, "handlers", []) for s in handler.body]
        found += statements_between([s for s in inner if isinstance(s, ast.stmt)], begin, end)
    return found


def answer_names(source: str) -> tuple[str, ...]:
    """The names an exercise cell's solution gives its check, read from the code.

    A solution inside a ``def`` or ``class`` gives the outermost one's name
    (``conv_output_size``, ``MyLeNet5``); a solution at the top level gives the
    names it assigns or defines there (``c1_parameters``, ``c1_connections``),
    in order, loop variables left out. Empty when the cell does not parse.
    """
    tree = parse_code(source)
    if tree is None:
        return ()
    names: list[str] = []
    for begin, end in solution_lines(source):
        enclosing = [
            node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.lineno < begin <= (node.end_lineno or node.lineno)
        ]
        if enclosing:
            names.append(enclosing[0].name)
            continue
        for statement in statements_between(tree.body, begin, end):
            names += defined_names(statement)
    return tuple(dict.fromkeys(names))


def answer_of(cell: Any) -> tuple[str, ...]:
    """What an exercise cell must define for its check: ``metadata.lenet_course.answer``, else :func:`answer_names`."""
    if exercise_of(cell) is None:
        return ()
    declared = _course_meta(cell).get("answer")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list) and declared and all(isinstance(name, str) for name in declared):
        return tuple(declared)
    return answer_names(cell.get("source", ""))


def chapter_paths(chapters: Path) -> list[Path]:
    """The chapter notebooks of a course directory, in order (checkpoints skipped)."""
    return sorted(p for p in Path(chapters).glob("*.ipynb") if p.is_file() and not p.name.startswith("."))


GENERATED = ("runs", "__pycache__")  # what running the chapters leaves behind: never released or graded with
_GENERATED_SUFFIXES = (".ipynb", ".pt", ".pth", ".ckpt")


def support_files_filter(directory: str, names: list[str]) -> set[str]:
    """The names next to the chapters that are not copied (for ``shutil.copytree(ignore=...)``).

    Notebooks are handled on their own; hidden files, checkpoints and the
    ``runs/`` folder the chapters write are products of running them.
    """
    return {n for n in names if n.startswith(".") or n in GENERATED or n.endswith(_GENERATED_SUFFIXES)}
