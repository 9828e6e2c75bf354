"""The command line: ``python -m lenet_course <command>`` (or ``lenet-course``).

Used by ``make train``, ``make bench``, ``make release`` and ``make grade``,
and by anyone training outside a notebook (chapter 8 shows ``fit``, which
``train`` runs).

Every command is declared here: its options, and their defaults, resolved
once, at this entry point, and passed down as plain arguments (nothing is
written back into ``args``). The work itself lives in the module that owns
it: :mod:`~lenet_course.training` (``train``), :mod:`~lenet_course.paper.reproduce`,
:mod:`~lenet_course.bench`, :mod:`~lenet_course.instructor.release` and
:mod:`~lenet_course.instructor.grade`.

``--device`` means the same in every command: ``auto`` (the default) is this
machine's best device (CUDA, then Apple's MPS, then the CPU); otherwise a
device name such as ``cpu`` or ``cuda``. ``bench`` also takes a
comma-separated list (``cpu,cuda``) to measure several side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "grade_main", "build_parser", "COMMANDS"]


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected batch sizes like 32,256,1024, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive batch sizes like 32,256,1024, got {text!r}")
    return sizes


def _add_device(p: argparse.ArgumentParser, several: bool = False) -> None:
    more = "; several, comma-separated, to compare them" if several else ""
    p.add_argument(
        "--device",
        default="auto",
        help=f"auto (this machine's best: cuda, then mps, then cpu), cpu, cuda or mps{more} (default auto)",
    )


def _device(name: str):
    """The device that ``--device`` names, checked; ``auto`` is the best one present."""
    from .environment import get_device

    return get_device(None if name == "auto" else name)


# ---------------------------------------------------------------- train

TRAIN_DEFAULTS = {  # (epochs, batch size) of each model when the user gives none
    "modern": (10, 32),  # the seed article's
    "classic": (20, 16),  # the paper's 20 passes; the batch size the recipe is tuned for
}


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        choices=("modern", "classic"),
        default="modern",
        help="modern: the seed article's LeNet-5 with Adam; classic: the 1998 network with the paper's recipe "
        "(default modern)",
    )
    p.add_argument(
        "--epochs", type=_positive(int), default=None, help="passes over the training set (default 10; 20 for classic)"
    )
    p.add_argument(
        "--batch-size",
        type=_positive(int),
        default=None,
        help="images per step (default 32, as the seed article; 16 for classic)",
    )
    p.add_argument(
        "--lr",
        type=_positive(float),
        default=1e-3,
        help="Adam's learning rate (default 0.001; --model classic uses the paper's schedule instead)",
    )
    p.add_argument(
        "--data",
        default="auto",
        help="auto (folder in LENET_COURSE_DATA, download, else the embedded sample), sample, "
        "or a folder of MNIST IDX files",
    )
    _add_device(p)
    p.add_argument("--out", type=Path, default=Path("runs/lenet5"), help="folder for the results (default runs/lenet5)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")


def _train(args: argparse.Namespace) -> int:
    """LeNet-5 end to end: ``best.pt`` (and ``best.last.pt``), ``metrics.json``, ``losses.png``, ``gallery.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .checkpoint import load_checkpoint
    from .data import EVAL_BATCH_SIZE, TensorLoader, load_mnist
    from .environment import environment_report, setup
    from .models import LeNet5
    from .plots import plot_history, prediction_gallery
    from .training import evaluate, fit

    default_epochs, default_batch = TRAIN_DEFAULTS[args.model]
    epochs = args.epochs or default_epochs
    batch_size = args.batch_size or default_batch
    classic = args.model == "classic"
    device = setup(args.seed, None if args.device == "auto" else args.device, quiet=True)
    data = load_mnist(args.data)  # says where the data came from
    print(environment_report(device))
    if classic:  # the 1998 network: SDLM, the paper's eta schedule, the MAP loss (see paper/recipe.py)
        from .paper.network import LeNet5Classic, classic_loader
        from .paper.recipe import paper_recipe

        model = LeNet5Classic(seed=args.seed).to(device)
        recipe = paper_recipe(model, data.train, batch_size=batch_size, seed=args.seed, device=device)
        train_loader, options = recipe.train_loader, recipe.fit_kwargs()

        def eval_loader(split):
            return classic_loader(split, batch_size=EVAL_BATCH_SIZE, device=device)
    else:
        model = LeNet5().to(device)
        train_loader = TensorLoader(data.train, batch_size, shuffle=True, seed=args.seed, device=device)
        options = dict(lr=args.lr)

        def eval_loader(split):
            return TensorLoader(split, EVAL_BATCH_SIZE, device=device)

    valid_loader = eval_loader(data.valid)
    args.out.mkdir(parents=True, exist_ok=True)
    best = args.out / "best.pt"
    history = fit(
        model,
        train_loader,
        valid_loader,
        epochs,
        device=device,
        checkpoint=best,
        resume=args.resume,
        progress=sys.stderr.isatty(),
        **options,
    )
    load_checkpoint(best, model, map_location=device)
    metrics = {
        "model": type(model).__name__,
        "data": data.summary(),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": "SDLM, paper schedule" if classic else args.lr,
        "seed": args.seed,
        "device": str(device),
        "best_epoch": history.best_epoch,
        "best_valid_acc": history.best_valid_acc,
        "history": history.as_dict(),
    }
    summary = f"best validation accuracy {100 * history.best_valid_acc:.2f}% (epoch {history.best_epoch + 1})"
    if data.test is not None:
        metrics["test_loss"], metrics["test_acc"] = evaluate(
            model, eval_loader(data.test), options.get("criterion"), device=device
        )
        summary += f"; test accuracy {100 * metrics['test_acc']:.2f}% on {len(data.test):,} images"
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_history(history).savefig(args.out / "losses.png", dpi=100)
    gallery = valid_loader.images[:50], valid_loader.labels[:50]
    prediction_gallery(model, *gallery, n=50, classes=data.classes).savefig(args.out / "gallery.png", dpi=100)
    plt.close("all")
    print(summary)
    print(f"Saved {best.name}, metrics.json, losses.png and gallery.png in {args.out}")
    return 0


