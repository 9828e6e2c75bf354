"""``python -m lenet_course reproduce``: the paper's MNIST experiment with the 1998 network.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). Trains ``LeNet5Classic``
with the paper's recipe (SDLM, the eta schedule, the MAP loss) for 20 passes,
measures the test error after every pass, and compares the last one with the
paper: 0.95% without distortions, 0.8% with them (``--distortions``).

Data: a folder of MNIST IDX files (``--data`` or ``LENET_COURSE_DATA``); with
the full training set it trains on all 60,000 images as the paper did. With
only the test files, it trains on the embedded 5,000-digit sample and tests
on the real test set; with no test set at all it reports the held-out
validation digits instead, and says so. Writes ``reproduce.json`` (the test
error per pass) and ``reproduce.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PAPER_ERROR = {False: 0.95, True: 0.8}  # percent, MNIST test set

__all__ = ["add_arguments", "run", "PAPER_ERROR"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .recipe import DEFAULT_BATCH_SIZE, DEFAULT_MU, PAPER_PASSES

    p.add_argument("--data", default=None, help="folder of MNIST IDX files (default: LENET_COURSE_DATA, else auto)")
    p.add_argument("--passes", type=int, default=PAPER_PASSES, help=f"passes over the training set (default {PAPER_PASSES})")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"mini-batch size (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--mu", type=float, default=DEFAULT_MU, help=f"SDLM's mu (default {DEFAULT_MU}; the paper's is 0.02)")
    p.add_argument("--distortions", action="store_true", help="distort 90%% of training images afresh each pass")
    p.add_argument("--quick", action="store_true", help="a smoke run: 1,000 training and 1,000 test images, 2 passes")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("runs/reproduce"), help="folder for the results (default runs/reproduce)")


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    passes = list(range(1, len(result["test_error"]) + 1))
    ax.plot(passes, result["test_error"], "o-", label=f"test error ({result['test_set']})")
    ax.plot(passes, result["train_error"], "s--", label="training error (during the pass)")
    ax.axhline(result["paper_error"], color="grey", linestyle=":", label=f"paper: {result['paper_error']}%")
    ax.set_xlabel("pass")
    ax.set_ylabel("error (%)")
    ax.set_yscale("log")
    ax.set_title("LeNet-5 (1998) reproduced")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    import torch

    from .classic import LeNet5Classic
    from .data import Split, load_mnist
    from .distortions import RandomDistortion
    from .recipe import paper_recipe
    from .training import fit
    from .utils import environment_report, setup

    if args.passes < 1 or args.batch_size < 1:
        raise ValueError(f"--passes and --batch-size must be at least 1, got {args.passes} and {args.batch_size}")
    device = setup(args.seed, args.device, quiet=True)  # seed, device, freed memory kept for reuse
    data = load_mnist(args.data, seed=args.seed)  # says where the data came from, then the environment line
    print(environment_report(device))
    train = Split(torch.cat([data.train.images, data.valid.images]), torch.cat([data.train.labels, data.valid.labels]))
    test, test_name = data.test, "MNIST test set"
    if test is None:
        train, test, test_name = data.train, data.valid, "held-out validation digits (no test set found)"
    passes = args.passes
    train_size = None
    if args.quick:
        passes, train_size = min(passes, 2), 1000
        test = Split(test.images[:1000], test.labels[:1000])
    model = LeNet5Classic(seed=args.seed)
    distortion = RandomDistortion(p=0.9, seed=args.seed) if args.distortions else None
    recipe = paper_recipe(model, train, batch_size=args.batch_size, mu=args.mu, seed=args.seed, device=device,
                          train_size=train_size, transform=distortion)
    test_loader = recipe.loader(test)
    n_train = len(recipe.train_loader.dataset)
    print(f"Training LeNet5Classic on {n_train:,} images for {passes} passes, testing on {len(test):,} ({test_name}).")
    tic = time.perf_counter()
    history = fit(model, recipe.train_loader, test_loader, passes, device=device, progress=sys.stderr.isatty(),
                  **recipe.fit_kwargs())
    seconds = time.perf_counter() - tic
    paper = PAPER_ERROR[bool(args.distortions)]
    result = {
        "data": data.summary(),
        "train_images": n_train,
        "test_set": test_name,
        "test_images": len(test),
        "passes": passes,
        "batch_size": args.batch_size,
        "mu": args.mu,
        "distortions": bool(args.distortions),
        "device": str(device),
        "seconds": seconds,
        "seconds_per_10k_images_per_pass": seconds / passes / n_train * 10_000,
        "test_error": [round(100 * (1 - a), 3) for a in history.valid_acc],
        "train_error": [round(100 * (1 - a), 3) for a in history.train_acc],
        "paper_error": paper,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reproduce.json").write_text(json.dumps(result, indent=2))
    _plot(result, args.out / "reproduce.png")
    final = result["test_error"][-1]
    print(f"Test error after pass {passes}: {final:.2f}% ({test_name}); the paper: {paper}% after 20 passes "
          f"on 60,000 training images; difference {final - paper:+.2f} points.")
    print(f"Saved reproduce.json and reproduce.png in {args.out} ({seconds:.0f} s).")
    return 0
