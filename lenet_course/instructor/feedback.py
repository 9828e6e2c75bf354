"""The grader's reports: ``gradebook.csv`` and one Markdown feedback file per learner (for instructors).

Written by :func:`lenet_course.instructor.grade.grade` from its results.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .grade import Chapter, Submission

__all__ = ["write_gradebook", "write_feedback"]


def _points(value: float) -> str:
    return f"{value:g}"


def write_gradebook(results: list[Submission], chapters: dict[str, Chapter], path: Path) -> None:
    """One row per submission: learner, chapter, status, each exercise's points and result, the total."""
    used = [name for name in chapters if any(r.chapter == name for r in results)]
    numbers = [e.number for name in used for e in chapters[name].exercises]
    header = ["learner", "submission", "chapter", "status"]
    for number in numbers:
        header += [f"{number} points", f"{number} result"]
    header += ["total", "max", "seconds", "notes"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for sub in results:
            by_number = {r.number: r for r in sub.results}
            row = [sub.learner, str(sub.path), sub.chapter or "", sub.status]
            for number in numbers:
                result = by_number.get(number)
                row += [_points(result.points), result.summary] if result else ["", ""]
            row += [_points(sub.total), _points(sub.max_points), f"{sub.seconds:.1f}", sub.note]
            writer.writerow(row)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "learner"


_ADVICE = {
    "passed": "",
    "failed": "Your code ran, but the check did not print the expected verdict. "
    "Compare the two outputs below, fix your answer, and run the check cell again.",
    "error": "Running this exercise raised an error. Read the message, fix the cell, "
    "and run it again from a fresh kernel.",
    "timeout": "This exercise took too long. "
    "Look for a loop that never ends or work far larger than the exercise needs.",
    "missing": "The answer cell of this exercise is not in your notebook. "
    "Restore it (or download a fresh copy of the chapter) and put your answer there.",
    "not graded": "Your notebook could not be read, so nothing was graded.",
}


def write_feedback(results: list[Submission], directory: Path) -> list[Path]:
    """One Markdown file per learner, with a section per submitted chapter."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_learner: dict[str, list[Submission]] = {}
    for sub in results:
        by_learner.setdefault(sub.learner, []).append(sub)
    written = []
    for learner, subs in by_learner.items():
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
            for r in sub.results:
                if r.status == "passed":
                    continue
                lines += [f"### Exercise {r.number}: {r.summary}", "", _ADVICE.get(r.status, "")]
                if r.detail:
                    lines += ["", f"> {r.detail}"]
                for title, text in (
                    ("Expected output", r.expected),
                    ("Your output", r.got),
                    ("nbval's comparison", r.diff),
                ):
                    if text.strip():
                        lines += ["", f"{title}:", "", "```text", text.rstrip().replace("```", "'''"), "```"]
                lines.append("")
        target = directory / f"{_safe_name(learner)}.md"
        target.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
        written.append(target)
    return written