# ---------------------------------------------------------------- reproduce


def _reproduce_arguments(p: argparse.ArgumentParser) -> None:
    from .paper.recipe import DEFAULT_BATCH_SIZE, DEFAULT_MU, PAPER_PASSES

    p.add_argument("--data", default=None, help="folder of MNIST IDX files (default: LENET_COURSE_DATA, else auto)")
    p.add_argument(
        "--passes",
        type=_positive(int),
        default=PAPER_PASSES,
        help=f"passes over the training set (default {PAPER_PASSES})",
    )
    p.add_argument(
        "--batch-size",
        type=_positive(int),
        default=DEFAULT_BATCH_SIZE,
        help=f"mini-batch size (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument(
        "--mu", type=_positive(float), default=DEFAULT_MU, help=f"SDLM's mu (default {DEFAULT_MU}; the paper's is 0.02)"
    )
    p.add_argument("--distortions", action="store_true", help="distort 90%% of training images afresh each pass")
    p.add_argument("--quick", action="store_true", help="a smoke run: 1,000 training and 1,000 test images, 2 passes")
    _add_device(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--out", type=Path, default=Path("runs/reproduce"), help="folder for the results (default runs/reproduce)"
    )


def _reproduce(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .environment import environment_report, setup
    from .paper.reproduce import reproduce

    device = setup(args.seed, None if args.device == "auto" else args.device, quiet=True)
    data = load_mnist(args.data, seed=args.seed)  # says where the data came from
    print(environment_report(device))
    reproduce(
        data,
        device,
        passes=args.passes,
        batch_size=args.batch_size,
        mu=args.mu,
        distortions=args.distortions,
        quick=args.quick,
        seed=args.seed,
        out=args.out,
        progress=sys.stderr.isatty(),
    )
    return 0


# ---------------------------------------------------------------- bench


def _bench_arguments(p: argparse.ArgumentParser) -> None:
    from .bench import VARIANTS

    p.add_argument(
        "--quick", action="store_true", help="a few hundred images and one-batch rounds (seconds, for tests)"
    )
    p.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    _add_device(p, several=True)
    p.add_argument(
        "--batch-sizes",
        type=_batch_sizes,
        default=None,
        metavar="LIST",
        help="comma-separated (default 32,256,1024, and 8192 on a GPU)",
    )
    p.add_argument(
        "--variants",
        default=None,
        metavar="LIST",
        help=f"comma-separated subset of: {', '.join(v.name for v in VARIANTS)}",
    )
    p.add_argument(
        "--data",
        choices=["auto", "generated"],
        default="auto",
        help="auto: full MNIST or Fashion-MNIST when present, else generated",
    )
    p.add_argument(
        "--rounds", type=_positive(int), default=None, help="timed rounds per variant and phase (default 15; quick 1)"
    )
    p.add_argument(
        "--round-seconds",
        type=float,
        default=None,
        help="about how long each round lasts (default 0.1; quick: one batch)",
    )
    p.add_argument(
        "--compile-batch-sizes",
        type=_batch_sizes,
        default=(256,),
        metavar="LIST",
        help="batch sizes at which to time torch.compile, tens of seconds each on a small CPU (default 256)",
    )
    p.add_argument("--no-epoch", action="store_true", help="skip timing whole epochs end to end")
    p.add_argument(
        "--memory",
        choices=["steady", "default"],
        default="steady",
        help="steady (default): freed blocks are kept for reuse (lenet_course.fast.memory), "
        "so that no variant's timing depends on "
        "page faults; default: the C library's own settings, as a plain Python process has them",
    )


def _bench_command_line(args: argparse.Namespace) -> str:
    """The command line that reproduces this run."""
    parts = ["python -m lenet_course bench"]
    if args.quick:
        parts.append("--quick")
    parts.append(f"--device {args.device} --data {args.data}")
    if args.batch_sizes:
        parts.append(f"--batch-sizes {','.join(map(str, args.batch_sizes))}")
    for flag, value in (
        ("--variants", args.variants),
        ("--rounds", args.rounds),
        ("--round-seconds", args.round_seconds),
        ("--json", args.json),
    ):
        if value is not None:
            parts.append(f"{flag} {value}")
    if args.compile_batch_sizes != (256,):
        parts.append(f"--compile-batch-sizes {','.join(map(str, args.compile_batch_sizes))}")
    if args.no_epoch:
        parts.append("--no-epoch")
    if args.memory != "steady":
        parts.append(f"--memory {args.memory}")
    return " ".join(parts)


def _bench(args: argparse.Namespace) -> int:
    from .bench import BenchConfig, format_table, run_benchmark, write_json

    devices = tuple(str(_device(name.strip())) for name in args.device.split(",") if name.strip())
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip()) if args.variants else None
    config = BenchConfig(
        devices=devices,
        batch_sizes=args.batch_sizes or (32, 256, 1024),
        quick=args.quick,
        gpu_batch_sizes=(8192,) if args.batch_sizes is None and not args.quick else (),
        compile_batch_sizes=args.compile_batch_sizes,
        data=args.data,
        variants=variants,
        rounds=args.rounds,
        round_seconds=args.round_seconds,
        epoch=False if args.no_epoch else None,
        memory=args.memory,
    )
    result = run_benchmark(config, log=print)
    result.command = _bench_command_line(args)
    print()
    print(format_table(result))
    if args.json:
        print(f"\nwrote {write_json(result, args.json)}")
    return 0 if all(c.ok for c in result.checks) else 1


