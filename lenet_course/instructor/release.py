"""The learner version of the chapters: solutions stubbed, answer-dependent outputs cleared.

The chapters in ``chapters/`` hold the solutions between ``### BEGIN SOLUTION``
and ``### END SOLUTION``. :func:`release_notebook` makes the learner version of
one chapter; ``python -m lenet_course release --out DIR`` (``make release``,
for instructors) and the learner's workbook (``make lab``,
:mod:`lenet_course.workbook`) both write it:

- each solution becomes one ``raise NotImplementedError(...)`` line at the
  marker's indentation, which names what the check expects: "Exercise 2.1:
  replace this line with code that sets c1_parameters and c1_connections", or
  "... with the body of conv_output_size";
- the outputs of exercise and check cells are cleared, and so are those of every
  cell that uses what an exercise defines (directly or through a name computed
  from it), or carries the tag ``answer-dependent``: the learner's own answer
  fills them in;
- every other cell is left exactly as it is. The chapters themselves are never
  written.
"""

from __future__ import annotations

import ast
import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

from .notebook_format import (
    ANSWER_DEPENDENT_TAG,
    BEGIN,
    CHECK_TAGS,
    END,
    EXERCISE_TAG,
    answer_of,
    chapter_paths,
    check_of,
    defined_names,
    exercise_of,
    parse_code,
    solution_lines,
    statements_between,
    support_files_filter,
)

