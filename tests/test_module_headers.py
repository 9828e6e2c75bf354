"""Every module of the package opens with a few lines: what it is, and where it comes in.

The d2l convention ("Defined in ..."): a module's docstring names the chapter
that introduces it ("chapter 8", "Introduced in chapter 11 (``11_lenet5_1998.ipynb``)"),
or, for a module no chapter introduces, who uses it ("Used by
``python -m lenet_course bench``", "for instructors"). Every chapter it
names must exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "lenet_course"
CHAPTERS = {int(p.name[:2]): p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}
CHAPTER = re.compile(r"\bchapters? (\d+)(?:(?:,| and| to| or) (\d+))*", re.IGNORECASE)
NUMBER = re.compile(r"\d+")
NOTEBOOK = re.compile(r"\b(\d\d_[a-z0-9_]+\.ipynb)")
AUDIENCE = re.compile(r"\b(used by|for instructors|for course authors)\b", re.IGNORECASE)


def header_problem(doc: str | None) -> str | None:
    """What is wrong with a module docstring, or ``None`` if it follows the convention."""
    if not doc or not doc.strip():
        return "no docstring: open with a line saying what the module is"
    first = doc.strip().splitlines()[0]
    if len(first.split()) < 3:
        return f"the first line should say what the module is, got {first!r}"
    numbers = [int(n) for match in CHAPTER.finditer(doc) for n in NUMBER.findall(match.group(0))]
    missing = sorted({n for n in numbers if n not in CHAPTERS})
    if missing:
        return f"names chapter(s) {missing}, which do not exist (chapters are {sorted(CHAPTERS)})"
    unknown = sorted({name for name in NOTEBOOK.findall(doc) if name not in CHAPTERS.values()})
    if unknown:
        return f"names notebook(s) {unknown}, which are not in chapters/"
    if not numbers and not AUDIENCE.search(doc):
        return 'names neither the chapter that introduces it ("chapter N") nor who uses it ("Used by ...")'
    return None


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_says_what_it_is_and_where_it_comes_in(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert header_problem(doc) is None, f"{path.relative_to(ROOT)}: {header_problem(doc)}"


def test_every_package_folder_is_covered():
    folders = {p.parent.name for p in _modules()}
    assert {"lenet_course", "bench", "check", "fast", "instructor", "paper", "widgets"} <= folders
    assert len(CHAPTERS) == 12


@pytest.mark.parametrize(
    "doc, problem",
    [
        (None, "no docstring"),
        ("Helpers.", "the first line should say"),
        ("Reading MNIST's IDX files, strictly.\n\nFast.", "names neither"),
        ("Training and evaluation helpers.\n\nIntroduced in chapter 12.", "chapter(s) [12], which do not exist"),
        ("Training and evaluation helpers.\n\nChapters 3 and 14 use it.", "chapter(s) [14]"),
        ("Training and evaluation helpers.\n\nIntroduced in ``08_training.ipynb``, chapter 8.", "08_training.ipynb"),
        ("Training and evaluation helpers.\n\nIntroduced in chapter 8 (``08_training_loop.ipynb``).", None),
        ("The benchmark's typed rows.\n\nUsed by ``python -m lenet_course bench``.", None),
        ("The grader's reports, for instructors.", None),
    ],
)
def test_the_rule_itself(doc, problem):
    found = header_problem(doc)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
