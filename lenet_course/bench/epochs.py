"""Whole epochs end to end: the seed pipeline, the fastest variant measured, and ``fit`` on the best eager path."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import torch

from ..models import LeNet5
from .data import BenchData
from .measure import sync
from .results import fastest, train_rows
from .steps import make_run
from .variants import NOT_EAGER, Variant, build_model, build_optimizer, loader_view

__all__ = ["time_epochs"]


def time_epochs(
    result: dict,
    chosen: list[Variant],
    device: torch.device,
    data: BenchData,
    loaders: dict,
    init: LeNet5,
    log: Callable[[str], None],
) -> None:
    """One whole epoch plus evaluation, end to end: the seed pipeline, ``fit`` on the best eager path, the best path."""
    from ..training import fit

    rows = train_rows(result, device.type)
    if not rows:
        return
    by_name = {v.name: v for v in chosen}
    entries = []
    if "seed" in by_name:
        entries.append(
            ("seed", by_name["seed"], 32, "the article's pipeline at its batch size 32: train() then validate()")
        )
    best_eager = fastest(train_rows(result, device.type, exclude=NOT_EAGER))
    best = fastest(rows)
    if best["variant"] not in {"seed"} and (best_eager is None or best["variant"] != best_eager["variant"]):
        what = "the fastest variant measured" + (
            " (compiled earlier in this run: compile time not included)" if by_name[best["variant"]].compile else ""
        )
        entries.append((best["variant"], by_name[best["variant"]], best["batch_size"], what))
    for name, variant, bs, what in entries:
        log(f"{device.type}: one epoch end to end with {name} at batch {bs} ...")
        tic = time.perf_counter()
        run = make_run(variant, device, bs, loaders, init)
        if variant.cuda_graph:
            X, y = next(iter(run.train_loader))
            run.check(X, y)
        train_n, eval_n = run.epoch()
        seconds = time.perf_counter() - tic
        result["epoch"].append(
            {
                "device": device.type,
                "how": what,
                "variant": name,
                "batch_size": bs,
                "train_images": train_n,
                "eval_images": eval_n,
                "seconds": seconds,
                "images_per_s": (train_n + eval_n) / seconds,
            }
        )
    if best_eager is not None:
        v, bs = by_name[best_eager["variant"]], best_eager["batch_size"]
        log(f"{device.type}: one epoch of fit() with {v.name} at batch {bs} ...")
        tic = time.perf_counter()
        model = build_model(replace(v, loop="fit"), init, device)  # fit() trains the course's model, whatever v's loop
        optimizer = build_optimizer(model, v)
        train_loader = loader_view(loaders["tensor"]["train"], bs, False)
        eval_loader = loader_view(loaders["tensor"]["eval"], bs, False)
        history = fit(
            model,
            train_loader,
            eval_loader,
            epochs=1,
            optimizer=optimizer,
            device=device,
            fused=v.fused_blocks,
            progress=False,
            log=None,
        )
        sync(device)
        seconds = time.perf_counter() - tic
        result["epoch"].append(
            {
                "device": device.type,
                "how": f"lenet_course.fit, 1 epoch, with the {v.name} settings",
                "variant": v.name,
                "batch_size": bs,
                "train_images": len(data.train),
                "eval_images": len(data.eval),
                "seconds": seconds,
                "images_per_s": (len(data.train) + len(data.eval)) / seconds,
                "valid_acc": history.valid_acc[0],
            }
        )
