"""How a chapter notebook marks its exercises: the cell metadata that release and grading both read.

For instructors (README, "For instructors"); CONTRIBUTING.md describes the
format. An exercise cell carries ``metadata.lenet_course.exercise`` (its
number, "1.1") and optionally ``points``; its solution sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``. A check cell carries
``metadata.lenet_course.check``. Nothing here runs a notebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN",
    "END",
    "EXERCISE_TAG",
    "CHECK_TAGS",
    "exercise_of",
    "check_of",
    "points_of",
    "chapter_paths",
    "support_files_filter",
    "GENERATED",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
EXERCISE_TAG = "exercise"
CHECK_TAGS = ("check", "nbval-check-output")


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
