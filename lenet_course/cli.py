"""The command line: ``python -m lenet_course <command>`` (or ``lenet-course``).

Each command lives in the module that does the work and registers here with
a function that adds its arguments and one that runs it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

__all__ = ["main", "COMMANDS"]

# name -> (help, add_arguments(parser), run(args) -> exit code); filled by _register()
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def _register() -> None:
    from . import bench, grading, release, reproduce, train_cli

    COMMANDS["train"] = ("train LeNet-5 end to end and save its results", train_cli.add_arguments, train_cli.run)
    COMMANDS["release"] = ("write the learner version of every chapter (solutions stubbed)", release.add_arguments, release.run)
    COMMANDS["grade"] = ("grade learners' notebooks against the chapters with nbval", grading.add_arguments, grading.run)
    COMMANDS["reproduce"] = ("the paper's MNIST experiment with the 1998 network, error per pass", reproduce.add_arguments, reproduce.run)
    COMMANDS["bench"] = ("time the seed article's pipeline against the course's fast path", bench.add_arguments, bench.run)


def build_parser() -> argparse.ArgumentParser:
    _register()
    parser = argparse.ArgumentParser(prog="python -m lenet_course", description="LeNet-5, built step by step in PyTorch.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # errors a user can act on: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
