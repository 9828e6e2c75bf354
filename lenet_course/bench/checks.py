"""Correctness before speed: every variant computes the same numbers as the seed pipeline.

From the same weights, each variant evaluates the same batch, takes one
training step on it and evaluates again; the losses must agree within float
tolerance, the accuracy exactly on a CPU, and both pipelines must feed the
very same pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .steps import VariantRun

__all__ = ["check_variants"]


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(b))


def check_variants(
    result: dict,
    runs: list[VariantRun],
    device: torch.device,
    bs: int,
    loaders: dict,
    log: Callable[[str], None],
) -> dict[str, dict]:
    """Check every run against the first on the first ``bs`` training images; append to ``result["checks"]``."""
    # the same batch through both pipelines: the first bs training images, in order
    seed_ds = loaders["seed"]["train"].dataset
    n = min(bs, len(seed_ds))
    X_seed = torch.stack([seed_ds[i][0] for i in range(n)])
    X_fast = loaders["tensor"]["train"].images[:n].cpu()
    y = loaders["tensor"]["train"].labels[:n].cpu()
    data_diff = float((X_seed - X_fast).abs().max())
    rtol = 1e-4 if device.type == "cpu" else 2e-3  # cuDNN may use TF32 for convolutions on a GPU
    checks = {}
    for r in runs:
        X = X_seed if r.variant.pipeline == "seed" else X_fast
        checks[r.variant.name] = r.check(X, y)
    reference_name = runs[0].variant.name
    reference = checks[reference_name]
    for name, c in checks.items():
        diffs = {k: abs(c[k] - reference[k]) for k in ("train_loss", "eval_loss", "loss_after_step")}
        correct_tol = 0 if device.type == "cpu" else max(1, n // 256)
        ok = (
            all(_close(c[k], reference[k], rtol) for k in diffs)
            and abs(c["eval_correct"] - reference["eval_correct"]) <= correct_tol
        )
        result["checks"].append(
            {
                "device": device.type,
                "batch_size": bs,
                "variant": name,
                "reference": reference_name,
                "images": n,
                "data_max_abs_diff": data_diff,
                **c,
                "max_loss_diff": max(diffs.values()),
                "rtol": rtol,
                "ok": ok and data_diff == 0.0,
            }
        )
        if not ok:
            log(f"  warning: {name} disagrees with {reference_name}: {c} vs {reference}")
    if data_diff:
        log(f"  warning: the two pipelines' images differ by up to {data_diff}")
    return checks
