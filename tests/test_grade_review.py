"""Review flags: names resolved through imports, aliases and attribute chains, never patterns in the text."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import lenet_course
from lenet_course import shapes
from lenet_course.check.exercise import EXERCISES
from lenet_course.instructor.grade import graded_notebook, learner_cells, load_reference
from lenet_course.instructor.review import namesakes, review_cells

ROOT = Path(__file__).resolve().parents[1]
SETUP = ("from lenet_course import check, setup, shapes\n%matplotlib inline\ndevice = setup()", False, None)


@pytest.fixture(scope="module")
def course_namesakes():
    import lenet_course.check  # noqa: F401  (declares every exercise)

    return namesakes(EXERCISES.values())


def _flags(source: str, found, before=(SETUP,)):
    return [str(f) for f in review_cells([*before, (source, True, "1.1")], found)]


def test_the_map_comes_from_the_declarations_and_what_the_package_exports(course_namesakes):
    assert set(course_namesakes) == set(EXERCISES)
    assert course_namesakes["1.1"][id(shapes.conv_output_size)] in (
        "lenet_course.shapes.conv_output_size",
        "lenet_course.conv_output_size",
    )
    # a declaration that names only its answer: the package's objects of that name are found by reading its sources
    found = namesakes([SimpleNamespace(id="9.9", name="conv_output_size", namesakes=())])
    assert id(shapes.conv_output_size) in found["9.9"]
    assert namesakes([SimpleNamespace(id="9.9", name="no_such_thing_here", namesakes=())]) == {"9.9": {}}
    import torch

    softmax = [k for k, e in EXERCISES.items() if "torch.softmax" in e.namesakes]
    assert softmax and id(torch.softmax) in course_namesakes[softmax[0]]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def conv_output_size(W, F, P=0, S=1):\n    return (W - F + 2 * P) // S + 1", []),
        ("from lenet_course.shapes import conv_output_size", ["uses lenet_course.shapes.conv_output_size"]),
        ("import lenet_course.shapes as s\nf = s.conv_output_size", ["uses lenet_course.shapes.conv_output_size"]),
        ("import lenet_course as lc\ng = lc.conv_output_size", ["uses lenet_course.conv_output_size, that is"]),
        ("f = getattr(shapes, 'conv_output_size')", ["uses lenet_course.shapes.conv_output_size"]),
        ("import importlib\nm = importlib.import_module('lenet_course.shapes')\nm.conv_output_size(1, 1)", ["uses"]),
        (
            "import sys\nsys.modules['lenet_course.shapes'].conv_output_size(1, 1)",
            ["uses lenet_course.shapes.conv_output_size"],
        ),
        (
            "from lenet_course.shapes import *\nx = conv_output_size(32, 5)",
            ["uses lenet_course.shapes.conv_output_size"],
        ),
        ("def f(shapes):\n    return shapes.conv_output_size(32, 5)", []),  # a parameter, not the module
        ("shapes = None\nshapes.conv_output_size(32, 5)", []),  # rebound: no longer the package's
        ("check.conv_output_size(conv_output_size)", []),  # calling a checker, as check cells do
        ("import lenet_course.check.formula as m\nm.report = print", ["reaches into the checker", "changes"]),
        ("check = None", ["replaces 'check'"]),
        ("globals()['ch' + 'eck'] = 1", ["globals()"]),
        ("import importlib\nimportlib.import_module('bu' + 'iltins').print = None", ["computed at run time"]),
        ("__builtins__.print = len", ["builtins"]),
        ("import sys as s\ns.stdout = None", ["changes sys.stdout"]),
        ("get_ipython().input_transformers_cleanup.append(str)", ["rewrites the cells"]),
        ("ip = get_ipython()\nip.ast_transformers.append(1)", ["rewrites the cells"]),
        ("import inspect as i\nf = i.currentframe().f_back", ["frames"]),
        ("print(open('/proc/1/cmdline').read())", ["/proc"]),
        ("from os import kill as k\nk(1, 9)", ["signals processes"]),
        ("exec('x = 1')", ["exec"]),
        ("print(len([1, 2]))\nimport math\nmath.sqrt(2)", []),
    ],
)
def test_names_are_resolved_to_what_they_refer_to(course_namesakes, source, expected):
    flags = _flags(source, course_namesakes)
    assert len(flags) >= len(expected) and all(any(e in f for f in flags) for e in expected), flags
    if not expected:
        assert flags == []


def test_a_binding_made_in_an_earlier_cell_counts_but_only_the_learner_s_cells_are_reported(course_namesakes):
    helper = ("import lenet_course.shapes as s", True, None)
    chapter_cell = ("import lenet_course.shapes as s\ns.conv_output_size(32, 5)", False, None)
    assert _flags("def conv_output_size(*a):\n    return s.conv_output_size(*a)", course_namesakes, [helper]) == [
        "code cell 2: uses lenet_course.shapes.conv_output_size, a ready-made answer to exercise 1.1"
    ]
    assert review_cells([chapter_cell], course_namesakes) == []


def test_a_cell_that_is_not_python_is_reported_not_a_crash(course_namesakes):
    assert _flags("def (:", course_namesakes) == ["code cell 2: cannot be read as Python, so it was not reviewed"]


def test_no_chapter_submitted_as_it_is_is_flagged_and_every_exercise_has_a_judge(course_namesakes):
    chapters = load_reference(ROOT / "chapters")
    for name, chapter in chapters.items():
        graded = graded_notebook(chapter, chapter.nb)
        cells = learner_cells(chapter, graded)
        own = {e.number: course_namesakes.get(e.number, {}) for e in chapter.exercises}  # as the grader does
        assert review_cells(cells, own) == [], name
        assert {e.number for e in chapter.exercises} <= set(EXERCISES), name
        assert all(answer is not None and check is not None for answer, check in graded.positions.values()), name


def test_every_namesake_the_declarations_name_exists(course_namesakes):
    for exercise in EXERCISES.values():
        assert len(course_namesakes[exercise.id]) >= (1 if exercise.namesakes else 0), exercise.id
    assert lenet_course.conv_output_size is shapes.conv_output_size
