"""Grading on Dask distributed, on a real LocalCluster of 2 worker processes: same rows, none lost, none twice."""

from __future__ import annotations

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


def test_a_dead_worker_loses_and_duplicates_nothing_and_a_crasher_is_marked(client, tmp_path):
    """One worker is killed mid-task once; a poisoned submission's worker is killed each time it grades it."""
    subs, reference = _class(
        tmp_path, ["reference", "release", "wrong_answers", "partial_credit"], {"poison": "reference"}
    )
    poison = str(subs / "poison" / CHAPTER.name)
    killed = {"once": None, "poison": 0}
    stop = threading.Event()

    def killer():
        seen: dict[str, float] = {}
        while not stop.is_set():
            for _, (pid, keys) in _executing(client).items():
                for key in keys:
                    seen.setdefault(key, time.monotonic())
                    if time.monotonic() - seen[key] < 3:  # mid-task: its sandbox is running
                        continue
                    if key.startswith(_key_of(poison)) and killed["poison"] < 2:
                        killed["poison"] += 1
                    elif killed["once"] is None and not key.startswith(_key_of(poison)):
                        killed["once"] = key
                    else:
                        continue
                    os.kill(pid, signal.SIGKILL)
                    seen.clear()
            stop.wait(0.3)

    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    try:
        summary = grade_on_dask([subs], reference, tmp_path / "out", OPTIONS, client=client)
    finally:
        stop.set()
        watcher.join()
    rows = _rows(tmp_path / "out")
    assert killed["once"] is not None and killed["poison"] == 2
    assert sorted(r["learner"] for r in rows) == ["partial_credit", "poison", "reference", "release", "wrong_answers"]
    by_learner = {r["learner"]: r for r in rows}
    assert by_learner["poison"]["status"] == CRASHED and by_learner["poison"]["total"] == "0"
    assert [by_learner[n]["total"] for n in ("reference", "release", "wrong_answers")] == ["3", "0", "0"]
    assert by_learner["partial_credit"]["total"] == "2.643"
    assert summary.failures[CRASHED] == 1 and summary.graded == 5


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
