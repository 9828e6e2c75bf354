"""Grading a class on Dask distributed: each submission one task, nothing lost when a worker dies (for instructors).

``lenet-grade SUBMISSIONS --scheduler ADDRESS`` (README, "For instructors")
sends every submission as one task to a Dask cluster; without
``--scheduler`` the same code runs on a ``LocalCluster`` of ``--jobs`` worker
processes, so a laptop and a cluster take one path.

- The client (the instructor's machine) reads the reference once
  (:func:`~lenet_course.instructor.grade.read_reference`) and sends it to the
  cluster once, as the result of a task that every grading task depends on:
  each worker fetches it once, and the scheduler can make it again if every
  worker holding it dies (scattered data would be lost for good). Each task
  carries only its submission's bytes, its path and its learner.
- A task grades one submission exactly as the local grader does
  (:class:`~lenet_course.instructor.grade.Grader`: its own sandbox, the judge
  beside it in the worker's process, the same limits) and returns plain data:
  the gradebook row and the feedback text.
- Rows are merged into the reports as they arrive (atomic replace), keyed by
  the submission, so a task run twice (its first worker died) is counted once.
- ``--resume`` skips submissions whose row in ``gradebook.json`` has the same
  fingerprint (the submission's bytes, the reference, the options).
- A worker that dies mid-task has its task rescheduled by Dask; a submission
  whose task was on two workers that died is marked ``not graded: crashed the
  grader twice`` (the scheduler's ``allowed-failures`` set to 1), and the run goes on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .feedback import Reports, class_summary, feedback_text, read_rows
from .grade import (
    ExerciseResult,
    Grader,
    Options,
    Reference,
    Submission,
    _check_out,
    _read_bytes,
    _read_submission,
    find_submissions,
    fingerprint,
    learner_of,
    match_chapter,
    read_reference,
)
from .sandbox import SandboxUnavailable, probe

__all__ = ["Summary", "grade_on_dask", "CRASHED", "cluster_client", "task_key"]

CRASHED = "not graded: crashed the grader twice"
ALLOWED_FAILURES = 1  # a task survives one dead worker; the second death is the submission's doing


@dataclass
class Summary:
    """What a run did: rows written, rows skipped (``--resume``), failures by kind, wall time, the class table."""

    rows: list[Submission]
    graded: int  # rows written by this run
    skipped: int  # rows kept from an earlier run
    seconds: float
    failures: Counter = field(default_factory=Counter)
    table: str = ""

    def text(self) -> str:
        """The end-of-run summary, as printed."""
        rate = 60 * self.graded / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"rows written: {self.graded} ({rate:.1f} notebooks a minute); kept from an earlier run: {self.skipped}",
            "failures by kind: "
            + (", ".join(f"{kind} {count}" for kind, count in self.failures.most_common()) or "none"),
            f"wall time: {self.seconds:.0f} s",
            "",
            self.table,
        ]
        return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- the worker's side

_GRADERS: dict[tuple, Grader] = {}
_LOCK = threading.Lock()


def _grader(reference: Reference, options: Options, no_sandbox: bool) -> Grader:
    """The worker's grader for this reference and these options: built once per worker process."""
    key = (reference.digest, options, no_sandbox)
    with _LOCK:
        if key not in _GRADERS:
            try:
                from distributed import get_worker

                threads = get_worker().state.nthreads
            except (ImportError, ValueError, AttributeError):
                threads = 1
            grader = Grader(reference, options, probe(no_sandbox), jobs=threads)
            grader.namesakes()
            _GRADERS.clear()
            _GRADERS[key] = grader
        return _GRADERS[key]


def grade_task(
    reference: Reference, options: Options, no_sandbox: bool, path: str, learner: str, data: bytes | None
) -> dict[str, Any]:
    """One task: grade one submission on this worker; its row and feedback text, as plain data."""
    submission = _grader(reference, options, no_sandbox).grade(Path(path), learner, data)
    return {
        "row": submission.to_dict(),
        "feedback": feedback_text(learner, [submission], options.all_or_nothing),
        "worker": os.getpid(),
    }


def _the_reference(reference: Reference) -> Reference:
    return reference


def worker_sandbox(no_sandbox: bool) -> str:
    """Run on each worker before grading: how it seals notebooks, or why it cannot (one line)."""
    try:
        return probe(no_sandbox).describe()
    except SandboxUnavailable as exc:
        return f"error: {exc}"


# ---------------------------------------------------------------- the client's side


def cluster_client(scheduler: str | None, jobs: int) -> Any:
    """A client of the cluster at ``scheduler``, or of a new ``LocalCluster`` of ``jobs`` worker processes."""
    import dask
    from distributed import Client, LocalCluster

    dask.config.set(
        {
            "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
            # one task on a worker thread at a time: a dead worker takes only the task it was grading with it
            "distributed.scheduler.worker-saturation": 1.0,
        }
    )
    if scheduler:
        return Client(scheduler, timeout="30s")
    cluster = LocalCluster(
        n_workers=jobs,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: several graders may run on one machine
        silence_logs=logging.ERROR,
        memory_limit=0,  # notebooks are limited by their sandboxes; the grader itself needs little
    )
    return Client(cluster)