# ---------------------------------------------------------------- release and grade


def _release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, default=Path("release"), help="where to write the learner notebooks (default: release/)"
    )
    p.add_argument("--chapters", type=Path, default=Path("chapters"), help="the chapter sources (default: chapters/)")


def _release(args: argparse.Namespace) -> int:
    import nbformat

    from .instructor.notebook_format import exercise_of
    from .instructor.release import release_chapters

    written = release_chapters(args.chapters, args.out)
    for path in written:
        nb = nbformat.read(path, as_version=4)
        stubs = sum(1 for c in nb.cells if exercise_of(c) is not None)
        print(f"{path.name}: {stubs} exercise{'s' if stubs != 1 else ''}")
    print(f"wrote {len(written)} learner notebooks to {args.out}")
    return 0


def _grade_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submissions", nargs="+", type=Path, help="submitted notebooks, or folders holding them")
    p.add_argument("--reference", type=Path, default=Path("chapters"), help="the chapter sources (default: chapters/)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("grading"),
        help="where to write gradebook.csv and feedback/ (default: grading/)",
    )
    p.add_argument(
        "--timeout", type=_positive(float), default=900, help="seconds allowed for one whole notebook (default: 900)"
    )
    p.add_argument(
        "--cell-timeout", type=_positive(float), default=300, help="seconds allowed for one cell (default: 300)"
    )
    p.add_argument("--jobs", type=_positive(int), default=1, help="notebooks graded at the same time (default: 1)")


def _grade(args: argparse.Namespace) -> int:
    import time

    from .instructor.grade import grade

    start = time.monotonic()
    results = grade(args.submissions, args.reference, args.out, args.timeout, args.cell_timeout, args.jobs)
    for sub in results:
        note = f" ({sub.note})" if sub.note else ""
        print(f"{sub.learner} {sub.chapter or sub.path.name}: {sub.total:g}/{sub.max_points:g} {sub.status}{note}")
    print(
        f"graded {len(results)} submissions in {time.monotonic() - start:.0f} s; "
        f"gradebook: {Path(args.out) / 'gradebook.csv'}"
    )
    ran = [s for s in results if s.status in ("graded", "grading failed")]
    if ran and all(s.status == "grading failed" for s in ran):
        print("error: nbval could not run any notebook; check that nbval and ipykernel are installed", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- the parser

# name -> (help, add_arguments(parser), run(args) -> exit code)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "train": ("train LeNet-5 end to end and save its results", _train_arguments, _train),
    "reproduce": (
        "the paper's MNIST experiment with the 1998 network, error per pass",
        _reproduce_arguments,
        _reproduce,
    ),
    "bench": ("time the seed article's pipeline against the course's fast path", _bench_arguments, _bench),
    "release": ("write the learner version of every chapter (solutions stubbed)", _release_arguments, _release),
    "grade": ("grade learners' notebooks against the chapters with nbval", _grade_arguments, _grade),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lenet_course", description="LeNet-5, built step by step in PyTorch."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # errors a user can act on: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return _run(build_parser().parse_args(argv))


def grade_main(argv: list[str] | None = None) -> int:
    """The ``lenet-grade`` console script: ``python -m lenet_course grade`` under a name of its own."""
    parser = argparse.ArgumentParser(prog="lenet-grade", description=COMMANDS["grade"][0])
    _grade_arguments(parser)
    parser.set_defaults(run=_grade)
    return _run(parser.parse_args(argv))
