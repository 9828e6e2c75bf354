"""The package's modules import one another without a cycle (read from the source with ``ast``, never imported).

Every ``import`` counts, at the top of a module or inside a function: a
function-level import that closes a loop is still a loop for a reader
following the code. Imports under ``if TYPE_CHECKING:`` (annotations only)
do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT


def _module_names(package: Path) -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` for every module under ``package``."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph(package: Path) -> dict[str, set[str]]:
    """``{module: the package's modules it imports}``."""
    modules = _module_names(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = name.split(".") if is_package else name.split(".")[:-1]
                if node.level:
                    base = base[: len(base) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:  # `from . import x` imports the submodule x when there is one
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph(ROOT / "lenet_course")
    assert len(graph) > 40 and "lenet_course.bench.runner" in graph
    assert "lenet_course.training" in graph["lenet_course.bench.runs"]  # the benchmark runs fit's step
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .steps import Run\n")
    (package / "sub" / "steps.py").write_text("class Run:\n    pass\n\ndef make():\n    from .graphs import G\n")
    (package / "sub" / "graphs.py").write_text("from .steps import Run\n\nclass G(Run):\n    pass\n")
    (package / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import steps\n"
    )
    graph = import_graph(package)
    assert graph["pkg.typed"] == set()  # annotations only
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {"pkg.sub.steps", "pkg.sub.graphs"}
    (package / "sub" / "steps.py").write_text("class Run:\n    pass\n")
    assert find_cycle(import_graph(package)) is None


def test_every_form_of_import_is_read_as_an_edge_to_the_right_module(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .a import f\n",
        "a.py": "def f():\n    pass\n",
        "b.py": "from . import a\nimport json\n",  # a submodule by `from . import`; the standard library is no edge
        "c.py": "import pkg.b\nfrom pkg import a as alias\n",  # absolute forms
        "sub/__init__.py": "from .. import b\n",  # a package's own `.` is itself
        "sub/d.py": "from ..a import f\nfrom . import e\nfrom .e import g\n",
        "sub/e.py": "from .. import f\n\ndef g():\n    from ..c import pkg\n",  # a name of pkg; in a function
    }
    for name, text in files.items():
        (package / name).write_text(text)
    assert import_graph(package) == {
        "pkg": {"pkg.a"},
        "pkg.a": set(),
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg.a", "pkg.b"},
        "pkg.sub": {"pkg.b"},
        "pkg.sub.d": {"pkg.a", "pkg.sub.e"},
        "pkg.sub.e": {"pkg", "pkg.c"},
    }
    assert find_cycle(import_graph(package)) is None
    (package / "a.py").write_text("from .sub import d\n")  # a -> sub.d -> sub.e -> pkg -> a
    cycle = find_cycle(import_graph(package))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert {"pkg.a", "pkg.sub.d"} <= set(cycle)