def task_key(path: str | Path) -> str:
    """The start of the key of the task grading ``path`` (each run adds its own token after it)."""
    return "grade-" + hashlib.sha256(str(path).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _crashed(
    path: Path, learner: str, chapter: str | None, reference: Reference, data: bytes | None, options
) -> Submission:
    results = []
    if chapter in reference.chapters:
        results = [
            ExerciseResult(e.number, "not graded", CRASHED, max_points=e.points)
            for e in reference.chapters[chapter].exercises
        ]
    return Submission(
        path,
        learner,
        chapter,
        status=CRASHED,
        note="the workers grading this notebook died twice; grade it alone to see why",
        results=results,
        fingerprint=fingerprint(data, reference, options),
    )


def grade_on_dask(
    submissions: Iterable[Path],
    reference: Path,
    out: Path,
    options: Options | None = None,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    no_sandbox: bool = False,
    client: Any = None,
    progress: Callable[[Submission], None] | None = None,
    planned: Callable[[int, int], None] | None = None,
) -> Summary:
    """Grade every submission as a task on a Dask cluster and keep the reports up to date as rows arrive.

    ``client``: an existing ``distributed.Client`` (tests); otherwise one of
    :func:`cluster_client`, closed at the end.
    """
    start = time.monotonic()
    options = options or Options()
    trusted = read_reference(Path(reference))
    submissions = [Path(p) for p in submissions]
    _check_out(Path(out), Path(reference), [p for p in submissions if p.is_dir()])
    found = find_submissions(submissions)
    missing = [str(p) for p, _ in found if not p.exists()]
    if missing:
        raise FileNotFoundError(f"submission not found: {', '.join(missing)}")

    earlier = {row.get("path"): row for row in read_rows(Path(out) / "gradebook.json")} if resume else {}
    kept: list[Submission] = []
    todo: list[tuple[Path, str, str | None, bytes | None]] = []
    for path, root in found:
        data, _ = _read_bytes(path)
        nb, _ = _read_submission(path) if data is not None else (None, "")
        chapter = match_chapter(path, nb, trusted.chapters)
        learner = learner_of(path, chapter, root)
        row = earlier.get(str(path))
        if row is not None and row.get("fingerprint") == fingerprint(data, trusted, options):
            kept.append(Submission.from_dict(row))
        else:
            todo.append((path, learner, chapter, data))
    reports = Reports(Path(out), trusted.chapters, [str(p) for p, _ in found], options.all_or_nothing, keep=kept)
    if kept:
        reports.write_all()
    if planned is not None:
        planned(len(todo), len(kept))

    own = client is None
    if own:
        client = cluster_client(scheduler, jobs)
    graded = 0
    futures: dict = {}
    try:
        problems = {w: s for w, s in client.run(worker_sandbox, no_sandbox).items() if s.startswith("error")}
        if problems:
            worker, problem = next(iter(problems.items()))
            raise SandboxUnavailable(f"worker {worker} cannot grade: {problem[len('error: ') :]}")
        # the reference goes to the cluster once, as a task's result: workers fetch it from each other, once each,
        # and the scheduler can make it again if every worker holding it dies (scattered data would be lost)
        reference_future = client.submit(_the_reference, trusted, key=f"reference-{trusted.digest[:16]}", pure=False)
        try:
            client.replicate([reference_future])
        except Exception:  # a worker went away meanwhile: the others fetch it when they need it
            pass
        run = uuid.uuid4().hex[:8]
        futures = {}
        for path, learner, chapter, data in todo:
            future = client.submit(
                grade_task,
                reference_future,
                options,
                no_sandbox,
                str(path),
                learner,
                data,
                key=f"{task_key(path)}-{run}",
                pure=False,
            )
            futures[future] = (path, learner, chapter, data)
        from distributed import as_completed

        for future in as_completed(futures):
            path, learner, chapter, data = futures[future]
            try:
                submission = Submission.from_dict(future.result()["row"])
            except Exception as exc:  # the task failed: a worker death twice over, or the grader itself
                from distributed import KilledWorker

                if isinstance(exc, KilledWorker):
                    submission = _crashed(path, learner, chapter, trusted, data, options)
                else:
                    submission = Submission(
                        path,
                        learner,
                        chapter,
                        status="grading failed",
                        note=f"the grader failed: {type(exc).__name__}: {str(exc)[:200]}",
                        fingerprint="",
                    )
            reports.add(submission)
            graded += 1
            if progress is not None:
                progress(submission)
            future.release()
    except BaseException:
        if futures:  # an interrupted run leaves no task behind
            client.cancel(list(futures))
        raise
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    reports.write_all()
    rows = reports.rows()
    failures = _failures(rows)
    table = class_summary(rows, trusted.chapters)
    summary = Summary(rows, graded, len(kept), time.monotonic() - start, failures, table)
    from .feedback import atomic_write

    atomic_write(Path(out) / "summary.md", "# Grading summary\n\n" + summary.text())
    return summary


def _failures(rows: Iterable[Submission]) -> Counter:
    """Failures by kind: submissions that were not graded, and exercises by their result."""
    kinds: Counter = Counter()
    for row in rows:
        if row.status != "graded":
            kinds[row.status] += 1
            continue
        for result in row.results:
            if result.status != "passed":
                kinds[result.summary.split(" ")[0] if result.status == "failed" else result.summary] += 1
    return kinds
