"""requirements-lock.txt: the versions the course is tested with (``make lock``, tools/lock.py).

``make lab`` and ``make test`` install with it as pip constraints; ``make test
LOCK=0`` tries the newest versions the ranges in pyproject.toml allow.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from .conftest import ROOT

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

LOCK = ROOT / "requirements-lock.txt"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_requirements() -> dict[str, Requirement]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pins[normalise(requirement.name)] = requirement
    return pins


def pinned_version(requirement: Requirement) -> str:
    (spec,) = requirement.specifier
    assert spec.operator == "==", f"{requirement} is not an exact pin"
    return spec.version


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return [Requirement(r) for r in requirements]


def test_every_line_is_an_exact_pin():
    pins = lock_requirements()
    assert len(pins) > 100
    for requirement in pins.values():
        pinned_version(requirement)
        assert not requirement.extras and requirement.url is None


def test_the_lock_pins_every_requirement_of_the_course_within_its_range():
    pins = lock_requirements()
    for requirement in project_requirements():
        name = normalise(requirement.name)
        assert name in pins, f"{name} is not in requirements-lock.txt: run `make lock`"
        version = pinned_version(pins[name])
        assert requirement.specifier.contains(version, prereleases=True), (
            f"the lock pins {name}=={version}, outside pyproject.toml's {requirement.specifier}"
        )


def test_pyproject_pins_nothing_exactly():
    for requirement in project_requirements():
        assert all(spec.operator not in ("==", "===") for spec in requirement.specifier), str(requirement)


def test_the_chapters_outputs_were_made_with_the_locked_pytorch():
    pins = lock_requirements()
    setup_line = re.compile(r"PyTorch (\S+) \| torchvision (\S+) \|")
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        text = json.dumps(json.loads(path.read_text(encoding="utf-8")))
        for torch_version, vision_version in setup_line.findall(text):
            assert torch_version.split("+")[0] == pinned_version(pins["torch"]), path.name
            assert vision_version.split("+")[0] == pinned_version(pins["torchvision"]), path.name


def test_readme_names_the_tested_versions():
    readme = (ROOT / "README.md").read_text()
    pins = lock_requirements()
    python = re.search(r"Made on Python (\d+\.\d+)", LOCK.read_text()).group(1)
    section = readme[readme.index("## Tested versions") :]
    assert f"Python {python}" in section
    for name, shown in [("torch", "PyTorch"), ("torchvision", "torchvision"), ("jupyterlab", "JupyterLab")]:
        assert f"{shown} {pinned_version(pins[name])}" in section, f"README does not give {shown}'s locked version"
    for name, shown in [("ipywidgets", "ipywidgets"), ("notebook", "Notebook")]:
        assert f"{shown} {pinned_version(pins[name])}" in section
    assert "make test LOCK=0" in readme and "make lock" in readme


@pytest.mark.skipif(
    os.environ.get("LENET_COURSE_LOCK") != "1",
    reason="not installed from the lock (make test sets LENET_COURSE_LOCK=1; LOCK=0 tries the newest versions)",
)
def test_this_environment_has_the_locked_versions():
    environment = default_environment()
    wrong = []
    for name, requirement in lock_requirements().items():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a package this platform does not need
        if installed != pinned_version(requirement):
            wrong.append(f"{name} {installed} (locked {pinned_version(requirement)})")
    assert not wrong, "installed versions differ from requirements-lock.txt: " + ", ".join(wrong)


def _lock_tool():
    spec = importlib.util.spec_from_file_location("lock_tool", ROOT / "tools" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_release_that_needs_a_newer_python_is_pinned_only_there():
    lock = _lock_tool()
    assert lock.marker(">=3.11") == 'python_version >= "3.11"'
    assert lock.marker(">=3.8") == ""
    assert lock.marker(None) == ""
    assert lock.marker(">=3.10,<3.13") == 'python_version <= "3.12"'
    lines = lock.lock_lines(
        [
            {"name": "NumPy", "version": "2.4.6", "requires_python": ">=3.11"},
            {"name": "torch", "version": "2.14.1", "requires_python": ">=3.10"},
            {"name": "lenet_course", "version": "0.1.0", "requires_python": ">=3.10"},
            {"name": "pip", "version": "25.0", "requires_python": ">=3.9"},
        ]
    )
    assert lines == ['numpy==2.4.6 ; python_version >= "3.11"', "torch==2.14.1"]
