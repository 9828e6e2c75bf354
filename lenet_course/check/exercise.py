"""One declaration per exercise, run whole in a notebook or split between kernel and judge.

Used by every exercise checker (chapter 0 on). An :class:`Exercise` says:

- ``id`` ("1.1") and ``name``, what the learner defines (``conv_output_size``);
- ``cases()``: the :class:`Case` list, each a label and its ``inputs`` as plain
  data (numbers, lists, dicts, tensors; seeds, shapes and initial weights for
  a module, a pipeline or a training step);
- ``run(answer, inputs)``: how the learner's object is run on one case's
  inputs. This is the only part that runs in the learner's kernel;
- ``reference(inputs)``: the expected value (or :class:`Raises`), computed by
  the judge alone;
- ``compare(got, expected)``: ``None`` when right, else a
  :class:`~lenet_course.check.compare.Mismatch` (a case may bring its own);
- ``hint``: a nudge shown under the first failing case.

:meth:`Exercise.check` runs it WHOLE in the learner's process, unless the
environment variable :data:`lenet_course.check.wire.JUDGE_ENV` names a judge:
then it runs SPLIT (see :mod:`lenet_course.check.judge`). Both ways the answers
go through the same plain-data form (:mod:`lenet_course.check.wire`) and the
same :func:`judge_outcomes`, so the verdict text is the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import wire
from .compare import Mismatch, show

__all__ = [
    "AnswerError",
    "Case",
    "Exercise",
    "EXERCISES",
    "Judged",
    "Raises",
    "Verdict",
    "exception_text",
    "judge_outcomes",
    "run_case",
]


class AnswerError(Exception):
    """Raised by an exercise's ``run`` when the learner's answer cannot be used (not a dict, a missing key).

    Its message is shown after the case's label. With ``whole=True`` it is about
    the answer as a whole (an unknown quiz letter) and is shown on its own.
    """

    def __init__(self, message: str, whole: bool = False) -> None:
        super().__init__(message)
        self.whole = whole


@dataclass(frozen=True)
class Raises:
    """The expected outcome of a case that must raise this exception type (by name, e.g. ``"ValueError"``)."""

    exception: str

    def __str__(self) -> str:
        return f"raises {self.exception}"


@dataclass(frozen=True)
class Case:
    """One case: ``label`` as the learner reads it, ``inputs`` as plain data.

    ``expected`` (when given) stands for ``reference(inputs)``; ``compare`` (when
    given) replaces the exercise's comparison for this case. Both stay on the
    judge's side: the kernel only ever receives ``inputs``.
    """

    label: str
    inputs: Any = None
    expected: Any = field(default=None, repr=False)
    compare: Callable[[Any, Any], Mismatch | None] | None = field(default=None, repr=False)
    has_expected: bool = field(default=False, repr=False)

    @classmethod
    def fixed(
        cls, label: str, inputs: Any, expected: Any, compare: Callable[[Any, Any], Mismatch | None] | None = None
    ) -> Case:
        """A case whose expected value is given here instead of by the exercise's reference."""
        return cls(label, inputs, expected, compare, True)


