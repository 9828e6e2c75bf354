"""Which cells of a submission a person should look at: names resolved, not patterns matched (for instructors).

Used by :mod:`lenet_course.instructor.grade` (README, "For instructors").
Verdicts come from the judge, outside the learner's kernel, so a cell that
fakes a verdict earns nothing. One way of earning points remains: an answer
that calls the package's own implementation of the exercise (its
*namesake*, ``lenet_course.shapes.conv_output_size`` for Exercise 1.1). This
module finds it, and the cells that reach into the grading machinery, by
following what each name refers to:

- an ``ast`` pass over the notebook's code cells in order (IPython's syntax
  turned into Python first), keeping what each name is bound to: ``import``
  and ``from ... import`` with their aliases, assignments of a resolved value
  (``f = shapes.conv_output_size``), ``getattr`` with a constant name,
  ``importlib.import_module`` and ``__import__`` with a constant module,
  ``sys.modules[...]``; a name the learner defines again stops being the
  package's;
- attribute chains resolved from there, and the object they name looked up in
  the grader's own (trusted) process, so that a re-export
  (``lenet_course.conv_output_size``) is the same namesake;
- only cells the learner wrote or changed are reported (an answer cell, a new
  cell, an edited cell): the chapter's own cells use the package on purpose.

What static resolution cannot follow (``exec``, ``eval``, an ``import_module``
of a computed name, ``globals()[...]``) is reported as such. A flag never
changes the marks: it asks for a person's review.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Flag", "namesakes", "review_cells", "NAMESAKE_ROOTS"]

NAMESAKE_ROOTS = ("lenet_course", "torch")  # modules whose objects the grader may import to compare
_SHELL = "<IPython shell>"
_FRAME = "<frame>"
_BUILTIN_NAMES = set(dir(builtins)) | {"get_ipython", "display"}  # IPython adds the last two to a kernel's

# resolved names (a prefix matches what is under it) and what using them means
_MACHINERY: dict[str, str] = {
    "builtins": "reaches Python's builtins module",
    "sys.modules": "reaches the table of imported modules (sys.modules)",
    "sys._getframe": "walks the interpreter's frames",
    "sys.settrace": "traces the interpreter",
    "sys.setprofile": "traces the interpreter",
    "sys.meta_path": "changes how modules are imported",
    "sys.path_hooks": "changes how modules are imported",
    "inspect.currentframe": "walks the interpreter's frames",
    "inspect.stack": "walks the interpreter's frames",
    "inspect.getouterframes": "walks the interpreter's frames",
    "inspect.getframeinfo": "walks the interpreter's frames",
    "inspect.trace": "walks the interpreter's frames",
    "gc.get_objects": "searches the interpreter's objects",
    "gc.get_referrers": "searches the interpreter's objects",
    "gc.get_referents": "searches the interpreter's objects",
    "ctypes": "uses ctypes",
    "os.kill": "signals processes",
    "os.killpg": "signals processes",
    "os.fork": "starts processes",
    "os.forkpty": "starts processes",
    "os.setsid": "starts a new session",
    "os.system": "runs shell commands",
    "os.popen": "runs shell commands",
    "os.execv": "replaces the kernel's program",
    "os.execve": "replaces the kernel's program",
    "os.execl": "replaces the kernel's program",
    "os.execvp": "replaces the kernel's program",
    "os.posix_spawn": "starts processes",
    "os.environ": "reads or changes the kernel's environment",
    "os.getenv": "reads the kernel's environment",
    "subprocess": "starts processes",
    "multiprocessing": "starts processes",
    "signal": "handles or sends signals",
    "socket": "opens sockets",
    "resource": "changes resource limits",
    "lenet_course.check.judge": "talks to the judge itself",
    "lenet_course.check.wire": "talks to the judge itself",
    f"{_SHELL}.input_transformers_cleanup": "rewrites the cells IPython runs",
    f"{_SHELL}.input_transformers_post": "rewrites the cells IPython runs",
    f"{_SHELL}.input_transformer_manager": "rewrites the cells IPython runs",
    f"{_SHELL}.ast_transformers": "rewrites the cells IPython runs",
    f"{_SHELL}.events": "hooks into IPython's cell events",
    f"{_SHELL}.run_cell": "runs cells of its own",
    f"{_SHELL}.user_ns": "changes the notebook's names behind its back",
    f"{_SHELL}.user_global_ns": "changes the notebook's names behind its back",
    f"{_SHELL}.set_custom_exc": "hides the errors IPython reports",
    f"{_SHELL}.showtraceback": "hides the errors IPython reports",
    _FRAME: "walks the interpreter's frames",
}
_DYNAMIC = {
    "builtins.exec": "runs code built at run time (exec)",
    "builtins.eval": "runs code built at run time (eval)",
    "builtins.compile": "compiles code built at run time",
    "builtins.globals": "binds names dynamically (globals())",
    "builtins.vars": "binds names dynamically (vars())",
    "builtins.locals": "binds names dynamically (locals())",
    "builtins.breakpoint": "starts a debugger",
}
_CALL_RESULTS = {  # what calling these returns, as a name
    "builtins.get_ipython": _SHELL,
    "IPython.get_ipython": _SHELL,
    "IPython.core.getipython.get_ipython": _SHELL,
    "inspect.currentframe": _FRAME,
    "sys._getframe": _FRAME,
}


@dataclass(frozen=True)
class Flag:
    """One reason to review a cell: its number among the notebook's code cells (1-based) and what it does."""

    cell: int
    reason: str

    def __str__(self) -> str:
        return f"code cell {self.cell}: {self.reason}"


