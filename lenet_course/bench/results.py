"""What the measurements mean: the ratio to the seed, GFLOP/s against the peak, whether compiling pays, the targets."""

from __future__ import annotations

from .variants import NOT_EAGER

__all__ = ["TARGETS", "GPU_TARGET", "row", "train_rows", "fastest", "add_ratios"]

TARGETS = {32: 2.0, 256: 3.5}  # best CPU training path against the seed pipeline, same run
GPU_TARGET = 1_000_000  # training images per second on an H200-class card


def row(result: dict, device: str, variant: str, bs: int, phase: str) -> dict:
    """The row of ``variant`` on ``device`` at batch size ``bs`` for ``phase``; ``KeyError`` if it was not run."""
    for r in result["rows"]:
        if (r["device"], r["variant"], r["batch_size"], r["phase"]) == (device, variant, bs, phase):
            return r
    raise KeyError((device, variant, bs, phase))


def train_rows(result: dict, device: str, bs: int | None = None, exclude: frozenset | set = frozenset()) -> list[dict]:
    """The training rows of ``device`` (at batch size ``bs``, or all), leaving out the variants in ``exclude``."""
    return [
        r
        for r in result["rows"]
        if r["device"] == device
        and r["phase"] == "train"
        and (bs is None or r["batch_size"] == bs)
        and r["variant"] not in exclude
    ]


def fastest(rows: list[dict]) -> dict | None:
    """The row with the most images per second, or ``None`` if there are none."""
    return max(rows, key=lambda r: r["images_per_s"]) if rows else None


def add_ratios(result: dict) -> None:
    """Ratio to the seed row of the same device, batch size and phase; GFLOP/s against the peak."""
    model = result["model"]
    for r in result["rows"]:
        try:
            base = row(result, r["device"], "seed", r["batch_size"], r["phase"])["images_per_s"]
            r["ratio_to_seed"] = r["images_per_s"] / base
        except KeyError:
            r["ratio_to_seed"] = None
        flops = model["train_flops"] if r["phase"] == "train" else model["forward_flops"]
        r["gflops"] = r["images_per_s"] * flops / 1e9
        r["peak_fraction"] = r["gflops"] / result["devices"][r["device"]]["peak_gflops"]
    for c in result["compile"]:
        _add_compile_payoff(result, c)
    result["targets"] = _targets(result)


def _add_compile_payoff(result: dict, c: dict) -> None:
    """Does compiling pay for itself within one epoch (training + evaluation), against the fastest eager variant?"""
    best = fastest(train_rows(result, c["device"], c["batch_size"], exclude=NOT_EAGER))
    if best is None:
        c.update({"against": None, "pays_off_in_one_epoch": None, "epochs_to_break_even": None})
        return
    eager = best["variant"]
    comp_t = row(result, c["device"], "compile", c["batch_size"], "train")["images_per_s"]
    comp_e = row(result, c["device"], "compile", c["batch_size"], "eval")["images_per_s"]
    eager_t = row(result, c["device"], eager, c["batch_size"], "train")["images_per_s"]
    eager_e = row(result, c["device"], eager, c["batch_size"], "eval")["images_per_s"]
    n_t, n_e = result["data"]["train_images"], result["data"]["eval_images"]
    compiled = c["train_compile_s"] + c["eval_compile_s"] + n_t / comp_t + n_e / comp_e
    plain = n_t / eager_t + n_e / eager_e
    saved_per_epoch = plain - (n_t / comp_t + n_e / comp_e)
    c.update(
        {
            "against": eager,
            "epoch_s_compiled": compiled,
            "epoch_s_eager": plain,
            "pays_off_in_one_epoch": compiled < plain,
            "epochs_to_break_even": (c["train_compile_s"] + c["eval_compile_s"]) / saved_per_epoch
            if saved_per_epoch > 0
            else None,
        }
    )


def _targets(result: dict) -> list[dict]:
    """The course's speed targets, each with the best variant measured against it and whether it was met."""
    targets = []
    for bs, goal in TARGETS.items():
        best = fastest([r for r in train_rows(result, "cpu", bs, exclude={"seed"}) if r["ratio_to_seed"]])
        if best is not None:
            targets.append(
                {
                    "device": "cpu",
                    "batch_size": bs,
                    "goal": goal,
                    "best_variant": best["variant"],
                    "ratio": best["ratio_to_seed"],
                    "met": best["ratio_to_seed"] >= goal,
                }
            )
    best = fastest(train_rows(result, "cuda"))
    if best is not None:
        targets.append(
            {
                "device": "cuda",
                "batch_size": best["batch_size"],
                "goal_images_per_s": GPU_TARGET,
                "best_variant": best["variant"],
                "images_per_s": best["images_per_s"],
                "met": best["images_per_s"] >= GPU_TARGET,
            }
        )
    return targets
