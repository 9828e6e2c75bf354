"""Grading learners' notebooks with nbval, against the chapters (for instructors).

``python -m lenet_course grade SUBMISSIONS...`` (or ``lenet-grade``):

1. matches each submitted notebook to its chapter (notebook metadata, then file name);
2. builds a graded copy: the learner's cells, with every check cell replaced by
   the chapter's own (source *and* expected output), a deleted check cell put
   back after its exercise, and the learner's other outputs dropped;
3. runs the copy with nbval from a fresh kernel in a child process, in a
   temporary directory, with a per-cell and a total time limit;
4. maps each cell's result back to its exercise: passed, failed (with nbval's
   diff), error (with the exception line), timed out, or missing;
5. writes ``gradebook.csv`` (one row per submission) and one Markdown feedback
   file per learner.

A broken submission (not JSON, not a notebook, an endless loop, a kernel that
dies, a flood of output, an unknown chapter) gets its own row and never stops
the others. The exit status is non-zero only when grading itself cannot run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .feedback import write_feedback, write_gradebook
from .notebook_format import chapter_paths, check_of, exercise_of, points_of, support_files_filter

__all__ = [
    "Exercise",
    "Chapter",
    "ExerciseResult",
    "Submission",
    "load_reference",
    "match_chapter",
    "graded_notebook",
    "suspicious_cells",
    "grade_submission",
    "grade",
]

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
LOG_TAIL = 4000
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RECORDER = "lenet_grade_recorder"
SANITIZE = Path(__file__).with_name(
    "nbval_sanitize.cfg"
)  # the normalisations nbval applies before comparing, shipped with the package


@dataclass
class Exercise:
    """One graded exercise of a chapter: its number, points and the ids of its cells."""

    number: str
    points: float
    exercise_id: str | None
    check_id: str | None


@dataclass
class Chapter:
    """A reference chapter: its name (file stem), notebook and exercises in order."""

    name: str
    path: Path
    nb: Any
    exercises: list[Exercise]

    def __repr__(self) -> str:
        return f"Chapter({self.name!r}, exercises={[e.number for e in self.exercises]})"


@dataclass
class ExerciseResult:
    """What grading found for one exercise."""

    number: str
    status: str  # passed, failed, error, timeout, missing, not graded
    detail: str = ""
    points: float = 0.0
    max_points: float = 1.0
    diff: str = ""  # nbval's comparison, for a failed check
    expected: str = ""  # what the check should print
    got: str = ""  # what it printed

    @property
    def summary(self) -> str:
        """The short text of the gradebook cell, e.g. ``error: NotImplementedError``."""
        if self.status == "error":
            return f"error: {self.detail.split(':', 1)[0]}" if self.detail else "error"
        if self.status == "timeout":
            return "timed out"
        return self.status

    def __repr__(self) -> str:
        return f"ExerciseResult({self.number}: {self.summary}, {self.points:g}/{self.max_points:g})"


@dataclass
class Submission:
    """One graded notebook: who, which chapter, the result of each exercise."""

    path: Path
    learner: str
    chapter: str | None
    status: str = "graded"
    note: str = ""
    results: list[ExerciseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)

    def __repr__(self) -> str:
        return f"Submission({self.learner!r}, {self.chapter!r}, {self.status!r}, {self.total:g}/{self.max_points:g})"


# ---------------------------------------------------------------- reference


def _exercises_of(nb: Any) -> list[Exercise]:
    found: dict[str, Exercise] = {}
    for cell in nb.cells:
        number = exercise_of(cell)
        if number is not None and number not in found:
            found[number] = Exercise(number, points_of(cell), cell.get("id"), None)
    for cell in nb.cells:
        number = check_of(cell)
        if number is None:
            continue
        if number not in found:
            found[number] = Exercise(number, 1.0, None, cell.get("id"))
        elif found[number].check_id is None:
            found[number].check_id = cell.get("id")
    order = {}
    for i, cell in enumerate(nb.cells):
        number = exercise_of(cell) or check_of(cell)
        if number is not None:
            order.setdefault(number, i)
    return sorted(found.values(), key=lambda e: order[e.number])


def load_reference(reference: Path) -> dict[str, Chapter]:
    """The chapters of ``reference`` (a directory of chapter notebooks) by name."""
    reference = Path(reference)
    if not reference.is_dir():
        raise FileNotFoundError(f"no reference directory at {reference}; pass --reference chapters/")
    chapters = {}
    for path in chapter_paths(reference):
        nb = nbformat.read(path, as_version=4)
        chapters[path.stem] = Chapter(path.stem, path, nb, _exercises_of(nb))
    if not chapters:
        raise FileNotFoundError(f"no chapter notebooks (*.ipynb) in {reference}")
    return chapters


def match_chapter(path: Path, nb: Any | None, chapters: dict[str, Chapter]) -> str | None:
    """The chapter a submission answers: ``metadata.lenet_course.chapter``, else its file name."""
    if nb is not None:
        meta = nb.get("metadata", {}).get("lenet_course", {})
        name = meta.get("chapter") if isinstance(meta, dict) else None
        if isinstance(name, str) and name in chapters:
            return name
    stem = Path(path).stem
    if stem in chapters:
        return stem
    candidates = [name for name in chapters if name in stem]
    if candidates:
        return max(candidates, key=len)
    return None


def learner_of(path: Path, chapter: str | None) -> str:
    """The learner's name: the folder of ``alice/01_x.ipynb``, or what is left of ``alice_01_x.ipynb``."""
    path = Path(path)
    stem = path.stem
    if chapter and chapter in stem:
        rest = stem.replace(chapter, "").strip(" -_.()")
        if rest:
            return rest
        return path.parent.name or stem
    if re.match(r"^\d\d_", stem) and path.parent.name:  # named like a chapter, in the learner's folder
        return path.parent.name
    return stem


