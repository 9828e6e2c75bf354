"""A pytest plugin that records each nbval cell's result, one JSON line per cell (for the grader).

Used by :mod:`lenet_course.instructor.grade`, for instructors.

Loaded by the grader in its sandbox (placed in the sandbox's read-only support folder and
loaded with ``-p``); it writes to the pipe whose file descriptor ``LENET_GRADE_RECORD_FD``
names as each cell finishes, so a run that is killed still leaves the results of the cells
it got through. The record only EXPLAINS a failure (the error, a timeout, a kernel that died):
the learner's kernel could write to it too, so no point is ever taken from it; points come
from the judge (:mod:`lenet_course.check.judge`).

It also makes nbval notice a kernel that died (``os._exit``, a crash): nbval
alone would wait for the whole cell timeout and then report a timeout.
"""

from __future__ import annotations

import json
import os
import re
import time
from queue import Empty
from typing import Any

import pytest

__all__ = ["KernelDied", "RECORD_ENV", "MAX_TEXT"]

RECORD_ENV = "LENET_GRADE_RECORD_FD"
MAX_TEXT = 4000  # characters kept of any message or diff
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class KernelDied(RuntimeError):
    """The notebook's kernel process exited while a cell was running."""


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = _ANSI.sub("", text)
    if len(text) <= limit:
        return text
    return text[: limit // 2] + f"\n... [{len(text) - limit} characters cut] ...\n" + text[-limit // 2 :]


def _write(record: dict) -> None:
    fd = os.environ.get(RECORD_ENV, "")
    if not fd.isdigit():
        return
    data = (json.dumps(record) + "\n").encode("utf-8")
    try:
        while data:
            data = data[os.write(int(fd), data) :]
    except OSError:  # the grader has gone: nothing to tell
        pass


def _patch_await_reply() -> None:
    """Poll the shell channel in short steps and give up as soon as the kernel is gone."""
    try:
        from nbval.kernel import RunningKernel
    except ImportError:  # nbval not installed: nothing to patch
        return
    if getattr(RunningKernel.await_reply, "_lenet_patched", False):
        return

    def await_reply(self: Any, msg_id: str, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 0.5
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Empty
                step = min(step, remaining)
            try:
                msg = self.get_message(stream="shell", timeout=step)
            except Empty:
                if not self.is_alive():
                    raise KernelDied("the kernel died while running this cell (the process exited)") from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                return

    await_reply._lenet_patched = True  # type: ignore[attr-defined]
    RunningKernel.await_reply = await_reply


def pytest_configure(config: pytest.Config) -> None:
    _patch_await_reply()


def _kernel_pid(item: Any) -> int | None:
    try:
        provisioner = item.parent.kernel.km.provisioner
        return int(provisioner.pid) if provisioner.pid else None
    except Exception:
        return None


_seen_kernels: set[int] = set()


def _text_of(item: Any, outputs: list) -> str:
    """The text a cell printed or displayed (after the sanitize patterns), as a learner saw it."""
    parts = []
    for output in outputs:
        if output.get("output_type") == "stream":
            parts.append(str(output.get("text", "")))
        elif output.get("output_type") in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain")
            parts.append(("".join(text) if isinstance(text, list) else str(text or "")) + "\n")
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}\n")
    text = "".join(parts)
    try:
        return str(item.sanitize(text))
    except Exception:
        return text


def _classify(item: Any, excinfo: Any) -> dict:
    exc = excinfo.value
    message = str(exc)
    if isinstance(exc, KernelDied):
        return {"outcome": "kernel_died", "message": message}
    if isinstance(exc, RuntimeError) and "Kernel dead" in message:
        return {"outcome": "kernel_dead", "message": "the kernel had already died in an earlier cell"}
    if "Timeout" in message:
        return {"outcome": "timeout", "message": message}
    if message == "Cell outputs differ":
        return {
            "outcome": "failed",
            "message": message,
            "expected": _clip(_text_of(item, getattr(item.cell, "outputs", []))),
            "got": _clip(_text_of(item, getattr(item, "test_outputs", None) or [])),
            "diff": _clip(getattr(exc, "inner_traceback", "") or ""),
        }
    errors = [o for o in (getattr(item, "test_outputs", None) or []) if o.get("output_type") == "error"]
    if errors:
        ename, evalue = str(errors[-1].get("ename", "")), str(errors[-1].get("evalue", ""))
        if ename == "KeyboardInterrupt" and getattr(item.parent, "timed_out", False):
            return {"outcome": "timeout", "message": message}
        return {"outcome": "error", "message": message, "ename": ename, "evalue": _clip(evalue, 500)}
    return {"outcome": "error", "message": _clip(f"{type(exc).__name__}: {message}", 500)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    yield
    cell_num = getattr(item, "cell_num", None)
    if cell_num is None:
        return
    pid = _kernel_pid(item)
    if pid is not None and pid not in _seen_kernels:
        _seen_kernels.add(pid)
        _write({"kernel_pid": pid})
    if call.when == "setup" and call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        record = {"outcome": "error", "message": _clip(f"the notebook could not start: {call.excinfo.value}", 500)}
    elif call.when != "call":
        return
    elif call.excinfo is None:
        record = {"outcome": "passed"}
    elif call.excinfo.errisinstance(pytest.skip.Exception):
        record = {"outcome": "skipped"}
    else:
        record = _classify(item, call.excinfo)
    record["cell"] = cell_num
    record["id"] = getattr(item, "cell", {}).get("id")
    _write(record)
