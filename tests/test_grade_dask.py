"""Grading on Dask distributed, on a real LocalCluster of 2 worker processes: same rows, none lost, none twice."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from lenet_course.instructor.distributed import CRASHED, cluster_client, grade_on_dask
from lenet_course.instructor.grade import Options, grade
from lenet_course.instructor.sandbox import SandboxUnavailable, probe

from .hostile_submissions import HOSTILE, build

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_output_size_formula.ipynb"
OPTIONS = Options(timeout=240, cell_timeout=60)
CLASS = ["reference", "release", "partial_credit", "dying_kernel", "invalid_json"]

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def client():
    try:
        probe()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no sandbox here: {exc}")
    client = cluster_client(None, jobs=2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def _class(tmp_path: Path, names: list[str], extra: dict[str, str] | None = None) -> tuple[Path, Path]:
    """A folder of submissions built from ``tests/hostile/`` files, and a snapshot of the reference."""
    picked, reference = tmp_path / "picked", tmp_path / "chapters"
    picked.mkdir()
    reference.mkdir()
    shutil.copy(CHAPTER, reference / CHAPTER.name)
    for name in names:
        shutil.copy(HOSTILE / f"{name}.py", picked / f"{name}.py")
    for name, source in (extra or {}).items():
        shutil.copy(HOSTILE / f"{source}.py", picked / f"{name}.py")
        text = (picked / f"{name}.py").read_text()
        (picked / f"{name}.py").write_text(text.replace("# base:", f"# learner: {name}\n# base:", 1))
    subs = tmp_path / "submissions"
    build(reference / CHAPTER.name, subs, {}, picked)
    return subs, reference


def _rows(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.pop("seconds")
    return rows


def test_the_gradebook_equals_the_local_grader_s(client, tmp_path):
    subs, reference = _class(tmp_path, CLASS)
    grade([subs], reference, tmp_path / "local", options=OPTIONS, jobs=2)
    summary = grade_on_dask([subs], reference, tmp_path / "dask", OPTIONS, client=client)
    assert _rows(tmp_path / "dask") == _rows(tmp_path / "local")
    assert (summary.graded, summary.skipped) == (len(CLASS), 0)
    # 1.1: reference and dying_kernel pass, partial_credit earns 9/14, release and invalid_json nothing
    assert "| 1.1 | 5 | 2 (40%) | 0.53/1 |" in summary.table
    assert "| 1.2 | 5 | 2 (40%) | 0.40/1 |" in summary.table
    assert (tmp_path / "dask" / "summary.md").read_text().count("| 1.") == 3


def _executing(client) -> dict[str, tuple[int, list[str]]]:
    def probe_worker(dask_worker):
        return os.getpid(), [str(ts.key) for ts in dask_worker.state.executing]

    try:
        return client.run(probe_worker, nanny=False, on_error="ignore")
    except Exception:  # a worker is being restarted
        return {}


@contextlib.contextmanager
def _kill_while_grading(client, should_kill):
    """Within the block, SIGKILL the worker process running a task when ``should_kill(key, seconds it has run)``."""
    stop = threading.Event()

    def killer():
        seen: dict[str, float] = {}
        dead: set[int] = set()
        while not stop.is_set():
            for _, (pid, keys) in _executing(client).items():
                for key in keys:
                    started = seen.setdefault(key, time.monotonic())
                    if pid not in dead and should_kill(key, time.monotonic() - started):
                        dead.add(pid)
                        seen.pop(key)
                        os.kill(pid, signal.SIGKILL)
                        break
            stop.wait(0.3)

    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(client, tmp_path):
    """One worker is killed in the middle of a task: that notebook is graded again elsewhere, every row once."""
    subs, reference = _class(tmp_path, ["reference", "release", "wrong_answers", "partial_credit"])
    killed: list[str] = []

    def once(key: str, seconds: float) -> bool:
        if not killed and seconds >= 3:  # mid-task: its sandbox runs
            killed.append(key)
            return True
        return False

    with _kill_while_grading(client, once):
        summary = grade_on_dask([subs], reference, tmp_path / "out", OPTIONS, client=client)
    rows = _rows(tmp_path / "out")
    assert len(killed) == 1
    assert sorted(r["learner"] for r in rows) == ["partial_credit", "reference", "release", "wrong_answers"]
    totals = {r["learner"]: r["total"] for r in rows}
    assert totals == {"reference": "3", "release": "0", "wrong_answers": "0", "partial_credit": "2.643"}, _describe(
        killed, rows
    )
    assert all(r["status"] == "graded" for r in rows) and summary.graded == 4 and not summary.failures.get(CRASHED)


def test_a_notebook_whose_workers_die_twice_is_marked_and_the_rest_is_graded(client, tmp_path):
    """A poisoned submission's worker is killed each time it grades it: after two deaths it is passed over."""
    subs, reference = _class(tmp_path, ["reference"], {"poison": "reference"})
    poison = _key_of(str(subs / "poison" / CHAPTER.name))
    deaths: list[str] = []

    def each_time(key: str, seconds: float) -> bool:
        if key.startswith(poison) and seconds >= 1:
            deaths.append(key)
            return True
        return False

    with _kill_while_grading(client, each_time):
        summary = grade_on_dask([subs], reference, tmp_path / "out", OPTIONS, client=client)
    rows = {r["learner"]: r for r in _rows(tmp_path / "out")}
    assert len(deaths) == 2, deaths  # allowed-failures 1: the second death is the last
    assert sorted(rows) == ["poison", "reference"]
    assert rows["poison"]["status"] == CRASHED and rows["poison"]["total"] == "0"
    assert rows["poison"]["1.1 result"] == "not graded"
    assert rows["reference"]["status"] == "graded" and rows["reference"]["total"] == "3", _describe(
        deaths, list(rows.values())
    )
    assert summary.failures[CRASHED] == 1 and summary.graded == 2


def _describe(killed, rows: list[dict]) -> str:
    lines = [f"killed: {killed}"]
    for row in rows:
        results = {k: v for k, v in row.items() if k.endswith(" result")}
        lines.append(f"{row['learner']}: {row['status']} {row['total']} {results} {row['notes']}")
    return "\n".join(lines)


def _key_of(path: str) -> str:
    from lenet_course.instructor.distributed import task_key

    return task_key(path)


def test_resume_after_an_interrupted_run_grades_only_what_was_missing(client, tmp_path):
    subs, reference = _class(tmp_path, ["reference", "release", "wrong_answers", "partial_credit"])
    out = tmp_path / "out"

    class Interrupted(Exception):
        pass

    arrived = []

    def interrupt_after_two(sub):
        arrived.append(sub.learner)
        if len(arrived) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        grade_on_dask([subs], reference, out, OPTIONS, client=client, progress=interrupt_after_two)
    assert len(_rows(out)) == 2  # what finished before the interruption is kept
    graded_again = []
    summary = grade_on_dask([subs], reference, out, OPTIONS, client=client, resume=True, progress=graded_again.append)
    assert (summary.skipped, summary.graded) == (2, 2)
    assert sorted(s.learner for s in graded_again) == sorted(
        set(["reference", "release", "wrong_answers", "partial_credit"]) - set(arrived)
    )
    rows = _rows(out)
    assert sorted(r["learner"] for r in rows) == ["partial_credit", "reference", "release", "wrong_answers"]
    # the same submission against another reference is graded again
    chapter = reference / CHAPTER.name
    chapter.write_text(chapter.read_text().replace('"points": 1', '"points": 2', 1))
    summary = grade_on_dask([subs], reference, out, OPTIONS, client=client, resume=True)
    assert (summary.skipped, summary.graded) == (0, 4)
