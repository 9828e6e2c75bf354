"""The judge: verdicts computed outside the learner's process, for grading (issue: sealed grading).

Used by the grader (:mod:`lenet_course.instructor`); a learner never needs it.
The same exercise declarations (:mod:`lenet_course.check.exercise`) run here
SPLIT: the learner's kernel only runs the learner's object on inputs it is
sent, and this judge, a process outside the sandbox, holds the cases and the
expected values, computes every verdict and records it.

The contract
------------
``JUDGE_ENV = "LENET_COURSE_JUDGE"``
    Environment variable, read at each checker call, naming the judge's
    Unix-domain socket (as seen inside the sandbox). Set: every checker runs
    SPLIT. Unset: checkers run WHOLE, in-process.

``JudgeServer(socket_path, record_path, exercises=None)``
    ``start()``, ``close()``, or ``with JudgeServer(...) as judge:``. Serves
    connections in background threads of the grader's (trusted) process.
    ``exercises`` restricts what it judges (a chapter's exercise ids).
    Optional keywords: ``timeout`` (seconds allowed for each message, 600),
    ``max_message`` (bytes, 64 MiB), ``max_connections`` (at once, 4).

Wire format
    One connection per checker call. Each message is one JSON object on one
    line (UTF-8, ending with ``\\n``), at most ``max_message`` bytes; every
    request gets one reply. Values inside are plain data
    (:mod:`lenet_course.check.wire`: tensors as dtype, shape and base64 bytes;
    never pickle, nothing is ever evaluated).

    1. kernel: ``{"op": "cases", "exercise": "1.1"}``
       judge: ``{"ok": true, "exercise": "1.1", "cases": [inputs, ...]}``
    2. kernel runs the learner's object on each case's inputs, then:
       ``{"op": "answers", "exercise": "1.1", "answers": [outcome, ...]}``, one
       outcome per case: ``{"value": v}``, ``{"raised": {"types": [...],
       "message": str}}`` or ``{"refused": str, "whole": bool}``.
       judge: ``{"ok": true, "exercise": "1.1", "passed": int, "total": int,
       "verdict": str, "first_failure": str | null, "judged_before": bool}``.
    An error gets ``{"ok": false, "error": str}``; the kernel prints it as one
    line. The kernel prints ``verdict`` as it is: nothing the kernel prints
    or writes counts as a verdict.

First answers only
    The FIRST set of answers for each exercise id is judged and recorded;
    later ones are answered with the recorded verdict (``judged_before``:
    true; the kernel adds a line saying so) and change nothing, so a kernel
    cannot try answers until one passes.

The record
    JSON lines in ``record_path``, written only by the judge, one per judged
    exercise: ``{"exercise": "1.1", "passed": int, "total": int, "verdict":
    str (the text lines printed), "first_failure": str | null}``. Each case
    counts once, so partial credit is ``points * passed / total``.
    :func:`read_record` reads it back. A record already in ``record_path``
    when the server starts counts as judged.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import wire
from .exercise import EXERCISES, Case, Exercise, Judged, judge_outcomes
from .wire import JUDGE_ENV, MAX_MESSAGE, Closed, receive, send

__all__ = ["JUDGE_ENV", "MAX_MESSAGE", "JudgeServer", "read_record"]


def _record_line(judged: Judged) -> dict[str, Any]:
    return {
        "exercise": judged.exercise,
        "passed": judged.passed,
        "total": judged.total,
        "verdict": judged.text,
        "first_failure": judged.first_failure,
    }


def read_record(path: Path | str) -> dict[str, dict[str, Any]]:
    """The judge's record: exercise id -> ``{"exercise", "passed", "total", "verdict", "first_failure"}``.

    The first line for an exercise counts; lines that are not records are skipped.
    A missing file is an empty record.
    """
    records: dict[str, dict[str, Any]] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return records
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(record, dict)
            and isinstance(record.get("exercise"), str)
            and type(record.get("passed")) is int
            and type(record.get("total")) is int
            and isinstance(record.get("verdict"), str)
        ):
            records.setdefault(record["exercise"], record)
    return records


class JudgeServer:
    """Judges the exercises of one graded notebook over a Unix-domain socket (see the module docstring)."""

    def __init__(
        self,
        socket_path: Path,
        record_path: Path,
        exercises: Iterable[str] | None = None,
        *,
        timeout: float = 600.0,
        max_message: int = MAX_MESSAGE,
        max_connections: int = 4,
    ) -> None:
        _load_exercises()
        self.socket_path = Path(socket_path)
        self.record_path = Path(record_path)
        self.exercises = None if exercises is None else frozenset(str(e) for e in exercises)
        unknown = sorted((self.exercises or frozenset()) - set(EXERCISES))
        if unknown:
            raise ValueError(f"no exercise {', '.join(unknown)}; the course has {', '.join(EXERCISES)}")
        self.timeout, self.max_message = timeout, max_message
        self.errors: list[str] = []  # what went wrong with connections (never raised)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._cases: dict[str, list[Case]] = {}
        self._judged: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> JudgeServer:
        """Listen on ``socket_path`` and serve in a background thread; returns ``self``."""
        self._judged = read_record(self.record_path)
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        self.record_path.touch()
        if self.socket_path.exists() or self.socket_path.is_symlink():
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(8)
        listener.settimeout(0.2)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="lenet-course-judge", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, end open connections, remove the socket file. The record stays."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            self.socket_path.unlink()
        except FileNotFoundError:
            pass

    @property
    def judged(self) -> dict[str, dict[str, Any]]:
        """The records so far, by exercise id (a copy)."""
        with self._lock:
            return {k: dict(v) for k, v in self._judged.items()}

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            if not self._slots.acquire(blocking=False):
                self._refuse(conn, "the judge is busy with other connections")
                continue
            threading.Thread(target=self._handle, args=(conn,), name="lenet-course-judge-conn", daemon=True).start()

    def _refuse(self, conn: socket.socket, error: str) -> None:
        try:
            conn.settimeout(1.0)
            send(conn, {"ok": False, "error": error})
        except OSError:
            pass
        finally:
            conn.close()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
        buffer = bytearray()
        try:
            for _ in range(8):  # a checker call needs two messages
                if self._stop.is_set():
                    break
                try:
                    message = receive(conn, buffer, self.max_message, self.timeout)
                except Closed:
                    break
                except (ValueError, TimeoutError, RecursionError, UnicodeDecodeError) as exc:
                    self._note(f"unreadable message: {type(exc).__name__}: {str(exc)[:200]}")
                    conn.settimeout(5.0)
                    send(conn, {"ok": False, "error": "the judge could not read this message"})
                    break
                conn.settimeout(self.timeout)
                send(conn, self._reply(message))
        except Exception as exc:  # whatever a kernel does, the judge keeps serving
            self._note(f"connection ended: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()
            self._slots.release()

    def _note(self, error: str) -> None:
        with self._lock:
            if len(self.errors) < 1000:
                self.errors.append(error)

    def _exercise(self, message: dict[str, Any]) -> Exercise | str:
        number = message.get("exercise")
        if not isinstance(number, str) or number not in EXERCISES:
            return f"there is no exercise {str(number)[:20]!r}"
        if self.exercises is not None and number not in self.exercises:
            return (
                f"exercise {number} is not graded here (this notebook's exercises: {', '.join(sorted(self.exercises))})"
            )
        return EXERCISES[number]

    def _cases_of(self, exercise: Exercise) -> list[Case]:
        with self._lock:
            if exercise.id not in self._cases:
                self._cases[exercise.id] = exercise.cases()
            return self._cases[exercise.id]

    def _reply(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        exercise = self._exercise(message)
        if isinstance(exercise, str):
            return {"ok": False, "error": exercise}
        if op == "cases":
            with self._lock:
                before = self._judged.get(exercise.id)
            if before is not None:
                return self._verdict(before, judged_before=True)
            cases = self._cases_of(exercise)
            return {"ok": True, "exercise": exercise.id, "cases": [wire.encode(case.inputs) for case in cases]}
        if op == "answers":
            cases = self._cases_of(exercise)
            with self._lock:
                before = self._judged.get(exercise.id)
                if before is not None:
                    return self._verdict(before, judged_before=True)
                judged = judge_outcomes(exercise, cases, message.get("answers"))
                record = _record_line(judged)
                with self.record_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                self._judged[exercise.id] = record
            return self._verdict(record, judged_before=False)
        return {"ok": False, "error": "op must be 'cases' or 'answers'"}

    @staticmethod
    def _verdict(record: dict[str, Any], judged_before: bool) -> dict[str, Any]:
        return {"ok": True, **record, "judged_before": judged_before}


def _load_exercises() -> None:
    from .. import check  # noqa: F401  (importing the package declares every exercise)