__all__ = [
    "stub_solutions",
    "stub_task",
    "answer_dependent_cells",
    "cell_names",
    "release_notebook",
    "release_text",
    "support_files",
    "release_chapters",
]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def stub_task(source: str, begin: int, names: tuple[str, ...] = ()) -> str:
    """What the stub of the solution block opening at line ``begin`` asks for, read from the code around it.

    "replace this line with the body of conv_output_size" (a block inside a
    function or method); "... with code that sets c1_parameters and
    c1_connections" or "... that defines f" (a block at the top level, or the
    ``names`` a cell declares); "set true_statements above, then delete this
    line" (names the cell gives a starting value first); else "... with your code".
    """
    tree = parse_code(source)
    if tree is None:
        return "replace this line with your code"
    end = next((stop for start, stop in solution_lines(source) if start == begin), begin)
    path: list[ast.AST] = []
    body: list[ast.stmt] = tree.body
    while True:  # the chain of def/class statements that encloses the block
        around = [
            node
            for node in body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.lineno < begin <= (node.end_lineno or node.lineno)
        ]
        if not around:
            break
        path.append(around[0])
        body = around[0].body
    functions = [i for i, node in enumerate(path) if not isinstance(node, ast.ClassDef)]
    if functions:
        innermost = functions[-1]
        return "replace this line with the body of " + ".".join(node.name for node in path[: innermost + 1])
    if names:
        return f"replace this line with code that sets {_join(list(names))}"
    inside = statements_between(body, begin, end)
    names = list(dict.fromkeys(name for statement in inside for name in defined_names(statement)))
    if not names:
        return "replace this line with your code"
    before = {name for statement in statements_between(body, 0, begin) for name in defined_names(statement)}
    if set(names) <= before:
        return f"set {_join(names)} above, then delete this line"
    functions_defined = {
        statement.name
        for statement in inside
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    defines = [name for name in names if name in functions_defined]
    sets = [name for name in names if name not in functions_defined]
    parts = ([f"defines {_join(defines)}"] if defines else []) + ([f"sets {_join(sets)}"] if sets else [])
    return "replace this line with code that " + ", and ".join(parts)


def stub_solutions(source: str, exercise: str, where: str = "cell", names: tuple[str, ...] = ()) -> str:
    """Replace every ``BEGIN``..``END SOLUTION`` block of ``source`` by a NotImplementedError stub.

    The stub sits at the indentation of the ``### BEGIN SOLUTION`` line and
    names what to write there (:func:`stub_task`; ``names``: what the cell
    declares in ``metadata.lenet_course.answer``): ``raise
    NotImplementedError("Exercise 1.1: replace this line with the body of
    conv_output_size")``. Raises ValueError when the markers are unbalanced
    (``where`` names the cell).
    """
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise ValueError(f"{where}: line {number} opens a second {BEGIN!r} before {END!r}; close the first one")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            newline = "\n" if line.endswith("\n") else ""
            message = f"Exercise {exercise}: {stub_task(source, number, names)}"
            out.append(f'{indent}raise NotImplementedError("{message}")' + newline)
        elif stripped.startswith(END):
            if not inside:
                raise ValueError(f"{where}: line {number} has {END!r} without a {BEGIN!r} above it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN!r} is never closed; add {END!r} after the solution")
    text = "".join(out)
    # the END line may have been the last line: do not leave a dangling newline the source did not have
    if not source.endswith("\n") and text.endswith("\n"):
        text = text[:-1]
    return text


def _add_tags(cell: Any, tags: tuple[str, ...]) -> None:
    existing = cell.setdefault("metadata", {}).get("tags")
    existing = list(existing) if isinstance(existing, list) else []
    for tag in tags:
        if tag not in existing:
            existing.append(tag)
    cell["metadata"]["tags"] = existing


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _reads_in(node: ast.AST) -> set[str]:
    """Names an expression (or a def, class or lambda) reads from outside itself."""
    local: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, _COMPREHENSIONS):
            local.update(n.id for g in sub.generators for n in ast.walk(g.target) if isinstance(n, ast.Name))
        elif isinstance(sub, _SCOPES):  # its parameters and the names it assigns are its own
            local.update(a.arg for a in ast.walk(sub) if isinstance(a, ast.arg))
            local.update(n.id for n in ast.walk(sub) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - local


def cell_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """``(reads, binds)`` of a code cell: the names it reads before binding them itself, and those it binds.

    Statements are followed in order at the cell's top level (into ``if``,
    ``for``, ``with`` and ``try``); a right-hand side is read before its
    target is bound, and the locals of functions, lambdas and comprehensions
    stay theirs.
    """
    reads: set[str] = set()
    binds: set[str] = set()

    def read(node: ast.AST) -> None:
        reads.update(_reads_in(node) - binds)

    def bind(target: ast.AST) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Store):
                    binds.add(n.id)
                elif n.id not in binds:  # a[i] = ... reads a and i
                    reads.add(n.id)

    def visit(statements: list[ast.stmt]) -> None:
        for st in statements:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                reads.update(_reads_in(st) - binds - {st.name})
                binds.add(st.name)
            elif isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                if st.value is not None:
                    read(st.value)
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                if isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name) and st.target.id not in binds:
                    reads.add(st.target.id)  # x += 1 reads x
                for target in targets:
                    bind(target)
            elif isinstance(st, (ast.For, ast.AsyncFor)):
                read(st.iter)
                bind(st.target)
                visit(st.body + st.orelse)
            elif isinstance(st, (ast.While, ast.If)):
                read(st.test)
                visit(st.body + st.orelse)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                for item in st.items:
                    read(item.context_expr)
                    if item.optional_vars is not None:
                        bind(item.optional_vars)
                visit(st.body)
            elif isinstance(st, ast.Try):
                visit(st.body)
                for handler in st.handlers:
                    if handler.type is not None:
                        read(handler.type)
                    if handler.name:
                        binds.add(handler.name)
                    visit(handler.body)
                visit(st.orelse + st.finalbody)
            elif isinstance(st, (ast.Import, ast.ImportFrom)):
                binds.update((alias.asname or alias.name).split(".")[0] for alias in st.names)
            else:
                read(st)

    visit(tree.body)
    return reads, binds


def _has_tag(cell: Any, tag: str) -> bool:
    tags = cell.get("metadata", {}).get("tags")
    return isinstance(tags, list) and tag in tags


