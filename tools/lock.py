"""Write requirements-lock.txt: the exact versions the course is tested with (for course authors; ``make lock``).

    python tools/lock.py --python .venv-lock/bin/python --out requirements-lock.txt

Reads every package installed in the environment of ``--python`` (``make lock``
makes a fresh one with ``pip install -e ".[dev]"``, the newest versions that
pyproject.toml's ranges allow) and writes them as pins, pip-tools style, for use
as a constraints file: ``pip install -c requirements-lock.txt -e ".[dev]"``.
The course itself, pip, setuptools and wheel are left out.

A pinned release that does not support every Python the course supports (its
``Requires-Python``, e.g. numpy 2.4 needs 3.11) gets an environment marker, so
that on those Pythons pip picks the newest release in range instead of failing.
Packages a platform does not need (CUDA libraries on a Mac) are simply not
installed: a constraint only limits what is installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = {"lenet-course", "pip", "setuptools", "wheel"}
# The Python versions a marker is worked out for: the course's range, up to the newest release.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]

_LIST = """
import json, sys, importlib.metadata as md
out = []
for dist in md.distributions():
    name = dist.metadata["Name"]
    if name:
        out.append({"name": name, "version": dist.version, "requires_python": dist.metadata.get("Requires-Python")})
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "packages": out}))
"""


def normalise(name: str) -> str:
    """A distribution name as PyPI compares them: lower case, runs of ``-_.`` as one ``-``."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def installed(python: str) -> tuple[str, list[dict]]:
    """The Python version and the distributions installed in the environment of ``python``."""
    result = subprocess.run([python, "-c", _LIST], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    return data["python"], data["packages"]


def marker(requires_python: str | None) -> str:
    """An environment marker limiting a pin to the course's Pythons that its release supports ("" for all)."""
    if not requires_python:
        return ""
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return ""
    supported = [v for v in PYTHONS if spec.contains(v + ".0") or spec.contains(v + ".99")]
    if supported == PYTHONS:
        return ""
    if not supported:
        return 'python_version < "0"'  # supports none of the course's Pythons: never applies
    low, high = supported[0], supported[-1]
    parts = []
    if low != PYTHONS[0]:
        parts.append(f'python_version >= "{low}"')
    if high != PYTHONS[-1]:
        parts.append(f'python_version <= "{high}"')
    return " and ".join(parts)


def lock_lines(packages: list[dict]) -> list[str]:
    """One ``name==version`` line per package (with a marker where needed), sorted by name."""
    seen = {}
    for package in packages:
        name = normalise(package["name"])
        if name not in LEFT_OUT:
            seen[name] = package
    lines = []
    for name in sorted(seen):
        package = seen[name]
        line = f"{name}=={package['version']}"
        condition = marker(package["requires_python"])
        lines.append(f"{line} ; {condition}" if condition else line)
    return lines


def header(python_version: str) -> str:
    return (
        "# The exact versions the course is tested with: the chapters' compared outputs were made with them.\n"
        "# A constraints file: `make lab` and `make test` install with\n"
        '#     pip install -c requirements-lock.txt -e ".[dev]"\n'
        "# and `make test LOCK=0` tries the newest versions pyproject.toml allows instead.\n"
        "# Refresh with `make lock` (tools/lock.py), then `make notebooks` and `make test`.\n"
        f"# Made on Python {python_version}, {platform.system()} {platform.machine()}. A pin whose release needs a\n"
        "# newer Python carries a marker; packages a platform does not need are simply not installed.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the environment to record")
    parser.add_argument("--out", type=Path, default=REPO / "requirements-lock.txt")
    args = parser.parse_args(argv)
    python_version, packages = installed(args.python)
    lines = lock_lines(packages)
    args.out.write_text(header(python_version) + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out.name}: {len(lines)} packages, Python {python_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