# ---------------------------------------------------------------- the namesakes


def _lookup(path: str) -> Any:
    """The object a dotted name refers to, imported in this (the grader's) process; ``None`` when there is none."""
    parts = path.split(".")
    if parts[0] not in NAMESAKE_ROOTS:
        return None
    obj: Any = None
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if parts[0] != "lenet_course" and module not in sys.modules:
            continue  # only the course's own modules are imported here; others only if already loaded
        try:
            obj = importlib.import_module(module)
        except Exception:  # not a module (or not importable): try the parent
            continue
        for attr in parts[i:]:
            try:
                obj = getattr(obj, attr)
            except Exception:
                return None
        return obj
    return None


def _defines(path: Path, name: str) -> bool:
    """Whether a module's source binds ``name`` at its top level (a def, a class, an assignment, an import)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def _package_exports(name: str) -> Iterator[str]:
    """Dotted names of every public object of ``lenet_course`` (its checkers aside) called ``name``.

    The modules' sources are read, not imported: only those that bind the name are imported, by :func:`_lookup`.
    """
    import lenet_course

    root = Path(lenet_course.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        if (parts and parts[0] == "check") or any(p.startswith("_") for p in parts):
            continue
        if _defines(path, name):
            yield ".".join(("lenet_course", *parts, name))


def namesakes(declarations: Iterable[Any]) -> dict[str, dict[int, str]]:
    """Exercise id -> the package's own implementations of it, as ``{id(object): dotted name}``.

    From each declaration (:class:`lenet_course.check.exercise.Exercise`): the
    names in its ``namesakes``, and every object the package exports under the
    exercise's answer ``name`` (``conv_output_size`` is also
    ``lenet_course.shapes.conv_output_size``).
    """
    found: dict[str, dict[int, str]] = {}
    for exercise in declarations:
        paths = list(getattr(exercise, "namesakes", ()) or ())
        name = getattr(exercise, "name", "")
        if name and name.isidentifier():
            paths += list(_package_exports(name))
        objects: dict[int, str] = {}
        for path in paths:
            obj = _lookup(path)
            if obj is not None and not isinstance(obj, (int, float, str, bool)):
                objects.setdefault(id(obj), path)
        found[str(exercise.id)] = objects
    return found


# ---------------------------------------------------------------- the resolver


def _python(source: str) -> str:
    """A cell's source as Python: IPython's magics and shell escapes turned into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Resolver(ast.NodeVisitor):
    """Walks a cell with ``env`` (name -> dotted name), calling ``seen(path, store, node)`` for each resolved use."""

    def __init__(self, env: dict[str, str], seen: Any, dynamic: Any) -> None:
        self.env = env
        self.seen = seen
        self.dynamic = dynamic
        self.local: set[str] = set()  # names bound in the cell's own scope to something unknown

    # -- resolving an expression to a dotted name

    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id == "__builtins__":
                return "builtins"
            if node.id in _BUILTIN_NAMES and node.id not in self.local:
                return f"builtins.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if func in ("builtins.getattr",) and len(node.args) >= 2:
                base, attr = self.resolve(node.args[0]), _constant(node.args[1])
                return f"{base}.{attr}" if base and attr else None
            if func in ("importlib.import_module", "builtins.__import__") and node.args:
                name = _constant(node.args[0])
                if name and func == "builtins.__import__":
                    fromlist = node.args[3] if len(node.args) > 3 else None
                    for kw in node.keywords:
                        if kw.arg == "fromlist":
                            fromlist = kw.value
                    return name if fromlist is not None else name.split(".")[0]
                return name
            if func in _CALL_RESULTS:
                return _CALL_RESULTS[func]
            return None
        if isinstance(node, ast.Subscript):
            base = self.resolve(node.value)
            key = _constant(node.slice)
            if base == "sys.modules" and key:
                return key
            if base in ("builtins.globals", "builtins.vars", "builtins.locals"):
                return None
            return None
        return None

    # -- binding names

    def bind(self, target: ast.AST, value: str | None) -> None:
        if isinstance(target, ast.Name):
            old = self.env.get(target.id)
            if old and old.startswith("lenet_course.check") and value != old:
                self.dynamic(target, f"replaces {target.id!r} ({old}), which the check cells call")
            if value:
                self.env[target.id] = value
                self.local.discard(target.id)
            else:
                self.env.pop(target.id, None)
                self.local.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element.value if isinstance(element, ast.Starred) else element, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None)
        else:  # an attribute or a subscript: a change to something
            self.store(target)

    def store(self, target: ast.AST) -> None:
        path = self.resolve(target)
        if isinstance(target, ast.Subscript):
            base = self.resolve(target.value)
            if base in ("builtins.globals", "builtins.vars", "builtins.locals"):
                self.dynamic(target, _DYNAMIC[base])
            self.visit(target.value)
            self.visit(target.slice)
            return
        if path:
            self.seen(path, True, target)
        else:
            self.visit(target)

    # -- statements

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.env[alias.asname] = alias.name
                self.local.discard(alias.asname)
                self.seen(alias.name, False, node)
            else:
                top = alias.name.split(".")[0]
                self.env[top] = top
                self.local.discard(top)
                self.seen(alias.name, False, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            if alias.name == "*":
                for name in _star_names(node.module):
                    self.env[name] = f"{node.module}.{name}"
                    self.local.discard(name)
                self.seen(node.module, False, node)
                continue
            bound = alias.asname or alias.name
            self.env[bound] = f"{node.module}.{alias.name}"
            self.local.discard(bound)
            self.seen(f"{node.module}.{alias.name}", False, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        value = self.resolve(node.value)
        for target in node.targets:
            self.bind(target, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.bind(node.target, self.resolve(node.value) if node.value is not None else None)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self.bind(node.target, None)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, self.resolve(node.value))

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.bind(target, None)

    def _scope(self, args: ast.arguments | None, body: Iterable[ast.AST]) -> None:
        inner = _Resolver(dict(self.env), self.seen, self.dynamic)
        inner.local = set(self.local)
        if args is not None:
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    inner.env.pop(arg.arg, None)
                    inner.local.add(arg.arg)
        for statement in body:
            inner.visit(statement)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
            self.visit(default)
        self.bind(ast.Name(node.name), None)
        self._scope(node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in node.args.defaults:
            self.visit(default)
        self._scope(node.args, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for item in [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]:
            self.visit(item)
        self.bind(ast.Name(node.name), None)
        self._scope(None, node.body)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.bind(node.target, None)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, None)
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(ast.Name(node.name), None)
        for statement in node.body:
            self.visit(statement)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self.bind(node.target, None)
        for condition in node.ifs:
            self.visit(condition)

    def _comprehension(self, node: Any, parts: list[ast.AST]) -> None:
        inner = _Resolver(dict(self.env), self.seen, self.dynamic)
        inner.local = set(self.local)
        for generator in node.generators:
            inner.visit(generator)
        for part in parts:
            inner.visit(part)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    # -- expressions

    def visit_Name(self, node: ast.Name) -> None:
        if node.id not in self.env and node.id != "__builtins__":
            return  # a builtin used by its plain name (print, len) or a name of the learner's own
        path = self.resolve(node)
        if path:
            self.seen(path, False, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.resolve(node)
        if path:
            self.seen(path, False, node)
        else:
            self.visit(node.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.startswith("/proc"):
            self.dynamic(node, f"reads {node.value[:40]!r} (the machine's processes)")

    def visit_Subscript(self, node: ast.Subscript) -> None:
        path = self.resolve(node)
        if path:
            self.seen(path, False, node)
        self.visit(node.value)
        self.visit(node.slice)

    def visit_Call(self, node: ast.Call) -> None:
        func = self.resolve(node.func)
        if func in ("importlib.import_module", "builtins.__import__") and node.args and not _constant(node.args[0]):
            self.dynamic(node, "imports a module whose name is computed at run time")
        if func == "builtins.getattr" and len(node.args) >= 2 and not _constant(node.args[1]):
            base = self.resolve(node.args[0])
            if base and base.split(".")[0] in ("lenet_course", "builtins", "sys", _SHELL):
                self.dynamic(node, f"looks up a computed attribute of {base}")
        if func in ("builtins.setattr", "builtins.delattr") and node.args:
            base = self.resolve(node.args[0])
            attr = _constant(node.args[1]) if len(node.args) > 1 else None
            if base:
                self.seen(f"{base}.{attr}" if attr else base, True, node)
        if func in _DYNAMIC:
            self.dynamic(node, _DYNAMIC[func])
        path = self.resolve(node)
        if path:
            self.seen(path, False, node)
        self.generic_visit(node)


def _star_names(module: str) -> list[str]:
    if module.split(".")[0] not in NAMESAKE_ROOTS:
        return []
    try:
        loaded = importlib.import_module(module)
    except Exception:
        return []
    names = getattr(loaded, "__all__", None)
    if names is None:
        names = [n for n in vars(loaded) if not n.startswith("_")]
    return [str(n) for n in names]


def _is_checker_call(path: str) -> bool:
    """``lenet_course.check.<name>`` where ``name`` is a public checker function: what check cells call."""
    parts = path.split(".")
    if len(parts) != 3 or parts[:2] != ["lenet_course", "check"] or parts[2].startswith("_"):
        return False
    obj = _lookup(path)
    return callable(obj) and not isinstance(obj, type) and getattr(obj, "__module__", "").startswith("lenet_course.")


def review_cells(
    cells: list[tuple[str, bool, str | None]],
    namesakes_of: Mapping[str, Mapping[int, str]],
) -> list[Flag]:
    """Flags for the cells a person should look at.

    ``cells``: each code cell of the graded notebook in order, as ``(source,
    written_by_the_learner, exercise it answers or None)``. Every cell is
    walked (names bound in the chapter's own cells count later); only cells
    the learner wrote or changed are reported. ``namesakes_of``: from
    :func:`namesakes`, for this chapter's exercises.
    """
    every: dict[int, str] = {}
    exercise_of: dict[int, str] = {}
    for exercise, objects in namesakes_of.items():
        for key, path in objects.items():
            every.setdefault(key, path)
            exercise_of.setdefault(key, exercise)
    env: dict[str, str] = {}
    flags: list[Flag] = []
    lookups: dict[str, Any] = {}
    for number, (source, learners, _answers) in enumerate(cells, start=1):
        reasons: list[str] = []

        def note(reason: str, learners: bool = learners, reasons: list[str] = reasons) -> None:
            kind = reason.split(" (")[0]
            if learners and not any(r.split(" (")[0] == kind for r in reasons):
                reasons.append(reason)

        def seen(path: str, store: bool, node: ast.AST, note: Any = note) -> None:
            root = path.split(".")[0]
            if root in NAMESAKE_ROOTS and every:
                if path not in lookups:
                    lookups[path] = _lookup(path)
                obj = lookups[path]
                if obj is not None and id(obj) in every:
                    exercise = exercise_of[id(obj)]
                    same = "" if every[id(obj)] == path else f", that is {every[id(obj)]}"
                    note(f"uses {path}{same}, a ready-made answer to exercise {exercise}")
            if path.startswith("lenet_course.check"):
                if store:
                    note(f"changes {path}, part of the checker")
                elif path in ("lenet_course.check",) or _is_checker_call(path):
                    pass
                else:
                    note(f"reaches into the checker ({path})")
                return
            for prefix, reason in _MACHINERY.items():
                if path == prefix or path.startswith(prefix + "."):
                    note(f"{reason} ({path.replace(_SHELL, 'get_ipython()')})")
                    return
            if store and root in ("sys", "builtins", "IPython", _SHELL):
                note(f"changes {path.replace(_SHELL, 'get_ipython()')}")

        def dynamic(node: ast.AST, reason: str, note: Any = note) -> None:
            note(reason)

        try:
            tree = ast.parse(_python(source))
        except (SyntaxError, ValueError):
            if learners:
                flags.append(Flag(number, "cannot be read as Python, so it was not reviewed"))
            continue
        resolver = _Resolver(env, seen, dynamic)
        for statement in tree.body:
            resolver.visit(statement)
        flags += [Flag(number, reason) for reason in reasons]
    return flags
