"""Every `make` command that README and CONTRIBUTING tell people to run exists and does something."""

import re
import subprocess

import pytest

from .conftest import ROOT


def documented_targets() -> set[str]:
    text = (ROOT / "README.md").read_text() + (ROOT / "CONTRIBUTING.md").read_text()
    return set(re.findall(r"`make ([a-z][a-z-]*)`", text)) | set(re.findall(r"^make ([a-z][a-z-]*)", text, re.M))


def test_readme_names_the_two_commands_first():
    text = (ROOT / "README.md").read_text()
    first_block = text[text.index("```bash") : text.index("```", text.index("```bash") + 7)]
    assert "make lab" in first_block and "make test" in first_block


@pytest.mark.parametrize("target", sorted(documented_targets()))
def test_documented_target_has_a_recipe(target):
    dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" not in dry.stdout + dry.stderr
    assert dry.stdout.strip(), f"make {target} runs nothing"


def test_ci_runs_the_same_make_test():
    assert re.search(r"^\s*(\w+=\S+ )*make test\s*$", (ROOT / ".ci" / "run").read_text(), re.M)