def answer_dependent_cells(nb: Any) -> list[int]:
    """Indices of the cells whose outputs the learner's answers produce (exercise and check cells aside).

    A code cell depends on the answers when it carries the tag
    ``answer-dependent``, or reads a name that an exercise cell above binds
    (``linear_parameters``, ``MyLeNet5``) or that a cell depending on one binds
    (``model = MyLeNet5()``). A cell that binds a name again from scratch
    (``model = LeNet5()``) makes it independent again.
    """
    tainted: set[str] = set()
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or check_of(cell) is not None:
            continue
        tree = parse_code(cell.source)
        reads, binds = cell_names(tree) if tree is not None else (set(), set())
        if exercise_of(cell) is not None:
            tainted |= binds
            continue
        if _has_tag(cell, ANSWER_DEPENDENT_TAG) or reads & tainted:
            found.append(index)
            tainted |= binds
        else:
            tainted -= binds
    return found


def release_notebook(nb: Any, chapter: str = "notebook") -> Any:
    """The learner version of one chapter notebook (a copy; ``nb`` is not changed).

    Exercise cells get their solutions stubbed and their outputs cleared, check
    cells keep their source and lose their outputs; both keep their id and get
    their tag. Cells whose output depends on the learner's answers
    (:func:`answer_dependent_cells`) lose their outputs and keep the rest.
    Every other cell is copied unchanged. The notebook's metadata records the
    chapter it came from, so the grader can match a renamed file.
    """
    released = copy.deepcopy(nb)
    dependent = set(answer_dependent_cells(nb))
    for index, cell in enumerate(released.cells):
        if cell.get("cell_type") != "code":
            continue
        exercise = exercise_of(cell)
        checked = check_of(cell)
        has_markers = BEGIN in cell.source or END in cell.source
        where = f"{chapter}, cell {index} (id {cell.get('id', '?')})"
        if has_markers and exercise is None:
            raise ValueError(
                f"{where} has solution markers but no metadata.lenet_course.exercise; "
                "add the exercise number so the release and the grader know it"
            )
        if exercise is not None:
            declared = cell.get("metadata", {}).get("lenet_course", {}).get("answer")
            names = answer_of(cell) if declared else ()
            cell.source = stub_solutions(cell.source, exercise, where, names)
            _add_tags(cell, (EXERCISE_TAG,))
        elif checked is not None:
            _add_tags(cell, CHECK_TAGS)
        elif index not in dependent:
            continue
        cell.outputs = []
        cell.execution_count = None
    released.metadata.setdefault("lenet_course", {})
    if isinstance(released.metadata["lenet_course"], dict):
        released.metadata["lenet_course"]["chapter"] = chapter
    return released


def release_text(path: Path) -> str:
    """The learner version of the chapter at ``path``, as the text of the notebook file it is written to."""
    path = Path(path)
    text = nbformat.writes(release_notebook(nbformat.read(path, as_version=4), chapter=path.stem))
    return text if text.endswith("\n") else text + "\n"


def support_files(chapters: Path) -> Iterator[Path]:
    """The files beside the chapters that the learner version needs too (images, small data), recursively.

    Notebooks, hidden files and what running the chapters writes (``runs/``,
    checkpoints) are left out (:func:`~lenet_course.instructor.notebook_format.support_files_filter`).
    """
    chapters = Path(chapters)
    for item in sorted(chapters.iterdir()):
        if support_files_filter(str(chapters), [item.name]):
            continue
        if item.is_dir():
            yield from support_files(item)
        elif item.is_file():
            yield item


def release_chapters(chapters: Path, out: Path) -> list[Path]:
    """Write the learner version of every chapter in ``chapters`` to ``out``; returns the files written.

    Other files next to the chapters (images, small data) are copied as they are.
    ``out`` may not be ``chapters`` itself or lie inside it.
    """
    chapters = Path(chapters).resolve()
    out = Path(out).resolve()
    if not chapters.is_dir():
        raise FileNotFoundError(f"no chapters directory at {chapters}; pass --chapters DIR")
    if out == chapters or chapters in out.parents:
        raise ValueError(f"--out {out} is inside the chapters directory; the release must be written elsewhere")
    paths = chapter_paths(chapters)
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks (*.ipynb) in {chapters}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out / path.name
        target.write_text(release_text(path), encoding="utf-8")
        written.append(target)
    for item in support_files(chapters):
        target = out / item.relative_to(chapters)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, target)
    return written
