"""Check the course on a machine with a CUDA GPU, in one go, and write one report (``make check-gpu``).

    python tools/check_gpu.py [--report artifacts/check-gpu/report.md] [--timeout 600]

For course authors and CI machines with a GPU. The steps, each run whatever
happened to the ones before it:

1. the environment: the GPU, PyTorch and the course's environment line;
2. the CUDA-only unit tests (``pytest -m cuda``);
3. the fused path's CUDA test (``tests/test_fused.py -m cuda``), named on its own;
4. every chapter under nbval with the GPU as the device (``LENET_COURSE_DEVICE=cuda``),
   one step per chapter, so that chapters 8, 9 and 11 (training, the gallery,
   the 1998 network) each get a line of their own;
5. a quick benchmark on the GPU: ``python -m lenet_course bench --device cuda --quick``.

The report (Markdown) has one line per step (passed or failed, seconds, the
summary line of its output) and the tail of each failing step's output. The
exit status is 0 only if every step passed. On a machine without a CUDA GPU it
says so in one line and exits 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBVAL = [
    "--nbval-lax",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    "lenet_course/instructor/nbval_sanitize.cfg",
]
TAIL = 4000  # characters of a failing step's output kept in the report


@dataclass
class Step:
    """One check: a command, the environment it adds, and how long it may take."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 600


@dataclass
class Outcome:
    step: Step
    ok: bool
    seconds: float
    summary: str
    output: str = ""


def _summary(output: str, returncode: int | None) -> str:
    """The line that says how a step went: pytest's last line, or the last non-empty line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("=") and any(w in line for w in ("passed", "failed", "error", "skipped", "no tests")):
            return line.strip("= ")
    for line in reversed(lines):
        if line.startswith("correctness:"):
            return line
    return lines[-1][:200] if lines else f"no output (exit status {returncode})"


def run_step(step: Step, cwd: Path = ROOT) -> Outcome:
    """Run one step; a failure of any kind (exit status, timeout, missing program) is recorded, never raised."""
    tic = time.perf_counter()
    env = {**os.environ, **step.env}
    try:
        done = subprocess.run(
            step.command, cwd=cwd, env=env, capture_output=True, text=True, timeout=step.timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:  # what it printed before it was stopped, stdout then stderr
        printed = [s.decode(errors="replace") if isinstance(s, bytes) else s for s in (exc.stdout, exc.stderr)]
        output = "".join(s for s in printed if s)
        return Outcome(step, False, time.perf_counter() - tic, f"timed out after {step.timeout:.0f} s", output)
    except OSError as exc:
        return Outcome(step, False, time.perf_counter() - tic, f"could not start: {exc}")
    output = done.stdout + done.stderr
    summary = _summary(output, done.returncode)
    if done.returncode == 5 and "pytest" in " ".join(step.command):
        summary = f"no test found ({summary})"
    elif done.returncode != 0:
        summary = f"exit status {done.returncode}: {summary}"
    return Outcome(step, done.returncode == 0, time.perf_counter() - tic, summary, output)


def gpu_steps(python: str = sys.executable, timeout: float = 600) -> list[Step]:
    """The checks for a machine with a CUDA GPU, in order."""
    on_gpu = {"LENET_COURSE_DEVICE": "cuda", "LENET_COURSE_DATA": "sample", "LENET_COURSE_OFFLINE": "1"}
    environment = (
        "import torch; from lenet_course.environment import environment_report; "
        "print(environment_report('cuda')); "
        "print(torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0), 'CUDA', torch.version.cuda)"
    )
    steps = [
        Step("environment", [python, "-c", environment], timeout=120),
        Step("CUDA-only unit tests", [python, "-m", "pytest", "-m", "cuda", "-q", "-rfE", "tests"], on_gpu, timeout),
        Step(
            "fused path on CUDA (tests/test_fused.py)",
            [python, "-m", "pytest", "-m", "cuda", "-q", "-rfE", "tests/test_fused.py"],
            on_gpu,
            timeout,
        ),
    ]
    for chapter in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        steps.append(
            Step(
                f"chapter {chapter.stem} under nbval on cuda",
                [python, "-m", "pytest", "-q", "-rfE", *NBVAL, f"chapters/{chapter.name}"],
                on_gpu,
                timeout,
            )
        )
    steps.append(
        Step(
            "quick benchmark on cuda",
            [python, "-m", "lenet_course", "bench", "--device", "cuda", "--quick"],
            {"LENET_COURSE_OFFLINE": "1"},
            timeout,
        )
    )
    return steps


def write_report(outcomes: list[Outcome], path: Path, header: str) -> Path:
    """One Markdown report: a line per step, then the output tail of each failing step."""
    failed = [o for o in outcomes if not o.ok]
    lines = ["# make check-gpu", "", header]
    if not outcomes:
        lines = lines[:1] + ["", header]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    lines += [
        "",
        f"**{len(outcomes) - len(failed)} of {len(outcomes)} steps passed.**",
        "",
        "| step | result | seconds | summary |",
        "| --- | --- | ---: | --- |",
    ]
    for o in outcomes:
        summary = o.summary.replace("|", "\\|")
        lines.append(f"| {o.step.name} | {'passed' if o.ok else 'FAILED'} | {o.seconds:.0f} | {summary} |")
    for o in failed:
        lines += ["", f"## {o.step.name}", "", f"`{' '.join(o.step.command)}`", "", "```", o.output[-TAIL:], "```"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=ROOT / "artifacts" / "check-gpu" / "report.md")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed for each step (default 600)")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        line = "No CUDA GPU on this machine: make check-gpu has nothing to check (run it where a GPU is present)."
        print(line)
        write_report([], args.report, line)
        return 0
    header = f"{torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M')}"
    return check(gpu_steps(timeout=args.timeout), args.report, header)


def check(steps: list[Step], report: Path, header: str) -> int:
    """Run every step (each whatever happened before), write the report; 0 if all passed, else 1."""
    outcomes = []
    for step in steps:
        print(f"{step.name} ...", flush=True)
        outcome = run_step(step)
        outcomes.append(outcome)
        print(f"  {'passed' if outcome.ok else 'FAILED'} in {outcome.seconds:.0f} s: {outcome.summary}", flush=True)
    path = write_report(outcomes, report, header)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} steps passed; report: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
