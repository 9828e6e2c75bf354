"""Grading learners' notebooks: each sealed in its own sandbox, every verdict from the judge (for instructors).

``python -m lenet_course grade SUBMISSIONS...`` (or ``lenet-grade``), README "For instructors".
Grading is a chain of small named steps, as in nbgrader's autograde:

1. **read the reference once** (:func:`read_reference`), before any notebook
   runs: the chapters, their exercises and points, the sanitize rules, the
   support files. Nothing a submission does can change them afterwards;
2. **match** each submission to its chapter and to its learner (the folder,
   when submissions come one folder per learner);
3. **restore the checks** (:func:`graded_notebook`): the learner's cells, with
   every check cell put back from the chapter;
4. **review** (:mod:`~lenet_course.instructor.review`): flag the cells a person
   should look at (the package's own answer used, the checker reached into);
5. **run sealed** (:mod:`~lenet_course.instructor.sandbox`): nbval runs every
   cell from a fresh kernel, inside bubblewrap, with limits on memory,
   processes and time, while the **judge** (:mod:`lenet_course.check.judge`)
   serves the check cells from the grader's own process, on a socket in a
   folder the sandbox sees read-only;
6. **score** (:func:`score`): points come from the judge's record only,
   ``points x passed / total`` (or all or nothing); nbval's record, which the
   learner's kernel could write to, only explains an exercise with no verdict
   (the error, a timeout, a kernel that died), at zero points;
7. **report** (:mod:`~lenet_course.instructor.feedback`): the gradebook and the
   learner's feedback, rewritten (atomic replace) as each submission finishes.

:func:`grade` runs these steps for each submission in a pool of ``jobs``
threads; the ``grade`` command runs the same :class:`Grader` as one Dask task
per submission (:mod:`~lenet_course.instructor.distributed`), locally or on a
cluster.

A broken submission (not JSON, not a notebook, an endless loop, a kernel that
dies, a flood of output, 6 GB of memory, a fork bomb, an unknown chapter) gets
its own row and never stops the others. The exit status is non-zero only when
grading itself cannot run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .feedback import Reports
from .marks import Chapter, Exercise, ExerciseResult, Reference, Submission
from .notebook_format import chapter_paths, check_of, exercise_of, points_of, support_files_filter
from .review import review_cells
from .sandbox import Isolation, Limits, Sandbox, SandboxRun, UidPool, probe

__all__ = [
    "Exercise",
    "Chapter",
    "Reference",
    "ExerciseResult",
    "Submission",
    "Options",
    "Grader",
    "read_reference",
    "load_reference",
    "match_chapter",
    "learner_of",
    "graded_notebook",
    "score",
    "find_submissions",
    "grade",
]

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_SUPPORT_BYTES = 64 * 1024 * 1024
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_RECORDER = "lenet_grade_recorder"
SANITIZE = Path(__file__).with_name(
    "nbval_sanitize.cfg"
)  # the normalisations nbval applies before comparing, shipped with the package


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


def _support_files(reference: Path) -> dict[str, bytes]:
    """The files beside the chapters that a notebook may open (data, images), as relative path -> bytes."""
    files: dict[str, bytes] = {}
    size = 0
    for directory, names, filenames in os.walk(reference):
        skipped = support_files_filter(directory, names + filenames)
        names[:] = sorted(n for n in names if n not in skipped)
        for name in sorted(filenames):
            path = Path(directory) / name
            if name in skipped or not path.is_file() or path.is_symlink():
                continue
            size += path.stat().st_size
            if size > MAX_SUPPORT_BYTES:
                raise ValueError(
                    f"the files beside the chapters in {reference} pass {MAX_SUPPORT_BYTES // 2**20} MiB; "
                    "keep only what the notebooks open"
                )
            files[path.relative_to(reference).as_posix()] = path.read_bytes()
    return files


def read_reference(reference: Path, sanitize: Path = SANITIZE) -> Reference:
    """Read the chapters, the sanitize rules and the support files once, from the trusted side."""
    chapters = load_reference(reference)
    rules = Path(sanitize).read_text(encoding="utf-8") if Path(sanitize).is_file() else ""
    support = _support_files(Path(reference))
    digest = hashlib.sha256()
    for name in sorted(chapters):
        digest.update(name.encode() + b"\0" + nbformat.writes(chapters[name].nb).encode() + b"\0")
    digest.update(rules.encode() + b"\0")
    for name in sorted(support):
        digest.update(name.encode() + b"\0" + hashlib.sha256(support[name]).digest())
    return Reference(chapters, rules, support, digest.hexdigest())


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


def learner_of(path: Path, chapter: str | None, root: Path | None = None) -> str:
    """Who submitted ``path``: the learner's folder, else what the file name adds to the chapter's.

    With ``root`` (the folder of submissions the grader was given), a file in a
    subfolder belongs to that subfolder's learner, whatever its name says:
    ``mallory/victim_01_x.ipynb`` is Mallory's. A file directly in ``root``, or
    named on the command line, is ``alice_01_x.ipynb`` -> ``alice``, or
    ``alice/01_x.ipynb`` -> ``alice``.
    """
    path = Path(path)
    if root is not None:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            parts = ()
        if len(parts) > 1:
            return parts[0]
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


def learner_cells(chapter: Chapter, graded: _Graded) -> list[tuple[str, bool, str | None]]:
    """Each code cell of ``graded`` as ``(source, written or changed by the learner, exercise it answers)``.

    A cell is the chapter's own when a cell with its id and the same source is
    in the chapter; answer cells, new cells and edited cells are the learner's.
    """
    reference = {c.get("id"): c.get("source", "") for c in chapter.nb.cells if c.get("cell_type") == "code"}
    answers = {answer: number for number, (answer, _check) in graded.positions.items() if answer is not None}
    cells = []
    code_number = -1
    for cell in graded.nb.cells:
        if cell.get("cell_type") != "code":
            continue
        code_number += 1
        source = str(cell.get("source", ""))
        own = check_of(cell) is None and (
            code_number in answers or reference.get(cell.get("id")) is None or reference[cell.get("id")] != source
        )
        cells.append((source, own, answers.get(code_number)))
    return cells


# ---------------------------------------------------------------- running nbval, sealed


@dataclass(frozen=True)
class Options:
    """How to grade: time limits, the sandbox's limits, partial credit, the device and data inside."""

    timeout: float = 900.0  # seconds for a whole notebook
    cell_timeout: float = 300.0  # seconds for one cell
    memory: int = Limits.memory
    processes: int = Limits.processes
    disk: int = Limits.disk
    all_or_nothing: bool = False
    device: str = "cpu"  # LENET_COURSE_DEVICE inside: recorded outputs were made on the CPU
    data: str = "sample"  # LENET_COURSE_DATA inside: the embedded sample, quick and the same for all

    @property
    def limits(self) -> Limits:
        return Limits(self.memory, self.processes, self.disk, self.timeout)


