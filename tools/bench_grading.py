"""Benchmark: notebooks graded per minute, local grader against the Dask path, side by side in one run.

For instructors sizing a grading run (README, "For instructors"). Builds N
copies of a chapter (the reference chapter itself, each in a learner's
folder), then grades them

- with the local grader (:func:`lenet_course.instructor.grade.grade`, a pool of
  ``--jobs`` threads, one sandbox each), and
- on Dask (:func:`lenet_course.instructor.distributed.grade_on_dask`, a
  ``LocalCluster`` of ``--jobs`` worker processes, its start included),

alternating the order each round, and prints notebooks per minute for each,
the ratio, and an estimate of notebooks per hour per core. Both grade exactly
the same way (the same sandbox and judge); what differs is the scheduling.

    python tools/bench_grading.py --notebooks 60 --jobs 2 [--rounds 1] [--json bench-results/grading.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_class(chapter: Path, folder: Path, count: int) -> Path:
    """``count`` learner folders, each holding a copy of ``chapter``."""
    for i in range(count):
        learner = folder / f"learner_{i + 1:03d}"
        learner.mkdir(parents=True, exist_ok=True)
        shutil.copy(chapter, learner / chapter.name)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--chapter", type=Path, default=ROOT / "chapters" / "01_output_size_formula.ipynb")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from lenet_course.instructor.distributed import grade_on_dask
    from lenet_course.instructor.grade import Options, grade

    options = Options()
    reference = args.chapter.parent
    times: dict[str, list[float]] = {"local": [], "dask": []}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = build_class(args.chapter, Path(tmp) / "submissions", args.notebooks)
        for round_ in range(args.rounds):
            order = ["local", "dask"] if round_ % 2 == 0 else ["dask", "local"]
            for variant in order:
                out = Path(tmp) / f"out-{variant}-{round_}"
                load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
                start = time.perf_counter()
                if variant == "local":
                    rows = grade([subs], reference, out, options=options, jobs=args.jobs)
                else:
                    rows = grade_on_dask([subs], reference, out, options, jobs=args.jobs).rows
                seconds = time.perf_counter() - start
                full = sum(r.total == r.max_points > 0 for r in rows)
                assert full == args.notebooks, f"{variant}: only {full} of {args.notebooks} notebooks got full marks"
                times[variant].append(seconds)
                print(
                    f"round {round_ + 1} {variant:5}: {args.notebooks} notebooks in {seconds:.0f} s "
                    f"({60 * args.notebooks / seconds:.2f} a minute; load average at start {load:.1f})",
                    flush=True,
                )
    cores = os.cpu_count() or 1
    result = {"notebooks": args.notebooks, "jobs": args.jobs, "cores": cores, "chapter": args.chapter.name}
    print()
    print("| Variant | Seconds (best) | Notebooks a minute | Relative to local |")
    print("| --- | ---: | ---: | ---: |")
    best_local = min(times["local"])
    for variant in ("local", "dask"):
        best = min(times[variant])
        rate = 60 * args.notebooks / best
        result[variant] = {"seconds": times[variant], "per_minute": rate}
        print(f"| {variant} (--jobs {args.jobs}) | {best:.0f} | {rate:.2f} | {best_local / best:.2f} |")
    overhead = min(times["dask"]) / best_local - 1
    per_core_hour = 3600 * args.notebooks / min(times["dask"]) / min(cores, args.jobs)
    result["dask_overhead"] = overhead
    result["notebooks_per_hour_per_core"] = per_core_hour
    print(f"\nDask overhead: {100 * overhead:+.1f}%; about {per_core_hour:.0f} notebooks an hour per core")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