# ---------------------------------------------------------------- the graded notebook


def _new_id(taken: set[str]) -> str:
    while True:
        cell_id = uuid.uuid4().hex[:8]
        if cell_id not in taken:
            taken.add(cell_id)
            return cell_id


def _learner_cell(cell: Any) -> Any | None:
    kind = cell.get("cell_type")
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    metadata = cell.get("metadata", {})
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    if kind == "code":
        new = nbformat.v4.new_code_cell(source=str(source), metadata=metadata)
    elif kind == "markdown":
        new = nbformat.v4.new_markdown_cell(source=str(source), metadata=metadata)
    elif kind == "raw":
        new = nbformat.v4.new_raw_cell(source=str(source), metadata=metadata)
    else:
        return None
    new["id"] = cell.get("id")
    return new


@dataclass
class _Graded:
    nb: Any
    positions: dict[
        str, tuple[int | None, int | None]
    ]  # exercise -> (answer cell, check cell) as nbval's code-cell numbers


def graded_notebook(chapter: Chapter, submission: Any) -> _Graded:
    """The notebook to run: the learner's cells with every check restored from ``chapter``.

    Check cells (source, outputs, metadata) come from the chapter, whatever the
    submission holds in their place; a check the learner deleted, turned into
    markdown, or moved above its exercise is put back after the exercise. The
    learner's answer cells and other cells are kept, without their outputs.
    """
    ref_cells = chapter.nb.cells
    ref_index = {c.get("id"): i for i, c in enumerate(ref_cells)}
    check_ids = {e.check_id: e.number for e in chapter.exercises if e.check_id}
    check_numbers = {e.number for e in chapter.exercises if e.check_id}
    exercise_ids = {e.exercise_id: e.number for e in chapter.exercises if e.exercise_id}
    ref_check = {check_of(c): c for c in reversed(ref_cells) if check_of(c) is not None}  # the first one of each

    sub_cells = [c for c in submission.get("cells", []) if isinstance(c, dict)]

    def check_slot(cell: Any) -> str | None:
        if cell.get("id") in check_ids:
            return check_ids[cell.get("id")]
        number = check_of(cell)
        return number if number in check_numbers else None

    # the learner's answer cell for each exercise: same id, else same exercise number
    answer_at: dict[str, int] = {}
    for i, cell in enumerate(sub_cells):
        if cell.get("cell_type") == "code" and cell.get("id") in exercise_ids and check_slot(cell) is None:
            answer_at.setdefault(exercise_ids[cell.get("id")], i)
    for i, cell in enumerate(sub_cells):
        number = exercise_of(cell)
        if number is not None and number not in answer_at and check_slot(cell) is None:
            if any(e.number == number and e.exercise_id for e in chapter.exercises):
                answer_at[number] = i

    cells: list[tuple[str | None, str | None, Any]] = []  # (role, exercise, cell)
    placed: set[str] = set()
    taken = {e.check_id for e in chapter.exercises if e.check_id}
    for i, cell in enumerate(sub_cells):
        number = check_slot(cell)
        if number is not None:
            if number not in placed:
                placed.add(number)
                cells.append(("check", number, nbformat.from_dict(json.loads(json.dumps(ref_check[number])))))
            continue
        new = _learner_cell(cell)
        if new is None:
            continue
        role = None
        answered = [n for n, at in answer_at.items() if at == i]
        if answered:
            role = "answer"
        if not isinstance(new.get("id"), str) or not _CELL_ID.match(new["id"]) or new["id"] in taken:
            new["id"] = _new_id(taken)
        taken.add(new["id"])
        cells.append((role, answered[0] if answered else None, new))

    def where(role: str, number: str) -> int | None:
        for k, (r, n, _) in enumerate(cells):
            if r == role and n == number:
                return k
        return None

    for exercise in chapter.exercises:
        if not exercise.check_id:
            continue
        answer = where("answer", exercise.number)
        check = where("check", exercise.number)
        if exercise.exercise_id and answer is None:
            if check is not None:
                del cells[check]  # nothing to check: the exercise is missing
            continue
        if check is not None and (answer is None or check > answer):
            continue
        if check is not None:
            restored = cells.pop(check)
            answer = where("answer", exercise.number)
        else:
            restored = (
                "check",
                exercise.number,
                nbformat.from_dict(json.loads(json.dumps(ref_check[exercise.number]))),
            )
        # after the cell that precedes the check in the chapter, if the learner still has it, else after the answer
        at = None
        ids = {c.get("id"): k for k, (_, _, c) in enumerate(cells)}
        for j in range(ref_index.get(exercise.check_id, 0) - 1, -1, -1):
            if ref_cells[j].get("id") in ids:
                at = ids[ref_cells[j].get("id")] + 1
                break
        if answer is not None:
            at = answer + 1 if at is None or at <= answer else at
        cells.insert(len(cells) if at is None else at, restored)

    nb = nbformat.v4.new_notebook()
    nb.metadata = json.loads(json.dumps(chapter.nb.metadata))
    nb.cells = [c for _, _, c in cells]
    positions: dict[str, tuple[int | None, int | None]] = {}
    code_number = -1
    numbers: dict[tuple[str, str], int] = {}
    for role, number, cell in cells:
        if cell.get("cell_type") == "code":
            code_number += 1
            if role and number:
                numbers[(role, number)] = code_number
    for exercise in chapter.exercises:
        positions[exercise.number] = (numbers.get(("answer", exercise.number)), numbers.get(("check", exercise.number)))
    return _Graded(nb, positions)


