"""Running the benchmark: every variant, batch size and device side by side, in rounds taken in turn.

Throughput is the best of several short rounds, the variants taking turns,
so that other work on the machine hurts them all alike. The machine's peak is
measured again between batch sizes and the best kept.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict

import torch

from ..fast.memory import keep_freed_memory, page_faults
from ..models import LeNet5
from .checks import check_variants
from .data import FULL_EVAL, FULL_TRAIN, BenchData, load_bench_data
from .epochs import time_epochs
from .measure import forward_macs, measure_peak_gflops, timed
from .results import add_ratios, row
from .seed import seed_loaders
from .steps import make_run
from .variants import VARIANTS, Variant, tensor_loaders

__all__ = ["run_benchmark"]


def run_benchmark(
    devices: list[str] | None = None,
    batch_sizes: tuple[int, ...] = (32, 256, 1024),
    quick: bool = False,
    gpu_batch_sizes: tuple[int, ...] = (),
    compile_batch_sizes: tuple[int, ...] | None = None,
    data: str = "auto",
    variants: list[str] | None = None,
    rounds: int | None = None,
    round_seconds: float | None = None,
    epoch: bool | None = None,
    seed: int = 0,
    memory: str = "steady",
    log: Callable[[str], None] | None = print,
) -> dict:
    """Run the benchmark and return its results as a JSON-ready dict (see :func:`~lenet_course.bench.format_table`).

    ``quick`` uses a few hundred images, two one-batch rounds and skips
    ``torch.compile`` unless ``variants`` names it; the full run times
    ``rounds`` rounds of about ``round_seconds`` per variant and phase, and
    one whole epoch plus evaluation end to end. ``gpu_batch_sizes`` are
    measured on a GPU only, after ``batch_sizes`` (a GPU needs big batches).
    ``compile_batch_sizes`` limits ``torch.compile`` (tens of seconds per
    batch size on a small CPU) to those batch sizes; ``None``: all of them.
    ``memory="steady"`` first calls :func:`~lenet_course.fast.memory.keep_freed_memory`,
    for every variant alike, so that no timing depends on page faults;
    ``"default"`` leaves the C library as it is. Each row counts its page faults.
    """
    log = log or (lambda _msg: None)
    if devices is None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for name in devices:
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for, but no CUDA GPU is available; use --device cpu")
    names = [v.name for v in VARIANTS]
    unknown = [v for v in variants or [] if v not in names]
    if unknown:
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    if not batch_sizes or min(batch_sizes) < 1:
        raise ValueError(f"batch sizes must be positive integers, got {list(batch_sizes)}")
    if memory not in ("steady", "default"):
        raise ValueError(f"memory must be 'steady' or 'default', got {memory!r}")
    kept = keep_freed_memory() if memory == "steady" else False
    rounds = rounds or (1 if quick else 15)  # many short rounds: the best of them is the least disturbed
    round_seconds = (0.0 if quick else 0.1) if round_seconds is None else round_seconds
    epoch = (not quick) if epoch is None else epoch
    if quick:
        n_train = n_eval = max(256, max(batch_sizes))
    else:
        largest = max(batch_sizes + tuple(gpu_batch_sizes))
        n_train, n_eval = max(FULL_TRAIN, largest), max(FULL_EVAL, largest)
    bench_data = load_bench_data(data, n_train, n_eval, seed)
    log(f"data: {bench_data!r}")
    with _cold_compile_cache():
        result = _run(
            bench_data,
            devices,
            batch_sizes,
            gpu_batch_sizes,
            compile_batch_sizes,
            quick,
            variants,
            names,
            rounds,
            round_seconds,
            epoch,
            seed,
            log,
        )
    result["memory"] = {
        "mode": memory,
        "freed_blocks_kept": kept,
        "note": "steady: freed blocks up to 32 MiB kept for reuse (lenet_course.fast.memory), for every variant"
        if kept
        else "the C library's allocator as it was: timings may include page faults (see page_faults_per_batch)",
    }
    return result


@contextlib.contextmanager
def _cold_compile_cache():
    """A fresh, empty ``torch.compile`` cache for this run, so that compile times are a first run's."""
    import tempfile

    before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="lenet-bench-inductor-") as folder:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = folder
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
            else:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = before


def _loaders(data: BenchData, device: torch.device) -> dict:
    """Both pipelines over the same images: the article's DataLoader, and TensorLoaders on ``device``."""
    return {"seed": seed_loaders(data), "tensor": tensor_loaders(data, device)}


def _choose(result: dict, device: torch.device, variants: list[str] | None, quick: bool) -> list[Variant]:
    """The variants to run on ``device``; the others go to ``result["skipped"]`` with the reason."""
    chosen = []
    for v in VARIANTS:
        if variants and v.name not in variants:
            continue
        if v.cuda_graph and device.type != "cuda":
            result["skipped"].append(
                {"device": device.type, "variant": v.name, "reason": "CUDA graphs need a CUDA GPU"}
            )
        elif v.compile and quick and not variants:
            reason = "quick mode (compiling takes tens of seconds); name it in --variants to include it"
            result["skipped"].append({"device": device.type, "variant": v.name, "reason": reason})
        else:
            chosen.append(v)
    return chosen


