"""A generated class for trying the grader: N learners' chapter-1 notebooks, with the mistakes learners make.

For instructors (README, "For instructors"): ``python tools/make_class.py
class/ --learners 60`` writes ``class/learner_001/01_output_size_formula.ipynb``
and so on; ``lenet-grade class/ --jobs 2`` then grades them and prints the
class summary. Each learner's answer to each exercise is drawn (seeded) from
the right answer, a few wrong ones, and the untouched stub.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet_course.instructor.notebook_format import exercise_of, with_solution  # noqa: E402

RIGHT = None  # keep the chapter's solution
STUB = 'raise NotImplementedError("Exercise {number}: replace this line with your code")'
ANSWERS = {  # exercise -> [(weight, answer code or RIGHT or STUB)]
    "1.1": [
        (5, RIGHT),
        (3, "return (W - F + 2 * P) // S + 1"),  # no ValueError where the kernel does not tile
        (2, "return (W - F + 2 * P) / S + 1"),  # a float
        (1, "return (W - F) // S + 1"),  # padding forgotten
        (1, STUB),
    ],
    "1.2": [
        (6, RIGHT),
        (3, "answer_1_2 = dict(W=32, F=5, P=0, S=1)"),  # C1's configuration: 28, not 16
        (1, "answer_1_2 = dict(W=32, F=4, P=1, S=1)"),
        (1, STUB),
    ],
    "1.3": [
        (6, RIGHT),
        (3, "widths = [32, 28, 24, 20, 16, 12]"),  # every layer taken for a 5x5 convolution
        (1, "widths = [28, 14, 10, 5, 1]"),  # the input width left out
        (1, STUB),
    ],
}


def make_class(chapter: Path, folder: Path, learners: int, seed: int = 0) -> list[Path]:
    """Write ``learners`` notebooks under ``folder``; returns their paths."""
    rng = random.Random(seed)
    reference = nbformat.read(chapter, as_version=4)
    written = []
    for i in range(learners):
        nb = nbformat.reads(nbformat.writes(reference), as_version=4)
        for cell in nb.cells:
            number = exercise_of(cell)
            if number not in ANSWERS:
                continue
            weights, answers = zip(*ANSWERS[number])
            answer = rng.choices(answers, weights)[0]
            if answer is not RIGHT:
                cell.source = with_solution(cell.source, answer.format(number=number))
        target = folder / f"learner_{i + 1:03d}" / chapter.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chapter", type=Path, default=ROOT / "chapters" / "01_output_size_formula.ipynb")
    args = parser.parse_args(argv)
    written = make_class(args.chapter, args.folder, args.learners, args.seed)
    print(f"wrote {len(written)} notebooks under {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