_TAMPERING = [
    re.compile(r"\bcheck\s*\.\s*[\w.]+\s*=(?!=)"),  # check.conv_output_size = ...
    re.compile(r"setattr\s*\(\s*(check|lenet_course)\b"),
    re.compile(r"\b(builtins|__builtins__)\b"),
    re.compile(r"\bsys\s*\.\s*(stdout|modules)\b"),
    re.compile(r"^\s*(import\s+\S+\s+as\s+check\b|check\s*=(?!=))"),  # check = something else
]


def suspicious_cells(graded: _Graded) -> list[str]:
    """Learner cells that replace the checker, ``print`` or ``sys.stdout``: the grade stands, a person should look.

    Restoring the checks stops edits to them; code in the learner's own cells
    runs in the same kernel, so this flags the obvious ways of faking a verdict.
    """
    found = []
    number = -1
    for cell in graded.nb.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        if check_of(cell) is not None:
            continue
        for line in cell.source.splitlines():
            code = line.split("#", 1)[0]
            if any(p.search(code) for p in _TAMPERING):
                found.append(f"code cell {number + 1}: {line.strip()[:80]}")
                break
    return found


# ---------------------------------------------------------------- running nbval


@dataclass
class _Run:
    records: dict[int, dict]
    timed_out: bool
    returncode: int | None
    log_tail: str


