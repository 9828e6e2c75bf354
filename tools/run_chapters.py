"""Re-execute chapters in place, the way CI will run them (for course authors).

    python tools/run_chapters.py chapters/01_output_size_formula.ipynb ...

Each notebook runs top to bottom in a fresh ``python3`` kernel started in its
own folder, with the embedded data sample, on the CPU (``LENET_COURSE_DEVICE``
overrides it), so that recorded outputs are the same on every machine. Outputs
are stored, then what changes from run to run is removed
(``tools/notebook_hygiene.py``), and the file is only replaced once the whole
notebook has run without error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lenet_course.checkpoint import atomic_write  # noqa: E402
from tools.notebook_hygiene import clean, dumps  # noqa: E402


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    tic = time.perf_counter()
    # store_widget_state=True: with False, nbclient fails on Output widgets that capture output
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    client.execute()
    text = dumps(clean(json.loads(nbformat.writes(nb))))
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return time.perf_counter() - tic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args()
    os.environ.setdefault("LENET_COURSE_OFFLINE", "1")
    os.environ.setdefault("LENET_COURSE_DATA", "sample")
    os.environ.setdefault("LENET_COURSE_DEVICE", "cpu")  # recorded outputs say "device cpu" on every machine
    os.environ.pop("MPLBACKEND", None)
    failed = 0
    for path in args.notebooks:
        try:
            seconds = run(path, args.timeout)
        except CellExecutionError as exc:
            failed += 1
            print(f"{path}: FAILED, left unchanged\n{str(exc)[-2000:]}", file=sys.stderr)
        else:
            print(f"{path}: ran in {seconds:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
