"""The ``bench`` command: ``python -m lenet_course bench`` (``make bench``), its options, and one run of it."""

from __future__ import annotations

import argparse

from .report import format_table, write_json
from .runner import run_benchmark
from .variants import VARIANTS

__all__ = ["add_arguments", "run"]


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected batch sizes like 32,256,1024, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive batch sizes like 32,256,1024, got {text!r}")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``bench`` command's options."""
    parser.add_argument("--quick", action="store_true", help="a few hundred images and one-batch rounds (seconds, for tests)")
    parser.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (the CPU, and CUDA when present)")
    parser.add_argument("--batch-sizes", type=_batch_sizes, default=None, metavar="LIST", help="comma-separated (default 32,256,1024, and 8192 on a GPU)")
    parser.add_argument("--variants", default=None, metavar="LIST", help=f"comma-separated subset of: {', '.join(v.name for v in VARIANTS)}")
    parser.add_argument("--data", choices=["auto", "generated"], default="auto", help="auto: full MNIST or Fashion-MNIST when present, else generated")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per variant and phase (default 15; quick 1)")
    parser.add_argument("--round-seconds", type=float, default=None, help="about how long each round lasts (default 0.1; quick: one batch)")
    parser.add_argument(
        "--compile-batch-sizes", type=_batch_sizes, default=(256,), metavar="LIST",
        help="batch sizes at which to time torch.compile, tens of seconds each on a small CPU (default 256)",
    )
    parser.add_argument("--no-epoch", action="store_true", help="skip timing whole epochs end to end")
    parser.add_argument(
        "--memory", choices=["steady", "default"], default="steady",
        help="steady (default): freed blocks are kept for reuse (lenet_course.memory), so that no variant's timing depends on "
        "page faults; default: the C library's own settings, as a plain Python process has them",
    )


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run."""
    parts = ["python -m lenet_course bench"]
    if args.quick:
        parts.append("--quick")
    parts.append(f"--device {args.device} --data {args.data}")
    if args.batch_sizes:
        parts.append(f"--batch-sizes {','.join(map(str, args.batch_sizes))}")
    for flag, value in (("--variants", args.variants), ("--rounds", args.rounds), ("--round-seconds", args.round_seconds), ("--json", args.json)):
        if value is not None:
            parts.append(f"{flag} {value}")
    if args.compile_batch_sizes != (256,):
        parts.append(f"--compile-batch-sizes {','.join(map(str, args.compile_batch_sizes))}")
    if args.no_epoch:
        parts.append("--no-epoch")
    if args.memory != "steady":
        parts.append(f"--memory {args.memory}")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m lenet_course bench``: print the table, write the JSON."""
    devices = None if args.device == "auto" else [args.device]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    result = run_benchmark(
        devices=devices, batch_sizes=args.batch_sizes or (32, 256, 1024), quick=args.quick,
        gpu_batch_sizes=(8192,) if args.batch_sizes is None and not args.quick else (),
        compile_batch_sizes=args.compile_batch_sizes, data=args.data, variants=variants,
        rounds=args.rounds, round_seconds=args.round_seconds, epoch=False if args.no_epoch else None, memory=args.memory, log=print,
    )
    result["command"] = _command(args)
    print()
    print(format_table(result))
    if args.json:
        out = write_json(result, args.json)
        print(f"\nwrote {out}")
    return 0 if all(c["ok"] for c in result["checks"]) else 1
