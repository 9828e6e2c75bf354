"""What grading finds: a chapter's graded exercises, and each submission's marks (for instructors).

The plain records that :mod:`~lenet_course.instructor.grade` fills in and
:mod:`~lenet_course.instructor.feedback` writes out (the gradebook, the
learners' feedback); :mod:`~lenet_course.instructor.distributed` sends them
between machines as plain data (:meth:`Submission.to_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Exercise", "Chapter", "Reference", "ExerciseResult", "Submission"]


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
class Reference:
    """Everything trusted that grading reads, read once before any submission runs.

    ``digest`` fingerprints all of it, so a row graded against other
    chapters, rules or support files is told apart (``--resume``).
    """

    chapters: dict[str, Chapter]
    sanitize: str
    support: dict[str, bytes]
    digest: str


@dataclass
class ExerciseResult:
    """What grading found for one exercise."""

    number: str
    status: str  # passed, failed, error, timeout, missing, not judged, not graded
    detail: str = ""
    points: float = 0.0
    max_points: float = 1.0
    passed: int = 0  # cases the judge found right
    total: int = 0  # cases the judge ran (0: not judged)
    verdict: str = ""  # the judge's verdict text
    first_failure: str = ""  # the judge's first failing case, as the learner reads it

    @property
    def summary(self) -> str:
        """The gradebook cell's text: ``passed``, ``failed 7/12`` (cases right), ``error: NotImplementedError``..."""
        if self.status == "failed" and self.total:
            return f"failed {self.passed}/{self.total}"
        if self.status == "error":
            return f"error: {self.detail.split(':', 1)[0].split(' (')[0]}" if self.detail else "error"
        if self.status == "timeout":
            return "timed out"
        return self.status

    def __repr__(self) -> str:
        return f"ExerciseResult({self.number}: {self.summary}, {self.points:g}/{self.max_points:g})"


@dataclass
class Submission:
    """One graded notebook: who, which chapter, the result of each exercise, what to review."""

    path: Path
    learner: str
    chapter: str | None
    status: str = "graded"
    note: str = ""
    results: list[ExerciseResult] = field(default_factory=list)
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)  # cells a person should look at; the marks stand
    fingerprint: str = ""  # hash of the submission and the reference it was graded against

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """The submission as plain data (JSON, or a task's result on another machine)."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Submission:
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        results = [ExerciseResult(**r) for r in data.pop("results", [])]
        return cls(path=Path(data.pop("path")), results=results, **data)

    def __repr__(self) -> str:
        return f"Submission({self.learner!r}, {self.chapter!r}, {self.status!r}, {self.total:g}/{self.max_points:g})"