def _judge_api() -> Any:
    try:
        from ..check import judge
    except ImportError as exc:  # pragma: no cover - the course always ships its judge
        raise RuntimeError(f"this version of the course has no judge (lenet_course.check.judge): {exc}") from None
    return judge


def _declarations() -> list[Any]:
    """The exercises the course declares (id, answer name, namesakes), from :mod:`lenet_course.check`."""
    try:
        from .. import check  # noqa: F401  (importing the checkers declares every exercise)
        from ..check.exercise import EXERCISES
    except ImportError:
        return []
    return list(EXERCISES.values())


@dataclass
class _Run:
    records: dict[int, dict]
    sandbox: SandboxRun


def _records_of(channel: bytes) -> tuple[dict[int, dict], list[int]]:
    records: dict[int, dict] = {}
    kernels: list[int] = []
    for line in channel.decode("utf-8", "replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("kernel_pid"), int):
            kernels.append(item["kernel_pid"])
        elif isinstance(item.get("cell"), int):
            records.setdefault(item["cell"], item)
    return records, kernels


def _kill_kernel(pid: int) -> None:
    """Unsandboxed only: stop a kernel nbval left behind (a sandbox's PID namespace does it by itself)."""
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


def _sandbox_env(sandbox: Sandbox, options: Options, judge_socket: str, judge_env: str) -> dict[str, str]:
    """The whole environment of the run: nothing of the grader's (its variables may hold secrets)."""
    data = options.data
    if os.path.isdir(data):
        data = str(Path(data).resolve())
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": sandbox.support,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "LENET_COURSE_DATA": data,
        "LENET_COURSE_OFFLINE": "1",
        "LENET_COURSE_DEVICE": options.device,
        judge_env: judge_socket,
    }
    if sandbox.isolation.sealed:
        env.update(
            HOME="/tmp",
            TMPDIR="/tmp",
            MPLCONFIGDIR="/tmp/matplotlib",
            IPYTHONDIR="/tmp/ipython",
            JUPYTER_CONFIG_DIR="/tmp/jupyter/config",
            JUPYTER_DATA_DIR="/tmp/jupyter/data",
            JUPYTER_RUNTIME_DIR="/tmp/jupyter/runtime",
        )
    else:  # the instructor's own environment, as before sandboxes: --no-sandbox protects nothing
        base = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
        base["PYTHONPATH"] = env["PYTHONPATH"] + (os.pathsep + base["PYTHONPATH"] if base.get("PYTHONPATH") else "")
        env = {**base, **{k: v for k, v in env.items() if k != "PYTHONPATH"}}
    return env


