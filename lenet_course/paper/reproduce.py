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

import json
import time
from pathlib import Path

import torch

from ..data import MnistData, Split
from ..training import fit
from .distortions import RandomDistortion
from .network import LeNet5Classic
from .recipe import DEFAULT_BATCH_SIZE, DEFAULT_MU, PAPER_PASSES, paper_recipe

PAPER_ERROR = {False: 0.95, True: 0.8}  # percent, MNIST test set

__all__ = ["reproduce", "PAPER_ERROR"]


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


def reproduce(
    data: MnistData,
    device: torch.device,
    *,
    passes: int = PAPER_PASSES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    mu: float = DEFAULT_MU,
    distortions: bool = False,
    quick: bool = False,
    seed: int = 0,
    out: Path = Path("runs/reproduce"),
    progress: bool = False,
) -> dict:
    """Train ``LeNet5Classic`` the paper's way on ``data``, test after every pass; write and return the results.

    ``quick``: 1,000 training and 1,000 test images, at most 2 passes (a smoke run).
    """
    train = Split(torch.cat([data.train.images, data.valid.images]), torch.cat([data.train.labels, data.valid.labels]))
    test, test_name = data.test, "MNIST test set"
    if test is None:
        train, test, test_name = data.train, data.valid, "held-out validation digits (no test set found)"
    train_size = None
    if quick:
        passes, train_size = min(passes, 2), 1000
        test = Split(test.images[:1000], test.labels[:1000])
    model = LeNet5Classic(seed=seed)
    distortion = RandomDistortion(p=0.9, seed=seed) if distortions else None
    recipe = paper_recipe(
        model,
        train,
        batch_size=batch_size,
        mu=mu,
        seed=seed,
        device=device,
        train_size=train_size,
        transform=distortion,
    )
    test_loader = recipe.loader(test)
    n_train = len(recipe.train_loader.dataset)
    print(f"Training LeNet5Classic on {n_train:,} images for {passes} passes, testing on {len(test):,} ({test_name}).")
    tic = time.perf_counter()
    history = fit(
        model, recipe.train_loader, test_loader, passes, device=device, progress=progress, **recipe.fit_kwargs()
    )
    seconds = time.perf_counter() - tic
    paper = PAPER_ERROR[bool(distortions)]
    result = {
        "data": data.summary(),
        "train_images": n_train,
        "test_set": test_name,
        "test_images": len(test),
        "passes": passes,
        "batch_size": batch_size,
        "mu": mu,
        "distortions": bool(distortions),
        "device": str(device),
        "seconds": seconds,
        "seconds_per_10k_images_per_pass": seconds / passes / n_train * 10_000,
        "test_error": [round(100 * (1 - a), 3) for a in history.valid_acc],
        "train_error": [round(100 * (1 - a), 3) for a in history.train_acc],
        "paper_error": paper,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "reproduce.json").write_text(json.dumps(result, indent=2))
    _plot(result, out / "reproduce.png")
    final = result["test_error"][-1]
    print(
        f"Test error after pass {passes}: {final:.2f}% ({test_name}); the paper: {paper}% after 20 passes "
        f"on 60,000 training images; difference {final - paper:+.2f} points."
    )
    print(f"Saved reproduce.json and reproduce.png in {out} ({seconds:.0f} s).")
    return result
