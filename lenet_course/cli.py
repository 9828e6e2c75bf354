"""The command line: ``python -m lenet_course <command>`` (or ``lenet-course``).

Used by ``make train``, ``make bench``, ``make release`` and ``make grade``,
and by anyone training outside a notebook (chapter 8 shows ``fit``, which
``train`` runs).

Every command is declared here: its options, and their defaults, resolved
once, at this entry point, and passed down as plain arguments (nothing is
written back into ``args``). The work itself lives in the module that owns
it: :mod:`~lenet_course.training` (``train``), :mod:`~lenet_course.paper.reproduce`,
:mod:`~lenet_course.bench`, :mod:`~lenet_course.workbook` (``lab``),
:mod:`~lenet_course.instructor.release` and :mod:`~lenet_course.instructor.grade`.

A mistake a user can act on is reported in one line that names the option
and says what to do, before any long work starts (``train`` checks every
option and path before it loads the data); ``--debug`` shows the traceback.

``--device`` means the same in every command: ``auto`` (the default) is this
machine's best device (CUDA, then Apple's MPS, then the CPU); otherwise a
device name such as ``cpu`` or ``cuda``. ``bench`` also takes a
comma-separated list (``cpu,cuda``) to measure several side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["main", "grade_main", "build_parser", "lab_command", "COMMANDS"]


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
MODEL_CLASS = {"modern": "LeNet5", "classic": "LeNet5Classic"}
DEFAULT_LR = 1e-3
MAX_EPOCHS, MAX_BATCH_SIZE, MAX_LR = 1_000, 65_536, 1.0
CHANCE_MARGIN = 0.02  # a run whose best validation accuracy is within this of the majority class's share failed


def _bounded(kind: type, what: str, low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite ``kind`` from ``low`` to ``high``, or one line saying what was expected."""
    wanted = f"expected {what}, got"

    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{wanted} {text!r}") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"{wanted} {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        choices=("modern", "classic"),
        default="modern",
        help="modern: the seed article's LeNet-5 with Adam; classic: the 1998 network with the paper's recipe "
        "(default modern)",
    )
    p.add_argument(
        "--epochs",
        type=_bounded(int, f"a whole number of epochs from 1 to {MAX_EPOCHS:,}", 1, MAX_EPOCHS),
        default=None,
        help="passes over the training set (default 10; 20 for classic)",
    )
    p.add_argument(
        "--batch-size",
        type=_bounded(int, f"a batch size from 1 to {MAX_BATCH_SIZE:,}", 1, MAX_BATCH_SIZE),
        default=None,
        help="images per step (default 32, as the seed article; 16 for classic)",
    )
    p.add_argument(
        "--lr",
        type=_bounded(float, "a learning rate above 0 and at most 1 (Adam's usual is 0.001)", 0, MAX_LR, True),
        default=None,
        help="Adam's learning rate (default 0.001; with --resume it replaces the saved one; "
        "--model classic uses the paper's schedule instead)",
    )
    p.add_argument(
        "--data",
        default="auto",
        help="auto (folder in LENET_COURSE_DATA, download, else the embedded sample), sample, "
        "or a folder of MNIST IDX files",
    )
    _add_device(p)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/lenet5"),
        help="folder for the results, new or without a run in it unless --resume (default runs/lenet5)",
    )
    p.add_argument(
        "--seed",
        type=_bounded(int, "a seed from 0 to 4,294,967,295", 0, 2**32 - 1),
        default=42,
        help="random seed (default 42)",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")


class CommandFailed(Exception):
    """A failure the command foresaw, already worded for the user: one line, and the exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TrainPlan:
    """A ``train`` command with every default resolved and every value checked, before any data is loaded."""

    model: str
    epochs: int
    batch_size: int
    lr: float
    lr_given: bool
    data: str
    device: object  # torch.device
    out: Path
    seed: int
    resume: bool

    @property
    def best(self) -> Path:
        return self.out / "best.pt"

    @property
    def last(self) -> Path:
        return self.out / "best.last.pt"


def check_train(args: argparse.Namespace) -> TrainPlan:
    """Every ``train`` option resolved and checked, the paths tried for real: one clear ``CommandFailed`` if not."""
    default_epochs, default_batch = TRAIN_DEFAULTS[args.model]
    try:
        device = _device(args.device)
    except (ValueError, RuntimeError) as exc:
        reason = _first_line(exc)
        if "device type at start of device string" in reason:  # PyTorch's list of every device type it knows
            reason = "not a device name; use auto, cpu, cuda (or cuda:0, cuda:1, ...) or mps"
        raise CommandFailed(f"--device {args.device}: {reason}") from None
    _check_data_source(args.data)
    plan = TrainPlan(
        model=args.model,
        epochs=args.epochs or default_epochs,
        batch_size=args.batch_size or default_batch,
        lr=args.lr or DEFAULT_LR,
        lr_given=args.lr is not None,
        data=args.data,
        device=device,
        out=args.out,
        seed=args.seed,
        resume=args.resume,
    )
    _check_writable_folder(plan.out)
    if plan.resume:
        _check_resume(plan)
    elif plan.best.exists() or plan.last.exists():
        raise CommandFailed(
            f"--out {plan.out} already holds a run ({plan.best.name}); pass --resume to continue it, "
            "or choose another --out to start afresh"
        )
    return plan


def _check_data_source(value: str) -> None:
    """``--data`` (or ``LENET_COURSE_DATA``) names a source ``load_mnist`` knows, or a folder holding IDX files."""
    from .data import find_idx_files

    name, source = "--data", value
    if value == "auto" and os.environ.get("LENET_COURSE_DATA"):
        name, source = "LENET_COURSE_DATA", os.environ["LENET_COURSE_DATA"]
    if source in {"auto", "sample", "download"}:
        return
    root = Path(source).expanduser()
    if not root.exists():
        raise CommandFailed(f"{name} {source}: no such folder; pass the folder of MNIST IDX files, or --data sample")
    if not root.is_dir():
        raise CommandFailed(f"{name} {source}: a file, not a folder; pass the folder that holds the IDX files")
    if not find_idx_files(root):
        raise CommandFailed(
            f"{name} {source}: no MNIST IDX files (train-images-idx3-ubyte[.gz] and friends) in it, in raw/ "
            "or in MNIST/raw/; pass the folder that holds them, or --data sample"
        )


def _check_writable_folder(out: Path) -> None:
    """``--out`` is a folder this process can write to: made if need be, and tried with a file (root ignores modes)."""
    if out.exists() and not out.is_dir():
        raise CommandFailed(f"--out {out} is a file, not a folder; name a folder for the results")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-") as probe:
            probe.write(b"lenet_course")
            probe.flush()
    except OSError as exc:
        reason = exc.strerror or _first_line(exc)
        raise CommandFailed(
            f"--out {out} is not a folder this run can write to ({reason}); choose another --out"
        ) from None


def _check_resume(plan: TrainPlan) -> None:
    """The checkpoints ``--resume`` needs are there, readable, of this model, with epochs left to train."""
    from .checkpoint import CheckpointError, load_checkpoint

    if not plan.best.exists() and not plan.last.exists():
        raise CommandFailed(
            f"--resume: no checkpoint in {plan.out} (best.pt, best.last.pt); train without --resume first, "
            "or name the run's folder with --out"
        )
    states = {}
    for path in (plan.last, plan.best):
        if not path.exists():
            continue
        try:
            states[path] = load_checkpoint(path)
        except CheckpointError as exc:
            if path == plan.last and plan.best.exists():
                raise CommandFailed(
                    f"--resume: {exc.reason}; delete it to resume from {plan.best.name} (the best epoch so far, "
                    "an earlier one), or start afresh in another --out"
                ) from None
            raise CommandFailed(
                f"--resume: {exc.reason}: it holds the best model so far, which the run needs; "
                "restore it, or start afresh in another --out"
            ) from None
    if plan.best not in states:
        raise CommandFailed(
            f"--resume: {plan.best} is missing: it holds the best model so far, which the run needs; "
            "restore it, or start afresh in another --out"
        )
    source = states.get(plan.last, states[plan.best])
    expected = MODEL_CLASS[plan.model]
    if source["model_class"] != expected:
        other = next(name for name, cls in MODEL_CLASS.items() if cls == source["model_class"])
        raise CommandFailed(
            f"--resume: the run in {plan.out} trains a {source['model_class']}; pass --model {other} to continue it"
        )
    trained = source["epoch"] + 1
    if trained >= plan.epochs:
        raise CommandFailed(
            f"--resume: the run in {plan.out} has already trained {trained} epochs; "
            f"pass --epochs with more than {trained} to train it further"
        )


def _train(args: argparse.Namespace) -> int:
    """LeNet-5 end to end: ``best.pt`` (and ``best.last.pt``), ``metrics.json``, ``losses.png``, ``gallery.png``."""
    import torch

    from .training import TrainingDiverged

    plan = check_train(args)  # every option and path checked before the data is loaded
    try:
        return _train_run(plan)
    except KeyboardInterrupt:
        raise CommandFailed(_interrupted(plan), code=130) from None
    except TrainingDiverged as exc:
        if plan.model == "classic":
            advice = f"train again with a smaller --batch-size (it was {plan.batch_size}) in a new --out"
        else:
            advice = f"lower --lr (it was {plan.lr:g}) and run again with --resume"
        kept = f"{plan.out} keeps epoch {exc.last_good + 1}, the last good one; " if exc.last_good is not None else ""
        raise CommandFailed(
            f"the {exc.what} loss became {exc.value} in epoch {exc.epoch + 1}: the steps are too large. {kept}{advice}"
        ) from exc
    except (MemoryError, torch.cuda.OutOfMemoryError) as exc:
        raise CommandFailed(
            f"out of memory ({_first_line(exc)}); lower --batch-size (it was {plan.batch_size})"
        ) from exc
    except OSError as exc:
        if exc.filename is None or plan.out.resolve() not in Path(exc.filename).resolve().parents:
            raise
        raise CommandFailed(
            f"cannot write {exc.filename}: {exc.strerror}. The checkpoints written before are intact: "
            "make room (or fix the folder) and run the same command with --resume"
        ) from exc


def _interrupted(plan: TrainPlan) -> str:
    from .checkpoint import CheckpointError, load_checkpoint

    try:
        epoch = load_checkpoint(plan.last)["epoch"] + 1
    except CheckpointError:
        return "interrupted before the first epoch ended: nothing was saved"
    return f"interrupted; {plan.last} keeps epoch {epoch}: run the same command with --resume to continue"


def _train_run(plan: TrainPlan) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from .checkpoint import load_checkpoint
    from .data import EVAL_BATCH_SIZE, TensorLoader, load_mnist
    from .environment import environment_report, setup
    from .models import LeNet5
    from .plots import plot_history, prediction_gallery
    from .training import evaluate, fit

    classic = plan.model == "classic"
    device = setup(plan.seed, str(plan.device), quiet=True)
    data = load_mnist(plan.data)  # says where the data came from, and warns about the classes' balance
    print(environment_report(device))
    if classic:  # the 1998 network: SDLM, the paper's eta schedule, the MAP loss (see paper/recipe.py)
        from .paper.network import LeNet5Classic, classic_loader
        from .paper.recipe import paper_recipe

        model = LeNet5Classic(seed=plan.seed).to(device)
        recipe = paper_recipe(model, data.train, batch_size=plan.batch_size, seed=plan.seed, device=device)
        train_loader, options = recipe.train_loader, recipe.fit_kwargs()

        def eval_loader(split):
            return classic_loader(split, batch_size=EVAL_BATCH_SIZE, device=device)
    else:
        model = LeNet5().to(device)
        train_loader = TensorLoader(data.train, plan.batch_size, shuffle=True, seed=plan.seed, device=device)
        optimizer = torch.optim.Adam(model.parameters(), lr=plan.lr)

        def keep_lr(epoch: int) -> None:  # the command's --lr, also after a resume restored the saved one
            for group in optimizer.param_groups:
                group["lr"] = plan.lr

        options = dict(optimizer=optimizer, before_epoch=keep_lr if plan.lr_given else None)

        def eval_loader(split):
            return TensorLoader(split, EVAL_BATCH_SIZE, device=device)

    valid_loader = eval_loader(data.valid)
    history = fit(
        model,
        train_loader,
        valid_loader,
        plan.epochs,
        device=device,
        checkpoint=plan.best,
        resume=plan.resume,
        progress=sys.stderr.isatty(),
        **options,
    )
    load_checkpoint(plan.best, model, map_location=device)
    metrics = {
        "model": type(model).__name__,
        "data": data.summary(),
        "epochs": plan.epochs,
        "batch_size": plan.batch_size,
        "lr": "SDLM, paper schedule" if classic else plan.lr,
        "seed": plan.seed,
        "device": str(device),
        # epochs counted from 1, as every line the command prints counts them (fit's History counts from 0)
        "best_epoch": history.best_epoch + 1,
        "best_valid_acc": history.best_valid_acc,
        "history": {**history.as_dict(), "epoch": [epoch + 1 for epoch in history.epoch]},
    }
    summary = f"best validation accuracy {100 * history.best_valid_acc:.2f}% (epoch {metrics['best_epoch']})"
    if data.test is not None:
        metrics["test_loss"], metrics["test_acc"] = evaluate(
            model, eval_loader(data.test), options.get("criterion"), device=device
        )
        summary += f"; test accuracy {100 * metrics['test_acc']:.2f}% on {len(data.test):,} images"
    (plan.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_history(history).savefig(plan.out / "losses.png", dpi=100)
    gallery = valid_loader.images[:50], valid_loader.labels[:50]
    prediction_gallery(model, *gallery, n=50, classes=data.classes).savefig(plan.out / "gallery.png", dpi=100)
    plt.close("all")
    print(summary)
    print(f"Saved {plan.best.name}, metrics.json, losses.png and gallery.png in {plan.out}")
    _check_better_than_chance(plan, data, history.best_valid_acc)
    return 0


def _check_better_than_chance(plan: TrainPlan, data, best_valid_acc: float) -> None:
    """A run whose best validation accuracy is no better than always answering the most frequent class failed."""
    import torch

    counts = torch.bincount(data.valid.labels)
    chance = counts.max().item() / len(data.valid)
    if best_valid_acc > chance + CHANCE_MARGIN:
        return
    if sum(1 for n in data.train.class_counts() if n) == 1:
        advice = "the training labels hold a single class: check the label file"
    elif plan.model == "classic":
        advice = "check the labels, or train longer (--epochs)"
    else:
        advice = f"lower --lr (it was {plan.lr:g}), or train longer (--epochs)"
    raise CommandFailed(
        f"the run ended no better than chance: best validation accuracy {100 * best_valid_acc:.2f}%, where always "
        f"answering the most frequent class scores {100 * chance:.2f}%; {advice} (results in {plan.out})"
    )


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

    try:
        device = _device(args.device)
    except (ValueError, RuntimeError) as exc:
        raise CommandFailed(f"--device {args.device}: {_first_line(exc)}") from None
    _check_data_source(args.data or "auto")  # checked before the data is loaded, as for train
    _check_writable_folder(args.out)
    device = setup(args.seed, str(device), quiet=True)
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


# ---------------------------------------------------------------- lab


def _lab_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--solutions",
        action="store_true",
        help="open the chapters with their worked solutions (chapters/) instead of your workbook",
    )
    p.add_argument(
        "--prepare-only",
        action="store_true",
        help="write or update your workbook and say what changed, without starting JupyterLab",
    )
    p.add_argument("--workbook", type=Path, default=Path("workbook"), help="your workbook (default: workbook/)")
    p.add_argument("--chapters", type=Path, default=Path("chapters"), help="the chapter sources (default: chapters/)")


def lab_command(folder: Path) -> list[str]:
    """The command that starts JupyterLab on ``folder``, with this Python's environment.

    As root (a container, say) JupyterLab refuses to start unless told ``--allow-root``.
    """
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={folder}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def _lab(args: argparse.Namespace) -> int:
    import importlib.util

    if args.solutions:
        folder = args.chapters
        if not folder.is_dir():
            raise FileNotFoundError(f"no chapters folder at {folder}; run this from the course folder")
        print(f"The chapters with their worked solutions are in {folder}/ (your own work is in {args.workbook}/).")
    else:
        from .workbook import prepare_workbook

        folder = args.workbook
        for line in prepare_workbook(args.chapters, folder).lines():
            print(line)
    if args.prepare_only:
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise RuntimeError("JupyterLab is not installed in this Python; run `make lab`, or `pip install -e .`")
    print(f"Starting JupyterLab in {folder}/ (Ctrl+C here stops it).", flush=True)
    command = lab_command(folder)
    if os.name == "posix":  # JupyterLab takes this process's place and receives Ctrl+C itself
        os.execv(command[0], command)
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Windows: Ctrl+C is JupyterLab's to handle
    try:
        return subprocess.call(command)
    finally:
        signal.signal(signal.SIGINT, previous)


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
    p.add_argument(
        "--all-or-nothing",
        action="store_true",
        help="an exercise earns its points only when every case is right (default: points x cases right / cases)",
    )
    p.add_argument(
        "--memory",
        type=_positive(float),
        default=4,
        help="GiB of memory each process of a notebook may allocate (default: 4)",
    )
    p.add_argument(
        "--processes",
        type=_positive(int),
        default=512,
        help="processes and threads a notebook may run at once (default: 512)",
    )
    p.add_argument(
        "--device",
        default="cpu",
        help="LENET_COURSE_DEVICE inside the sandbox (default: cpu, the device the expected outputs were made on)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="LENET_COURSE_DATA inside the sandbox: sample, or a folder of MNIST files, seen read-only "
        "(default: LENET_COURSE_DATA, else the embedded sample)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without bubblewrap where it cannot run (macOS): the notebooks then run with your rights",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="address of a Dask scheduler (tcp://host:8786): each submission becomes one task on its workers "
        "(default: a local cluster of --jobs worker processes)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows of --out/gradebook.json graded from the same submission and reference; grade the rest",
    )


def _grade_options(args: argparse.Namespace):
    import os

    from .instructor.grade import Options

    data = args.data or os.environ.get("LENET_COURSE_DATA") or "sample"
    if data != "sample" and not Path(data).is_dir():
        raise ValueError(f"--data {data}: expected 'sample' or a folder of MNIST files")
    return Options(
        timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        memory=int(args.memory * 2**30),
        processes=args.processes,
        all_or_nothing=args.all_or_nothing,
        device=args.device,
        data=data,
    )


def _grade(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .instructor.distributed import grade_on_dask
    from .instructor.sandbox import probe

    options = _grade_options(args)
    if args.scheduler:
        print(f"sandbox: each worker of {args.scheduler} seals the notebooks it grades (bubblewrap)")
    else:  # before any notebook runs: one line if this machine cannot seal them
        print(f"sandbox: {probe(args.no_sandbox).describe()}")
    print(f"limits: {options.limits.describe()}; {'all or nothing' if options.all_or_nothing else 'partial credit'}")
    bar = tqdm(total=0, unit="notebook", dynamic_ncols=True)

    def planned(total: int, kept: int) -> None:
        if kept:
            bar.write(f"--resume: {kept} rows kept from {Path(args.out) / 'gradebook.json'}")
        bar.reset(total=total)

    def done(sub) -> None:
        note = f" ({sub.note})" if sub.note else ""
        bar.write(
            f"{sub.learner} {sub.chapter or sub.path.name}: {sub.total:.4g}/{sub.max_points:g} {sub.status}{note}"
        )
        bar.update(1)

    try:
        summary = grade_on_dask(
            args.submissions,
            args.reference,
            args.out,
            options,
            jobs=args.jobs,
            scheduler=args.scheduler,
            resume=args.resume,
            no_sandbox=args.no_sandbox,
            progress=done,
            planned=planned,
        )
    finally:
        bar.close()
    print()
    print(summary.text())
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}; this summary: {Path(args.out) / 'summary.md'}")
    flagged = [s for s in summary.rows if s.flags]
    if flagged:
        print(f"{len(flagged)} to review by hand (the review column): {', '.join(s.learner for s in flagged[:10])}")
    ran = [s for s in summary.rows if s.status in ("graded", "grading failed")]
    if ran and all(s.status == "grading failed" for s in ran):
        print("error: nbval could not run any notebook; check that nbval and ipykernel are installed", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- the parser

# name -> (help, add_arguments(parser), run(args) -> exit code)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "lab": (
        "open your workbook in JupyterLab (written from the chapters on first use; --solutions: the chapters)",
        _lab_arguments,
        _lab,
    ),
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


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (what was wrong, where to read more) instead of the usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _debug_flag(p: argparse.ArgumentParser, default=False) -> None:
    p.add_argument("--debug", action="store_true", default=default, help="show the full traceback when something fails")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lenet_course", description="LeNet-5, built step by step in PyTorch.")
    _debug_flag(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        _debug_flag(p, default=argparse.SUPPRESS)  # before or after the command name
        p.set_defaults(run=run)
    return parser


# errors a user can act on: reported in one line, not a traceback (--debug shows it)
FORESEEN = (ValueError, OSError, RuntimeError, ArithmeticError, MemoryError)


def _first_line(exc: BaseException) -> str:
    """An exception's message in one line: a file error as ``file: reason``, else the message's first line."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _run(args: argparse.Namespace) -> int:
    debug = getattr(args, "debug", False)
    try:
        return int(args.run(args) or 0)
    except CommandFailed as exc:
        if debug:
            raise
        print(str(exc) if exc.code == 130 else f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except FORESEEN as exc:
        if debug:
            raise
        print(f"error: {_first_line(exc)}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return _run(build_parser().parse_args(argv))


def grade_main(argv: list[str] | None = None) -> int:
    """The ``lenet-grade`` console script: ``python -m lenet_course grade`` under a name of its own."""
    parser = _Parser(prog="lenet-grade", description=COMMANDS["grade"][0])
    _grade_arguments(parser)
    _debug_flag(parser)
    parser.set_defaults(run=_grade)
    return _run(parser.parse_args(argv))
