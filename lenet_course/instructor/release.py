"""The learner release: chapters with their solutions replaced by stubs (for instructors).

The chapters in ``chapters/`` hold the solutions between ``### BEGIN SOLUTION``
and ``### END SOLUTION``. ``python -m lenet_course release --out DIR`` writes
the learner version of every chapter: each solution becomes
``raise NotImplementedError("Exercise N.k: ...")`` at the marker's
indentation, the outputs of exercise and check cells are cleared, and every
other cell is left exactly as it is. The chapters themselves are never written.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import nbformat

from .notebook_format import (
    BEGIN,
    CHECK_TAGS,
    END,
    EXERCISE_TAG,
    chapter_paths,
    check_of,
    exercise_of,
    support_files_filter,
)

__all__ = ["stub_solutions", "release_notebook", "release_chapters"]


def stub_solutions(source: str, exercise: str, where: str = "cell") -> str:
    """Replace every ``BEGIN``..``END SOLUTION`` block of ``source`` by a NotImplementedError stub.

    The stub sits at the indentation of the ``### BEGIN SOLUTION`` line. Raises
    ValueError when the markers are unbalanced (``where`` names the cell).
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
            out.append(
                f'{indent}raise NotImplementedError("Exercise {exercise}: replace this line with your code")' + newline
            )
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


def release_notebook(nb: Any, chapter: str = "notebook") -> Any:
    """The learner version of one chapter notebook (a copy; ``nb`` is not changed).

    Exercise cells get their solutions stubbed and their outputs cleared, check
    cells keep their source and lose their outputs; both keep their id and get
    their tag. Every other cell is copied unchanged. The notebook's metadata
    records the chapter it came from, so the grader can match a renamed file.
    """
    released = copy.deepcopy(nb)
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
            cell.source = stub_solutions(cell.source, exercise, where)
            _add_tags(cell, (EXERCISE_TAG,))
        elif checked is not None:
            _add_tags(cell, CHECK_TAGS)
        else:
            continue
        cell.outputs = []
        cell.execution_count = None
    released.metadata.setdefault("lenet_course", {})
    if isinstance(released.metadata["lenet_course"], dict):
        released.metadata["lenet_course"]["chapter"] = chapter
    return released


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
        nb = nbformat.read(path, as_version=4)
        released = release_notebook(nb, chapter=path.stem)
        target = out / path.name
        nbformat.write(released, target)
        written.append(target)
    for item in chapters.iterdir():
        if support_files_filter(str(chapters), [item.name]):
            continue
        if item.is_dir():
            shutil.copytree(item, out / item.name, ignore=support_files_filter, dirs_exist_ok=True)
        elif item.is_file():
            shutil.copy2(item, out / item.name)
    return written
