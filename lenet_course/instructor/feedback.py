"""The grader's reports: ``gradebook.csv`` and one Markdown feedback file per learner (for instructors).

Written by :func:`lenet_course.instructor.grade.grade` as each submission
finishes (:class:`Reports`), every file by atomic replace (a temporary file
beside it, then ``os.replace``), so a grader that crashes or is stopped keeps
every row it finished and never leaves half a file. ``gradebook.json`` holds
the same rows as plain data (what ``--resume`` reads back); ``gradebook.csv``
is for spreadsheets, with every cell that a spreadsheet would run as a formula
(one that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
escaped by a leading single quote, as OWASP advises.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .marks import Chapter, Submission

__all__ = [
    "Reports",
    "write_gradebook",
    "write_feedback",
    "feedback_name",
    "spreadsheet_safe",
    "atomic_write",
    "feedback_text",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _points(value: float) -> str:
    return f"{value:.4g}"


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` when it could start a formula (OWASP)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def feedback_name(learner: str) -> str:
    """A file name for ``learner``'s feedback: readable ASCII plus a short hash of the exact name.

    ``José García`` and ``Josè Garcìa`` read alike but are two people: the hash
    tells their files apart, on every file system.
    """
    folded = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode("ascii")
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._-")[:60] or "learner"
    digest = hashlib.sha256(learner.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}.md"


def _columns(results: Iterable[Submission], chapters: dict[str, Chapter]) -> list[str]:
    results = list(results)
    used = [name for name in chapters if any(r.chapter == name for r in results)]
    numbers = [e.number for name in used for e in chapters[name].exercises]
    header = ["learner", "submission", "chapter", "status"]
    for number in numbers:
        header += [f"{number} points", f"{number} result"]
    header += ["total", "max", "seconds", "review", "notes"]
    return header


def gradebook_text(results: Iterable[Submission], chapters: dict[str, Chapter]) -> str:
    """The CSV text: one row per submission, each exercise's points and result, the total; cells escaped."""
    results = list(results)
    header = _columns(results, chapters)
    numbers = [h[: -len(" points")] for h in header if h.endswith(" points")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for sub in results:
        by_number = {r.number: r for r in sub.results}
        row = [sub.learner, str(sub.path), sub.chapter or "", sub.status]
        for number in numbers:
            result = by_number.get(number)
            row += [_points(result.points), result.summary] if result else ["", ""]
        row += [_points(sub.total), _points(sub.max_points), f"{sub.seconds:.1f}", "; ".join(sub.flags), sub.note]
        writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
    return buffer.getvalue()


def write_gradebook(results: list[Submission], chapters: dict[str, Chapter], path: Path) -> None:
    """Write ``gradebook.csv`` (atomic replace)."""
    atomic_write(Path(path), gradebook_text(results, chapters))


_ADVICE = {
    "passed": "",
    "failed": "The judge ran your answer on its cases and some were wrong. The first one is below: "
    "work it out by hand, fix your answer, and run the check cell again.",
    "error": "Running this exercise raised an error. Read the message, fix the cell, "
    "and run it again from a fresh kernel.",
    "timeout": "This exercise took too long. "
    "Look for a loop that never ends or work far larger than the exercise needs.",
    "missing": "The answer cell of this exercise is not in your notebook. "
    "Restore it (or download a fresh copy of the chapter) and put your answer there.",
    "not judged": "Your answer never reached the judge, so it earned no points. Run the chapter from a fresh "
    "kernel, top to bottom, without changing the check cells or the checker.",
    "not graded": "Your notebook could not be read, so nothing was graded.",
}


def _fence(text: str) -> list[str]:
    return ["```text", text.rstrip().replace("```", "'''"), "```"]


def feedback_text(learner: str, subs: Iterable[Submission], all_or_nothing: bool = False) -> str:
    """The Markdown feedback of one learner: a section per submitted chapter."""
    lines = [f"# Feedback for {learner}", ""]
    for sub in subs:
        lines += [f"## {sub.chapter or sub.path.name}: {_points(sub.total)}/{_points(sub.max_points)} points", ""]
        lines += [f"Submitted file: `{sub.path.name}`", ""]
        if sub.note:
            lines += [f"**{sub.status}**: {sub.note}", ""]
        if sub.results:
            lines += ["| Exercise | Result | Points |", "| --- | --- | --- |"]
            for r in sub.results:
                lines.append(f"| {r.number} | {r.summary} | {_points(r.points)}/{_points(r.max_points)} |")
            lines.append("")
            if any(r.total and 0 < r.passed < r.total for r in sub.results):
                lines += [
                    "Points are all or nothing: an exercise counts when every case is right."
                    if all_or_nothing
                    else "Points are shared out by cases: an exercise worth P points with p of its t cases right "
                    "earns P x p / t.",
                    "",
                ]
        for r in sub.results:
            if r.status == "passed":
                continue
            lines += [f"### Exercise {r.number}: {r.summary}", "", _ADVICE.get(r.status, "")]
            if r.total:
                earned = "" if all_or_nothing else f", worth {_points(r.points)} of its {_points(r.max_points)} points"
                lines += ["", f"{r.passed} of {r.total} cases right{earned}."]
            if r.detail:
                lines += ["", f"> {r.detail}"]
            if r.verdict.strip():
                lines += ["", "The judge's verdict:", "", *_fence(r.verdict)]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_feedback(results: list[Submission], directory: Path, all_or_nothing: bool = False) -> list[Path]:
    """One Markdown file per learner (atomic replace); returns the files written."""
    by_learner: dict[str, list[Submission]] = {}
    for sub in results:
        by_learner.setdefault(sub.learner, []).append(sub)
    written = []
    for learner, subs in by_learner.items():
        target = Path(directory) / feedback_name(learner)
        atomic_write(target, feedback_text(learner, subs, all_or_nothing))
        written.append(target)
    return written


class Reports:
    """The reports of one grading run, brought up to date as each submission finishes (thread-safe).

    ``order`` gives the rows' order (the submissions as found); a submission
    added again replaces its row, so a row is never counted twice.
    """

    def __init__(
        self,
        out: Path,
        chapters: dict[str, Chapter],
        order: Iterable[str] = (),
        all_or_nothing: bool = False,
        keep: Iterable[Submission] = (),
    ) -> None:
        self.out = Path(out)
        self.chapters = chapters
        self.all_or_nothing = all_or_nothing
        self._order = {key: i for i, key in enumerate(order)}
        self._rows: dict[str, Submission] = {}
        self._lock = threading.Lock()
        for sub in keep:
            self._rows[str(sub.path)] = sub

    @property
    def gradebook(self) -> Path:
        return self.out / "gradebook.csv"

    @property
    def feedback(self) -> Path:
        return self.out / "feedback"

    def rows(self) -> list[Submission]:
        with self._lock:
            return self._sorted()

    def _sorted(self) -> list[Submission]:
        last = len(self._order)
        return sorted(self._rows.values(), key=lambda s: (self._order.get(str(s.path), last), str(s.path)))

    def add(self, sub: Submission) -> None:
        """Record ``sub`` and rewrite the gradebook and its learner's feedback file."""
        with self._lock:
            self._rows[str(sub.path)] = sub
            rows = self._sorted()
            self._write(rows, [sub.learner])

    def write_all(self) -> None:
        """Rewrite every report (the gradebook, and every learner's feedback)."""
        with self._lock:
            rows = self._sorted()
            self._write(rows, sorted({s.learner for s in rows}))

    def _write(self, rows: list[Submission], learners: list[str]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write(self.gradebook, gradebook_text(rows, self.chapters))
        atomic_write(self.out / "gradebook.json", json.dumps([s.to_dict() for s in rows], indent=1) + "\n")
        for learner in learners:
            subs = [s for s in rows if s.learner == learner]
            atomic_write(self.feedback / feedback_name(learner), feedback_text(learner, subs, self.all_or_nothing))


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``gradebook.json`` as plain data; an empty list when there is none or it is unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


def class_summary(rows: Iterable[Submission], chapters: dict[str, Chapter]) -> str:
    """The class at a glance: per exercise, how many passed, the mean points, the most common first failing case.

    The first failing case is the judge's (the case the learner's answer first
    got wrong), else the result (``error: NameError``): where a class trips
    together, an idea was missed.
    """
    from collections import Counter

    rows = list(rows)
    lines = [
        "| Exercise | Submissions | Passed | Mean points | Most common first failing case |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, chapter in chapters.items():
        for exercise in chapter.exercises:
            results = [r for row in rows if row.chapter == name for r in row.results if r.number == exercise.number]
            if not results:
                continue
            passed = sum(r.status == "passed" for r in results)
            mean = sum(r.points for r in results) / len(results)
            failing = Counter((r.first_failure or r.summary) for r in results if r.status != "passed")
            common = ""
            if failing:
                case, count = failing.most_common(1)[0]
                common = f"{case.replace('|', '/')} ({count} of {len(results) - passed})"
            lines.append(
                f"| {exercise.number} | {len(results)} | {passed} ({100 * passed / len(results):.0f}%) "
                f"| {mean:.2f}/{_points(exercise.points)} | {common} |"
            )
    return "\n".join(lines) + "\n"
