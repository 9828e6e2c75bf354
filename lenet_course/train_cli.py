"""``python -m lenet_course train``: LeNet-5 end to end, from data to gallery.

Writes into ``--out``: ``best.pt`` (the best checkpoint, and ``best.last.pt``
to resume from), ``metrics.json``, ``losses.png`` and ``gallery.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        choices=("modern", "classic"),
        default="modern",
        help="modern: the seed article's LeNet-5 with Adam; classic: the 1998 network with the paper's recipe (default modern)",
    )
    p.add_argument("--epochs", type=_positive(int), default=None, help="passes over the training set (default 10; 20 for classic)")
    p.add_argument(
        "--batch-size", type=_positive(int), default=None, help="images per step (default 32, as the seed article; 16 for classic)"
    )
    p.add_argument("--lr", type=_positive(float), default=1e-3, help="Adam's learning rate (default 0.001; --model classic uses the paper's schedule instead)")
    p.add_argument(
        "--data",
        default="auto",
        help="auto (folder in LENET_COURSE_DATA, download, else the embedded sample), sample, or a folder of MNIST IDX files",
    )
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--out", type=Path, default=Path("runs/lenet5"), help="folder for the results (default runs/lenet5)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .checkpoint import load_checkpoint
    from .data import TensorLoader, load_mnist
    from .models import LeNet5
    from .plots import plot_history, prediction_gallery
    from .training import evaluate, fit
    from .utils import environment_report, setup

    device = setup(args.seed, args.device, quiet=True)  # seed, device, freed memory kept for reuse
    data = load_mnist(args.data)  # says where the data came from, then the environment line
    print(environment_report(device))
    classic = args.model == "classic"
    if classic:  # the 1998 network: SDLM, the paper's eta schedule, the MAP loss (see recipe.py)
        from .classic import LeNet5Classic
        from .recipe import DEFAULT_BATCH_SIZE, PAPER_PASSES, paper_recipe

        args.epochs = args.epochs or PAPER_PASSES
        args.batch_size = args.batch_size or DEFAULT_BATCH_SIZE
        model = LeNet5Classic(seed=args.seed).to(device)
        recipe = paper_recipe(model, data.train, batch_size=args.batch_size, seed=args.seed, device=device)
        train_loader, valid_loader, options = recipe.train_loader, recipe.loader(data.valid, batch_size=1024), recipe.fit_kwargs()
    else:
        args.epochs = args.epochs or 10
        args.batch_size = args.batch_size or 32
        train_loader = TensorLoader(data.train, args.batch_size, shuffle=True, seed=args.seed, device=device)
        valid_loader = TensorLoader(data.valid, 1024, device=device)
        model = LeNet5().to(device)
        options = dict(lr=args.lr)
    args.out.mkdir(parents=True, exist_ok=True)
    best = args.out / "best.pt"
    history = fit(
        model,
        train_loader,
        valid_loader,
        args.epochs,
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
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": "SDLM, paper schedule" if classic else args.lr,
        "seed": args.seed,
        "device": str(device),
        "best_epoch": history.best_epoch,
        "best_valid_acc": history.best_valid_acc,
        "history": history.as_dict(),
    }
    summary = f"best validation accuracy {100 * history.best_valid_acc:.2f}% (epoch {history.best_epoch + 1})"
    if data.test is not None:
        test_loader = recipe.loader(data.test, batch_size=1024) if classic else TensorLoader(data.test, 1024, device=device)
        metrics["test_loss"], metrics["test_acc"] = evaluate(model, test_loader, options.get("criterion"), device=device)
        summary += f"; test accuracy {100 * metrics['test_acc']:.2f}% on {len(data.test):,} images"
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_history(history).savefig(args.out / "losses.png", dpi=100)
    gallery = valid_loader.images[:50], valid_loader.labels[:50]
    prediction_gallery(model, *gallery, n=50, classes=data.classes).savefig(args.out / "gallery.png", dpi=100)
    plt.close("all")
    print(summary)
    print(f"Saved {best.name}, metrics.json, losses.png and gallery.png in {args.out}")
    return 0