def _run(
    bench_data,
    devices,
    batch_sizes,
    gpu_batch_sizes,
    compile_batch_sizes,
    quick,
    variants,
    names,
    rounds,
    round_seconds,
    epoch,
    seed,
    log,
) -> dict:
    torch.manual_seed(seed)
    init = LeNet5()
    macs = forward_macs(init)
    result: dict = {
        "command": None,
        "quick": quick,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "data": {
            "source": bench_data.source,
            "train_images": len(bench_data.train),
            "eval_images": len(bench_data.eval),
        },
        "model": {
            "name": "LeNet-5 (seed article's layers: tanh, average pooling, 61,706 parameters)",
            "forward_macs": macs,
            "forward_flops": 2 * macs,
            "train_flops": 6 * macs,
            "note": "training counted as 3x the forward pass (forward, and the backward's two products)",
        },
        "optimizer": "Adam, lr 1e-3, same initial weights for every variant",
        "timing": {
            "rounds": rounds,
            "round_seconds": round_seconds,
            "statistic": "best round (images/s); the median is kept too",
        },
        "compile_cache": "a fresh, empty torch.compile cache: compile times are those of a first run",
        "variants": [asdict(v) for v in VARIANTS if v.name in (variants or names)],
        "devices": {},
        "rows": [],
        "skipped": [],
        "checks": [],
        "compile": [],
        "epoch": [],
    }
    for device_name in devices:
        device = torch.device(device_name)
        chosen = _choose(result, device, variants, quick)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        peak_size = 512 if quick else None  # quick mode: a rough peak, in milliseconds
        peak, how = measure_peak_gflops(device, peak_size)
        label = (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else (platform.processor() or platform.machine())
        )
        how += ", measured before and again after each batch size, the best kept"
        result["devices"][device.type] = {"name": label, "peak_gflops": peak, "peak_method": how}
        log(f"{device.type}: {label}, measured float32 peak so far {peak:,.0f} GFLOP/s ({how})")
        tic = time.perf_counter()
        loaders = _loaders(bench_data, device)
        result["devices"][device.type]["tensor_setup_s"] = time.perf_counter() - tic
        sizes = tuple(batch_sizes) + (
            tuple(b for b in gpu_batch_sizes if b not in batch_sizes) if device.type == "cuda" else ()
        )
        for bs in sizes:
            here = [
                v
                for v in chosen
                if not (v.compile and compile_batch_sizes is not None and bs not in compile_batch_sizes)
            ]
            if len(here) < len(chosen):
                result["skipped"].append(
                    {
                        "device": device.type,
                        "variant": "compile",
                        "batch_size": bs,
                        "reason": f"compiled at batch {','.join(map(str, compile_batch_sizes))} only "
                        "(--compile-batch-sizes)",
                    }
                )
            _measure_batch_size(result, here, device, bs, loaders, init, rounds, round_seconds, log)
            # measure the peak again between batch sizes and keep the best: others may share the machine
            info = result["devices"][device.type]
            info["peak_gflops"] = max(info["peak_gflops"], measure_peak_gflops(device, peak_size)[0])
        if epoch:
            time_epochs(result, chosen, device, bench_data, loaders, init, log)
    add_ratios(result)
    return result


def _measure_batch_size(result, chosen, device, bs, loaders, init, rounds, round_seconds, log) -> None:
    log(f"{device.type}, batch {bs}: checking {len(chosen)} variants ...")
    runs = [make_run(v, device, bs, loaders, init) for v in chosen]
    checks = check_variants(result, runs, device, bs, loaders, log)
    # warm up, then size each round to about round_seconds
    sizes = {}
    for r in runs:
        for phase, work in r.phases:
            dt = timed(device, functools.partial(work, 1))[1] if round_seconds > 0 else math.inf
            sizes[(r.variant.name, phase)] = max(1, round(round_seconds / dt))
    samples: dict = {key: [] for key in sizes}
    for _ in range(rounds):
        for r in runs:  # the variants take turns, so that noise hits them alike
            for phase, work in r.phases:
                k = sizes[(r.variant.name, phase)]
                before = page_faults()
                images, dt = timed(device, functools.partial(work, k))
                samples[(r.variant.name, phase)].append((images, dt, page_faults() - before))
    for r in runs:
        for phase in ("train", "eval"):
            timings = samples[(r.variant.name, phase)]
            rates = [images / dt for images, dt, _ in timings]
            per_batch = min(dt / max(1, math.ceil(images / bs)) for images, dt, _ in timings)
            batches = sum(math.ceil(images / bs) for images, _, _ in timings)
            result["rows"].append(
                {
                    "device": device.type,
                    "variant": r.variant.name,
                    "batch_size": bs,
                    "phase": phase,
                    "images_per_s": max(rates),
                    "images_per_s_median": statistics.median(rates),
                    "batches_timed": batches,
                    "rounds": len(timings),
                    "page_faults_per_batch": sum(faults for _, _, faults in timings) / max(1, batches),
                    "first_batch_s": checks[r.variant.name][f"first_{phase}_s"],
                    "batch_s": per_batch,
                }
            )
        if r.variant.compile:
            c = checks[r.variant.name]
            result["compile"].append(
                {
                    "device": device.type,
                    "batch_size": bs,
                    "train_compile_s": max(
                        0.0, c["first_train_s"] - row(result, device.type, r.variant.name, bs, "train")["batch_s"]
                    ),
                    "eval_compile_s": max(
                        0.0, c["first_eval_s"] - row(result, device.type, r.variant.name, bs, "eval")["batch_s"]
                    ),
                }
            )
    rates = [
        f"{r.variant.name} {row(result, device.type, r.variant.name, bs, 'train')['images_per_s']:,.0f}" for r in runs
    ]
    log("  " + "  ".join(rates) + "  (training images/s)")