def _read_tail(path: Path, limit: int = LOG_TAIL) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return _ANSI.sub("", fh.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def _kill_kernel(pid: int) -> None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"ipykernel" not in fh.read():
                return
    except OSError:
        if not hasattr(os, "killpg"):
            return
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
            return
        except (ProcessLookupError, PermissionError, OSError):
            continue


def _run_nbval(notebook: Path, cell_timeout: float, timeout: float, sanitize: Path | None) -> _Run:
    workdir = notebook.parent
    record = workdir / ".cells.jsonl"
    log = workdir / ".pytest.log"
    ini = workdir / ".pytest.ini"
    ini.write_text("[pytest]\n")
    # the recorder goes beside the notebook, so the child need not import the package (and torch) to load it
    shutil.copy(Path(__file__).with_name("nbval_record.py"), workdir / f"{_RECORDER}.py")
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # grade on the embedded sample unless the instructor names other data: quick, and the same for every learner
    env.setdefault("LENET_COURSE_DATA", "sample")
    env["LENET_GRADE_RECORD"] = str(record)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ("MPLBACKEND", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        notebook.name,
        "-p",
        "nbval.plugin",
        "-p",
        _RECORDER,
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-current-env",
        f"--nbval-cell-timeout={cell_timeout:g}",
        "-c",
        str(ini),
        "--rootdir",
        str(workdir),
        "-q",
        "--color=no",
        "--tb=no",
        "-rN",
    ]
    if sanitize is not None and sanitize.is_file():
        command += ["--nbval-sanitize-with", str(sanitize)]
    timed_out = False
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            returncode: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            returncode = None
    records: dict[int, dict] = {}
    kernels: list[int] = []
    try:
        lines = record.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if "kernel_pid" in item:
            kernels.append(int(item["kernel_pid"]))
        elif isinstance(item.get("cell"), int):
            records[item["cell"]] = item
    if timed_out or returncode not in (0, 1):
        for pid in kernels:
            _kill_kernel(pid)
    return _Run(records, timed_out, returncode, _read_tail(log))


# ---------------------------------------------------------------- results


def _error_line(record: dict) -> str:
    if record.get("ename"):
        value = str(record.get("evalue", "")).strip().splitlines()
        return f"{record['ename']}: {value[0]}" if value else str(record["ename"])
    return str(record.get("message", "the cell raised an error"))


def _results(chapter: Chapter, graded: _Graded, run: _Run, cell_timeout: float, timeout: float) -> list[ExerciseResult]:
    died_at = min((n for n, r in run.records.items() if r.get("outcome") in ("kernel_died", "timeout")), default=None)
    died_in = ""
    if died_at is not None:
        died_in = " (a cell that timed out)" if run.records[died_at].get("outcome") == "timeout" else ""
        for number, (answer, check) in graded.positions.items():
            if died_at == answer:
                died_in = f" (your answer to exercise {number})"
            elif died_at == check:
                died_in = f" (the check of exercise {number})"
    results = []
    for exercise in chapter.exercises:
        result = ExerciseResult(exercise.number, "error", max_points=exercise.points)
        answer, check = graded.positions[exercise.number]
        if exercise.exercise_id and answer is None:
            result.status = "missing"
            result.detail = (
                f"the answer cell of exercise {exercise.number} (id {exercise.exercise_id}) is not in the notebook; "
                "put your answer back in that cell"
            )
            results.append(result)
            continue
        answer_rec = run.records.get(answer) if answer is not None else None
        check_rec = run.records.get(check) if check is not None else None
        # passed: the answer cell ran cleanly and the check printed the expected verdict
        answer_ok = answer_rec is None or answer_rec.get("outcome") in ("passed", "skipped")
        decisive = check_rec if check is not None else answer_rec
        if answer_ok and decisive is not None and decisive.get("outcome") == "passed":
            result.status, result.points = "passed", exercise.points
            results.append(result)
            continue
        for record, what in ((answer_rec, "your answer"), (check_rec, "the check")):
            if record is None or record.get("outcome") in ("passed", "skipped", "failed"):
                continue
            outcome = record.get("outcome")
            if outcome == "timeout":
                result.status = "timeout"
                result.detail = f"{what} ran longer than the {cell_timeout:g} s allowed for one cell and was stopped"
            elif outcome == "kernel_died":
                result.detail = (
                    f"kernel died: the Python process exited while running {what} (os._exit, a crash, or out of memory)"
                )
            elif outcome == "kernel_dead":
                result.detail = f"kernel died: not run, the kernel had died or been stopped in an earlier cell{died_in}"
            else:
                result.detail = _error_line(record)
            break
        else:
            if check_rec is not None and check_rec.get("outcome") == "failed":
                result.status = "failed"
                result.detail = "the check's output differs from the expected one"
                result.expected = str(check_rec.get("expected", ""))
                result.got = str(check_rec.get("got", ""))
                result.diff = str(check_rec.get("diff", ""))
            elif run.timed_out:
                result.status = "timeout"
                result.detail = f"not reached: the notebook ran past the total limit of {timeout:g} s"
            else:
                result.detail = "not run: grading stopped before this exercise" + (
                    f" ({run.log_tail.strip().splitlines()[-1]})" if run.log_tail.strip() else ""
                )
        results.append(result)
    return results


def _read_submission(path: Path) -> tuple[Any | None, str]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    if size > MAX_NOTEBOOK_BYTES:
        return (
            None,
            f"invalid notebook: the file is {size / 2**20:.0f} MiB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MiB "
            "allowed; clear its outputs and submit again",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"invalid notebook: cannot read it as UTF-8 text ({exc})"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"invalid notebook: not valid JSON ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        return None, "invalid notebook: the JSON is not a Jupyter notebook (no list of cells)"
    major = data.get("nbformat")
    if not isinstance(major, int) or major < 3 or major > 4:
        return None, f"invalid notebook: nbformat {major!r} is not supported; save it from Jupyter (nbformat 4)"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"invalid notebook: nbformat cannot read it ({first})"
    if not all(isinstance(c, dict) and "cell_type" in c for c in nb.get("cells", [])):
        return None, "invalid notebook: some cells have no cell_type"
    return nb, ""


def _copy_support_files(reference: Path, workdir: Path) -> None:
    for item in reference.iterdir():
        if support_files_filter(str(reference), [item.name]):
            continue
        try:
            if item.is_dir():
                shutil.copytree(item, workdir / item.name, ignore=support_files_filter)
            elif item.is_file():
                shutil.copy2(item, workdir / item.name)
        except OSError:
            continue


def grade_submission(
    path: Path,
    chapters: dict[str, Chapter],
    reference: Path,
    timeout: float = 900,
    cell_timeout: float = 300,
    sanitize: Path | None = None,
) -> Submission:
    """Grade one submitted notebook; never raises for a broken submission."""
    path = Path(path)
    start = time.monotonic()
    nb, problem = _read_submission(path)
    chapter_name = match_chapter(path, nb, chapters)
    submission = Submission(path, learner_of(path, chapter_name), chapter_name)
    if chapter_name is None:
        submission.status = "unknown chapter"
        known = ", ".join(sorted(chapters))
        submission.note = f"no chapter matches {path.name!r}; name the file after its chapter ({known})"
        if problem:
            submission.note = f"{problem}; {submission.note}"
        submission.seconds = time.monotonic() - start
        return submission
    chapter = chapters[chapter_name]
    if nb is None:
        submission.status = "invalid notebook"
        submission.note = problem
        submission.results = [
            ExerciseResult(e.number, "not graded", "the notebook could not be read", max_points=e.points)
            for e in chapter.exercises
        ]
        submission.seconds = time.monotonic() - start
        return submission
    graded = graded_notebook(chapter, nb)
    with tempfile.TemporaryDirectory(prefix="lenet-grade-") as tmp:
        workdir = Path(tmp)
        _copy_support_files(Path(reference), workdir)
        notebook = workdir / f"{chapter_name}.ipynb"
        nbformat.write(graded.nb, notebook)
        run = _run_nbval(notebook, cell_timeout, timeout, sanitize)
    submission.results = _results(chapter, graded, run, cell_timeout, timeout)
    suspicious = suspicious_cells(graded)
    if run.timed_out:
        submission.note = (
            f"grading stopped after the total limit of {timeout:g} s; exercises not reached are marked timed out"
        )
    elif not run.records and any(r.status not in ("missing",) for r in submission.results):
        submission.status = "grading failed"
        last = run.log_tail.strip().splitlines()[-1] if run.log_tail.strip() else f"exit code {run.returncode}"
        submission.note = f"nbval did not run the notebook: {last}"
    if suspicious:
        review = "review by hand, a cell may fake a verdict: " + "; ".join(suspicious[:3])
        submission.note = f"{submission.note}; {review}" if submission.note else review
    submission.seconds = time.monotonic() - start
    return submission


def _expand(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def grade(
    submissions: list[Path],
    reference: Path,
    out: Path,
    timeout: float = 900,
    cell_timeout: float = 300,
    jobs: int = 1,
) -> list[Submission]:
    """Grade every submission (files, or folders searched for ``*.ipynb``) and write the reports to ``out``."""
    chapters = load_reference(reference)
    here, there = Path(out).resolve(), Path(reference).resolve()
    if here == there or there in here.parents:
        raise ValueError(f"--out {out} is inside the reference chapters; write the reports elsewhere")
    paths = _expand([Path(p) for p in submissions])
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"submission not found: {', '.join(missing)}")

    def one(path: Path) -> Submission:
        return grade_submission(path, chapters, Path(reference), timeout, cell_timeout, SANITIZE)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, paths))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_gradebook(results, chapters, out / "gradebook.csv")
    write_feedback(results, out / "feedback")
    return results