def _nbval_command(sandbox: Sandbox, notebook: str, cell_timeout: float, sanitize: bool) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        f"{sandbox.workdir}/{notebook}",
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
        f"{sandbox.support}/pytest.ini",
        "--rootdir",
        sandbox.workdir,
        "-q",
        "--color=no",
        "--tb=no",
        "-rN",
    ]
    if sanitize:
        command += ["--nbval-sanitize-with", f"{sandbox.support}/nbval_sanitize.cfg"]
    return command


# ---------------------------------------------------------------- scoring


def _error_line(record: dict) -> str:
    if record.get("ename"):
        value = str(record.get("evalue", "")).strip().splitlines()
        return f"{record['ename']}: {value[0]}" if value else str(record["ename"])
    return str(record.get("message", "the cell raised an error"))


def _limit_hint(text: str, options: Options) -> str:
    """What limit an error message points at, if any."""
    if "MemoryError" in text or "can't allocate memory" in text or "Cannot allocate memory" in text:
        return f" (the grader allows {options.memory / 2**30:g} GiB of memory per process)"
    if "Resource temporarily unavailable" in text or "BlockingIOError" in text:
        return f" (the grader allows {options.processes} processes and threads)"
    return ""


def score(
    chapter: Chapter,
    graded: _Graded,
    records: dict[int, dict],
    judged: dict[str, dict],
    timed_out: bool,
    options: Options,
    log_tail: str = "",
) -> list[ExerciseResult]:
    """Each exercise's result: points from the judge's record ``judged`` alone; ``records`` (nbval's) only explain.

    An exercise the judge recorded earns ``points x passed / total`` (all or
    nothing with ``options.all_or_nothing``). One it did not record earns 0,
    and nbval's record of its cells says why: an error, a timeout, a kernel
    that died, a check that never reached the judge.
    """
    died_at = min((n for n, r in records.items() if r.get("outcome") in ("kernel_died", "timeout")), default=None)
    died_in = ""
    if died_at is not None:
        died_in = " (a cell that timed out)" if records[died_at].get("outcome") == "timeout" else ""
        for number, (answer, check) in graded.positions.items():
            if died_at == answer:
                died_in = f" (your answer to exercise {number})"
            elif died_at == check:
                died_in = f" (the check of exercise {number})"
    results = []
    for exercise in chapter.exercises:
        result = ExerciseResult(exercise.number, "error", max_points=exercise.points)
        results.append(result)
        verdict = judged.get(exercise.number)
        if verdict is not None:
            passed, total = int(verdict.get("passed", 0)), int(verdict.get("total", 0))
            result.passed, result.total = max(0, min(passed, total)), max(0, total)
            result.verdict = str(verdict.get("verdict", ""))
            right = result.total > 0 and result.passed == result.total
            result.status = "passed" if right else "failed"
            if right:
                result.points = exercise.points
            elif not options.all_or_nothing and result.total:
                result.points = exercise.points * result.passed / result.total
            if not right and verdict.get("first_failure"):
                result.first_failure = str(verdict["first_failure"])
                result.detail = f"first failing case: {result.first_failure}"
            continue
        answer, check = graded.positions[exercise.number]
        if exercise.exercise_id and answer is None:
            result.status = "missing"
            result.detail = (
                f"the answer cell of exercise {exercise.number} (id {exercise.exercise_id}) is not in the notebook; "
                "put your answer back in that cell"
            )
            continue
        answer_rec = records.get(answer) if answer is not None else None
        check_rec = records.get(check) if check is not None else None
        for record, what in ((answer_rec, "your answer"), (check_rec, "the check")):
            if record is None or record.get("outcome") in ("passed", "skipped", "failed"):
                continue
            outcome = record.get("outcome")
            if outcome == "timeout":
                result.status = "timeout"
                result.detail = (
                    f"{what} ran longer than the {options.cell_timeout:g} s allowed for one cell and was stopped"
                )
            elif outcome == "kernel_died":
                result.detail = (
                    f"kernel died: the Python process exited while running {what} (os._exit, a crash, or out of memory)"
                )
            elif outcome == "kernel_dead":
                result.detail = f"kernel died: not run, the kernel had died or been stopped in an earlier cell{died_in}"
            else:
                line = _error_line(record)
                result.detail = line + _limit_hint(line, options)
            break
        else:
            if check_rec is not None or (check is None and answer_rec is not None):
                result.status = "not judged"
                result.detail = (
                    "the check ran, but no answer reached the judge, so nothing was recorded "
                    "(only the judge's verdict counts: did a cell replace the checker or its output?)"
                )
            elif timed_out:
                result.status = "timeout"
                result.detail = f"not reached: the notebook ran past the total limit of {options.timeout:g} s"
            else:
                last = log_tail.strip().splitlines()[-1] if log_tail.strip() else ""
                result.detail = "not run: grading stopped before this exercise" + (f" ({last[:200]})" if last else "")
    return results


