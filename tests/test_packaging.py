"""The two ways of installing the course must ask for the same packages."""

import re

import pytest
import yaml

from .conftest import ROOT

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

# conda-forge names where they differ from PyPI's
CONDA_NAMES = {"torch": "pytorch"}


def split_requirement(text: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    out = {}
    for req in reqs:
        name, spec = split_requirement(req)
        out[CONDA_NAMES.get(name, name)] = spec
    return out


def environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert dep == {"pip": ["-e ."]}, "only the course itself is installed with pip"
            continue
        name, spec = split_requirement(dep)
        if name not in {"python", "pip"}:
            out[name] = spec
    return out


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_pytorch_is_asked_for_as_a_range():
    reqs = pyproject_requirements()
    assert reqs["pytorch"].startswith(">=") and "==" not in reqs["pytorch"]
    assert reqs["torchvision"].startswith(">=")


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]