@dataclass(frozen=True)
class Verdict:
    """What a checker found: true when every case passed.

    In a notebook it displays nothing: the printed verdict text is what the
    learner reads (and what nbval compares), so a check cell shows no stray
    ``True`` under it.
    """

    exercise: str
    passed: int
    total: int

    def __bool__(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def _ipython_display_(self) -> None:
        pass


@dataclass(frozen=True)
class Judged:
    """The judge's finding on one set of answers: counts, the text to print, the first failing case."""

    exercise: str
    passed: int
    total: int
    text: str
    first_failure: str | None


@dataclass(frozen=True)
class Exercise:
    """The one declaration of an exercise (see the module docstring)."""

    id: str
    name: str
    cases: Callable[[], list[Case]]
    run: Callable[[Any, Any], Any]
    reference: Callable[[Any], Any]
    compare: Callable[[Any, Any], Mismatch | None]
    hint: str
    noun: str = "cases correct"
    heading: str = "First failing case: "
    namesakes: tuple[str, ...] = ()  # the package's own implementations of the same thing

    def check(self, answer: Any) -> Verdict:
        """Judge ``answer``, print the verdict, return it: whole here, or split with the judge under grading."""
        address = os.environ.get(wire.JUDGE_ENV)
        if address:
            return self._ask_judge(answer, address)
        cases = self.cases()
        outcomes = [run_case(self, answer, wire.decode(wire.encode(case.inputs))) for case in cases]
        judged = judge_outcomes(self, cases, outcomes)
        print(judged.text)
        return Verdict(self.id, judged.passed, judged.total)

    def _ask_judge(self, answer: Any, address: str) -> Verdict:
        """SPLIT: the judge sends the inputs, ``answer`` runs on them here, the judge's verdict is printed."""
        try:
            reply = wire.ask(address, self.id, lambda inputs: run_case(self, answer, inputs))
        except (OSError, ValueError, wire.Closed, wire.WireError) as exc:
            print(f"Exercise {self.id}: could not reach the judge ({type(exc).__name__}), so nothing was recorded")
            return Verdict(self.id, 0, 0)
        if reply.get("ok") is not True:
            print(f"Exercise {self.id}: " + str(reply.get("error", "the judge refused this check"))[:300])
            return Verdict(self.id, 0, 0)
        print(str(reply.get("verdict", "")))
        if reply.get("judged_before"):
            print(
                f"  (Exercise {self.id} was already judged: only the first answer counts, this one was not looked at.)"
            )
        passed, total = reply.get("passed"), reply.get("total")
        if type(passed) is not int or type(total) is not int:
            return Verdict(self.id, 0, 0)
        return Verdict(self.id, passed, total)


EXERCISES: dict[str, Exercise] = {}


def declare(exercise: Exercise) -> Exercise:
    """Register ``exercise`` under its id (each id once) so that the judge can find it; returns it."""
    if exercise.id in EXERCISES:
        raise ValueError(f"exercise {exercise.id} is declared twice")
    EXERCISES[exercise.id] = exercise
    return exercise


def exception_text(exc: BaseException, lines: int = 3, limit: int = 300) -> str:
    """The first non-empty lines of an exception's message (enough to name the layer), at most ``limit`` chars."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    kept = [line.strip() for line in message.splitlines() if line.strip()][:lines]
    text = " / ".join(kept)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_case(exercise: Exercise, answer: Any, inputs: Any) -> dict[str, Any]:
    """Kernel side: run the learner's ``answer`` on one case's ``inputs``; the outcome as plain data.

    ``{"value": ...}`` (encoded), ``{"raised": {"types": [...], "message": ...}}``
    or ``{"refused": message, "whole": bool}``. ``NotImplementedError``, the
    stub of an exercise not yet attempted, passes through so that the notebook
    stops there.
    """
    try:
        value = exercise.run(answer, inputs)
    except NotImplementedError:
        raise
    except AnswerError as exc:
        return {"refused": exception_text(exc), "whole": exc.whole}
    except Exception as exc:  # the learner's code failed: report it, do not crash
        types = [kind.__name__ for kind in type(exc).__mro__]
        return {"raised": {"types": types, "message": exception_text(exc)}}
    try:
        return {"value": wire.encode(value)}
    except NotImplementedError:  # .cpu() of a tensor with no data (the meta device)
        raise
    except Exception as exc:  # a tensor PyTorch cannot copy to the CPU, say: the answer cannot be read
        return {"refused": f"returned a value that cannot be read ({type(exc).__name__}: {exception_text(exc)})"}


def _outcome_line(exercise: Exercise, case: Case, outcome: Any, expected: Any) -> Mismatch | None:
    """Judge side: ``None`` when ``outcome`` (as sent by the kernel) is right for ``case``, else why not."""
    if not isinstance(outcome, dict) or len(outcome) not in (1, 2):
        return Mismatch("sent an answer the judge cannot read")
    if "refused" in outcome:
        message = outcome["refused"]
        if not isinstance(message, str):
            return Mismatch("sent an answer the judge cannot read")
        return Mismatch(message[:300])
    if "raised" in outcome:
        raised = outcome["raised"]
        if (
            not isinstance(raised, dict)
            or not isinstance(raised.get("types"), list)
            or not all(isinstance(t, str) for t in raised["types"])
            or not raised["types"]
            or not isinstance(raised.get("message"), str)
        ):
            return Mismatch("sent an answer the judge cannot read")
        if isinstance(expected, Raises) and expected.exception in raised["types"]:
            return None
        name, message = raised["types"][0][:80], raised["message"][:300]
        text = f"raised {name}" + (f": {message}" if message else "")
        if isinstance(expected, Raises):
            text += f" (expected {expected.exception})"
        return Mismatch(text)
    if "value" not in outcome:
        return Mismatch("sent an answer the judge cannot read")
    try:
        got = wire.decode(outcome["value"])
    except (wire.WireError, RecursionError, ValueError, TypeError, OverflowError, RuntimeError):
        return Mismatch("sent an answer the judge cannot read")
    if isinstance(expected, Raises):
        return Mismatch(f"returned {show(got)}, expected it to raise {expected.exception}")
    return (case.compare or exercise.compare)(got, expected)


def judge_outcomes(exercise: Exercise, cases: list[Case], outcomes: Any) -> Judged:
    """Judge side: compare every outcome with its case's expected value; the verdict and its text.

    Each case counts once. ``outcomes`` comes from the kernel and may be
    anything: a case whose outcome cannot be read fails, it never crashes the judge.
    """
    if not isinstance(outcomes, list) or len(outcomes) != len(cases):
        outcomes = [None] * len(cases)
    passed, first, hint, whole = 0, None, exercise.hint, False
    for case, outcome in zip(cases, outcomes):
        expected = case.expected if case.has_expected else exercise.reference(wire.decode(wire.encode(case.inputs)))
        try:
            mismatch = _outcome_line(exercise, case, outcome, expected)
        except Exception as exc:  # a comparison must never take the judge down
            mismatch = Mismatch(f"could not be compared ({type(exc).__name__})")
        if mismatch is None:
            passed += 1
        elif first is None:
            whole = isinstance(outcome, dict) and outcome.get("whole") is True and "refused" in outcome
            first = mismatch.text if whole else f"{case.label} {mismatch.text}"
            hint = mismatch.hint or exercise.hint
    total = len(cases)
    if passed == total:
        text = f"Exercise {exercise.id}: {passed}/{total} {exercise.noun}. Well done!"
        return Judged(exercise.id, passed, total, text, None)
    heading = "Your answer: " if whole else exercise.heading
    lines = [f"Exercise {exercise.id}: {passed}/{total} {exercise.noun}.", f"  {heading}{first}", f"  Hint: {hint}"]
    return Judged(exercise.id, passed, total, "\n".join(lines), first)