# ---------------------------------------------------------------- reading a submission


def _read_bytes(path: Path) -> tuple[bytes | None, str]:
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
        return path.read_bytes(), ""
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"


def _parse(data: bytes) -> tuple[Any | None, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"invalid notebook: cannot read it as UTF-8 text ({exc})"
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        return None, f"invalid notebook: not valid JSON ({exc})"
    if not isinstance(parsed, dict) or not isinstance(parsed.get("cells", parsed.get("worksheets")), list):
        return None, "invalid notebook: the JSON is not a Jupyter notebook (no list of cells)"
    major = parsed.get("nbformat")
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


def _read_submission(path: Path) -> tuple[Any | None, str]:
    data, problem = _read_bytes(Path(path))
    return (None, problem) if data is None else _parse(data)


def fingerprint(data: bytes | None, reference: Reference, options: Options) -> str:
    """What a row was graded from: the submission's bytes, the reference, the options that change marks."""
    digest = hashlib.sha256(data or b"")
    digest.update(reference.digest.encode())
    digest.update(f"all_or_nothing={options.all_or_nothing};data={options.data};device={options.device}".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- the grader


class Grader:
    """Grades submissions one by one (thread-safe: one sandbox and one judge per call).

    Built once per run from the trusted :class:`Reference`; ``isolation`` from
    :func:`~lenet_course.instructor.sandbox.probe`; ``jobs`` is how many
    notebooks may run at the same time (one user id each, as root).
    """

    def __init__(self, reference: Reference, options: Options, isolation: Isolation, jobs: int = 1) -> None:
        self.reference, self.options, self.isolation = reference, options, isolation
        self.uids = UidPool(jobs) if isolation.kind == "root" else None
        self._namesakes: dict[str, dict[int, str]] | None = None
        self._recorder = Path(__file__).with_name("nbval_record.py").read_bytes()
        self.judge = _judge_api()

    def namesakes(self) -> dict[str, dict[int, str]]:
        if self._namesakes is None:
            from .review import namesakes

            self._namesakes = namesakes(_declarations())
        return self._namesakes

    def grade(self, path: Path, learner: str, data: bytes | None = None) -> Submission:
        """Grade one submitted notebook (its ``data``, else the file at ``path``); never raises for a broken one."""
        path = Path(path)
        start = time.monotonic()
        problem = ""
        if data is None:
            data, problem = _read_bytes(path)
        nb, problem = _parse(data) if data is not None else (None, problem)
        chapters = self.reference.chapters
        chapter_name = match_chapter(path, nb, chapters)
        submission = Submission(
            path, learner, chapter_name, fingerprint=fingerprint(data, self.reference, self.options)
        )
        if chapter_name is None:
            submission.status = "unknown chapter"
            known = ", ".join(sorted(chapters))
            submission.note = f"no chapter matches {path.name!r}; name the file after its chapter ({known})"
            if problem:
                submission.note = f"{problem}; {submission.note}"
        elif nb is None:
            submission.status = "invalid notebook"
            submission.note = problem
            submission.results = [
                ExerciseResult(e.number, "not graded", "the notebook could not be read", max_points=e.points)
                for e in chapters[chapter_name].exercises
            ]
        else:
            self._grade_notebook(submission, chapters[chapter_name], nb)
        submission.seconds = time.monotonic() - start
        return submission

    def _grade_notebook(self, submission: Submission, chapter: Chapter, nb: Any) -> None:
        options = self.options
        graded = graded_notebook(chapter, nb)
        submission.flags = [
            str(flag) for flag in review_cells(learner_cells(chapter, graded), self._chapter_namesakes(chapter))
        ]
        declared = {e.id for e in _declarations()}
        numbers = [e.number for e in chapter.exercises if not declared or e.number in declared]
        uid = self.uids.take() if self.uids is not None else None
        try:
            with (
                tempfile.TemporaryDirectory(prefix="lenet-grade-") as private,
                Sandbox(self.isolation, options.limits, uid) as sandbox,
            ):
                judge_dir = Path(private) / "judge"
                if len(str(judge_dir)) > 80:  # a Unix socket's path has at most 107 bytes
                    judge_dir = Path(
                        tempfile.mkdtemp(prefix="lenet-judge-", dir="/tmp" if os.name == "posix" else None)
                    )
                else:
                    judge_dir.mkdir()
                os.chmod(judge_dir, 0o755)
                socket_path, record_path = judge_dir / "judge.sock", Path(private) / "judge.jsonl"
                inside = f"{sandbox.judge}/judge.sock" if self.isolation.sealed else str(socket_path)
                env = _sandbox_env(sandbox, options, inside, self.judge.JUDGE_ENV)
                files = {f"{chapter.name}.ipynb": nbformat.writes(graded.nb).encode("utf-8"), **self.reference.support}
                support = {
                    f"{_RECORDER}.py": self._recorder,
                    "pytest.ini": b"[pytest]\n",
                    "nbval_sanitize.cfg": self.reference.sanitize.encode("utf-8"),
                }
                command = _nbval_command(sandbox, f"{chapter.name}.ipynb", options.cell_timeout, bool(support))
                data_dirs = [Path(options.data).resolve()] if os.path.isdir(options.data) else []
                with self.judge.JudgeServer(socket_path, record_path, exercises=numbers):
                    os.chmod(socket_path, 0o666)  # the sandbox's own user id connects to it
                    run = sandbox.run(
                        command,
                        files,
                        env,
                        support=support,
                        judge_dir=judge_dir if self.isolation.sealed else None,
                        channel_env="LENET_GRADE_RECORD_FD",
                        data_dirs=data_dirs,
                    )
                judged = self.judge.read_record(record_path)
                if judge_dir.parent != Path(private):
                    shutil.rmtree(judge_dir, ignore_errors=True)
        finally:
            if uid is not None and self.uids is not None:
                self.uids.give(uid)
        records, kernels = _records_of(run.channel)
        if not self.isolation.sealed:
            for pid in kernels:
                _kill_kernel(pid)
        submission.results = score(chapter, graded, records, judged, run.timed_out, options, run.output)
        if run.timed_out:
            submission.note = (
                f"grading stopped after the total limit of {options.timeout:g} s; exercises not reached are marked "
                "timed out"
            )
        elif not records and not judged and any(r.status != "missing" for r in submission.results):
            submission.status = "grading failed"
            last = run.output.strip().splitlines()[-1] if run.output.strip() else f"exit code {run.returncode}"
            submission.note = f"nbval did not run the notebook: {last[:300]}"
        if submission.flags:
            review = "review by hand: " + "; ".join(submission.flags[:3])
            if len(submission.flags) > 3:
                review += f"; and {len(submission.flags) - 3} more"
            submission.note = f"{submission.note}; {review}" if submission.note else review

    def _chapter_namesakes(self, chapter: Chapter) -> dict[str, dict[int, str]]:
        numbers = {e.number for e in chapter.exercises}
        return {k: v for k, v in self.namesakes().items() if k in numbers}


def find_submissions(paths: Iterable[Path]) -> list[tuple[Path, Path | None]]:
    """Every notebook to grade, with the folder it was found in (``None`` for a file named directly)."""
    found: list[tuple[Path, Path | None]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += [
                (p, path) for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts and p.is_file()
            ]
        else:
            found.append((path, None))
    return found


def _check_out(out: Path, reference: Path, submissions: Iterable[Path]) -> None:
    here = Path(out).resolve()
    for folder, what in [
        (Path(reference), "the reference chapters"),
        *((Path(s), "the submissions") for s in submissions),
    ]:
        there = folder.resolve()
        if here == there or there in here.parents:
            raise ValueError(f"--out {out} is inside {what} ({folder}); write the reports elsewhere")


def grade(
    submissions: list[Path],
    reference: Path,
    out: Path,
    timeout: float = 900,
    cell_timeout: float = 300,
    jobs: int = 1,
    *,
    options: Options | None = None,
    no_sandbox: bool = False,
    isolation: Isolation | None = None,
    progress: Callable[[Submission], None] | None = None,
) -> list[Submission]:
    """Grade every submission (files, or folders searched for ``*.ipynb``) and write the reports to ``out``.

    The reports are brought up to date as each submission finishes. Raises
    (one line, before any notebook runs) for a missing reference or
    submission, or a sandbox this machine cannot start.
    """
    options = options or Options(timeout=timeout, cell_timeout=cell_timeout)
    isolation = isolation or probe(no_sandbox)
    trusted = read_reference(Path(reference))
    _check_out(Path(out), Path(reference), [Path(p) for p in submissions if Path(p).is_dir()])
    found = find_submissions([Path(p) for p in submissions])
    missing = [str(p) for p, _ in found if not p.exists()]
    if missing:
        raise FileNotFoundError(f"submission not found: {', '.join(missing)}")
    grader = Grader(trusted, options, isolation, jobs)
    grader.namesakes()  # once, before the jobs start
    reports = Reports(Path(out), trusted.chapters, [str(p) for p, _ in found], options.all_or_nothing)

    def one(item: tuple[Path, Path | None]) -> Submission:
        path, root = item
        nb, _ = _read_submission(path)
        learner = learner_of(path, match_chapter(path, nb, trusted.chapters), root)
        submission = grader.grade(path, learner)
        reports.add(submission)
        if progress is not None:
            progress(submission)
        return submission

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, found))
    reports.write_all()
    return results
