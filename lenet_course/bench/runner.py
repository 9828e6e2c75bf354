"""Running the benchmark: every variant, batch size and device side by side, in rounds taken in turn.

Used by ``python -m lenet_course bench``. Throughput is the best of several
short rounds, the variants taking turns, so that other work on the machine
hurts them all alike. The machine's peak (the best GFLOP/s of a large matrix
product) is measured again between batch sizes and the best kept. Then one
whole epoch end to end: the seed pipeline, ``fit`` on the best eager path,
and the fastest variant measured.
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
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from ..fast.memory import keep_freed_memory, page_faults
from ..models import LeNet5
from .results import (
    BenchResult,
    CompileCost,
    DataInfo,
    DeviceInfo,
    EpochTiming,
    Memory,
    ModelInfo,
    Row,
    Skipped,
    Timing,
    add_ratios,
    fastest,
)
from .runs import VariantRun, check_runs, make_run, sync, timed
from .variants import (
    FULL_EVAL,
    FULL_TRAIN,
    NOT_EAGER,
    VARIANTS,
    BenchData,
    Loaders,
    Variant,
    build_model,
    build_optimizer,
    load_bench_data,
    loader_view,
    pipelines,
)

__all__ = ["BenchConfig", "run_benchmark", "forward_macs", "measure_peak_gflops"]


@dataclass(frozen=True)
class BenchConfig:
    """What to measure, every default resolved by :meth:`resolved` (see :func:`run_benchmark`)."""

    devices: tuple[str, ...] | None = None  # None: the CPU, and CUDA when present
    batch_sizes: tuple[int, ...] = (32, 256, 1024)
    quick: bool = False
    gpu_batch_sizes: tuple[int, ...] = ()
    compile_batch_sizes: tuple[int, ...] | None = None
    data: str = "auto"
    variants: tuple[str, ...] | None = None
    rounds: int | None = None
    round_seconds: float | None = None
    epoch: bool | None = None
    seed: int = 0
    memory: str = "steady"

    def resolved(self) -> BenchConfig:
        """This configuration checked, with its defaults filled in; one clear ``ValueError`` if it cannot run."""
        devices = tuple(self.devices) if self.devices else ("cpu",) + (("cuda",) if torch.cuda.is_available() else ())
        for name in devices:
            if name.startswith("cuda") and not torch.cuda.is_available():
                raise ValueError(f"device {name!r} was asked for, but no CUDA GPU is available; use --device cpu")
        names = [v.name for v in VARIANTS]
        unknown = [v for v in self.variants or () if v not in names]
        if unknown:
            raise ValueError(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(names)}")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError(f"batch sizes must be positive integers, got {list(self.batch_sizes)}")
        if self.memory not in ("steady", "default"):
            raise ValueError(f"memory must be 'steady' or 'default', got {self.memory!r}")
        return replace(
            self,
            devices=devices,
            batch_sizes=tuple(self.batch_sizes),
            gpu_batch_sizes=tuple(self.gpu_batch_sizes),
            variants=tuple(self.variants) if self.variants else None,
            # many short rounds: the best of them is the least disturbed
            rounds=self.rounds or (1 if self.quick else 15),
            round_seconds=(0.0 if self.quick else 0.1) if self.round_seconds is None else self.round_seconds,
            epoch=(not self.quick) if self.epoch is None else self.epoch,
        )

    def image_counts(self) -> tuple[int, int]:
        """Training and evaluation images: a few hundred in quick mode, else full MNIST's (or the largest batch)."""
        if self.quick:
            n = max(256, max(self.batch_sizes))
            return n, n
        largest = max(self.batch_sizes + self.gpu_batch_sizes)
        return max(FULL_TRAIN, largest), max(FULL_EVAL, largest)


def run_benchmark(
    config: BenchConfig | None = None, *, log: Callable[[str], None] | None = print, **options
) -> BenchResult:
    """Run the benchmark and return its :class:`~lenet_course.bench.results.BenchResult`.

    Pass a :class:`BenchConfig`, or its fields as keyword arguments.
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
    config = (config or BenchConfig(**options)).resolved()
    log = log or (lambda _msg: None)
    kept = keep_freed_memory() if config.memory == "steady" else False
    bench_data = load_bench_data(config.data, *config.image_counts(), config.seed)
    log(f"data: {bench_data!r}")
    with _cold_compile_cache():
        result = _run(config, bench_data, log)
    result.memory = Memory(
        mode=config.memory,
        freed_blocks_kept=kept,
        note="steady: freed blocks up to 32 MiB kept for reuse (lenet_course.fast.memory), for every variant"
        if kept
        else "the C library's allocator as it was: timings may include page faults (see page_faults_per_batch)",
    )
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


@contextlib.contextmanager
def _cudnn_benchmark(device: torch.device):
    """cuDNN's autotuner on for a GPU (each variant keeps its shapes), back to the process's setting afterwards."""
    before = torch.backends.cudnn.benchmark
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


# ---------------------------------------------------------------- the compute floor and the peak


def forward_macs(model: nn.Module, size: int = 32) -> int:
    """Multiply-accumulates of one forward pass of one image through the convolutions and linear layers."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output[0].numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, size, size, device=next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
    return total


def measure_peak_gflops(device: torch.device, n: int | None = None, repeats: int = 8) -> tuple[float, str]:
    """The machine's float32 peak, measured: the best GFLOP/s of a large square matrix product."""
    n = n or (8192 if device.type == "cuda" else 1536)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        torch.mm(a, b)
        best = math.inf
        for _ in range(repeats):
            best = min(best, timed(device, lambda: torch.mm(a, b))[1])
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    return 2 * n**3 / best / 1e9, f"best of {repeats} float32 {n}x{n} matrix products (torch.mm{threads})"


# ---------------------------------------------------------------- the run


def _run(config: BenchConfig, bench_data: BenchData, log: Callable[[str], None]) -> BenchResult:
    torch.manual_seed(config.seed)
    init = LeNet5()
    result = BenchResult(
        quick=config.quick,
        python=platform.python_version(),
        torch=torch.__version__,
        cpu_threads=torch.get_num_threads(),
        data=DataInfo(bench_data.source, len(bench_data.train), len(bench_data.eval)),
        model=ModelInfo(forward_macs(init)),
        timing=Timing(config.rounds, config.round_seconds),
        variants=[asdict(v) for v in VARIANTS if config.variants is None or v.name in config.variants],
    )
    for device_name in config.devices:
        device = torch.device(device_name)
        with _cudnn_benchmark(device):
            _run_device(result, config, device, bench_data, init, log)
    add_ratios(result, NOT_EAGER)
    return result


def _choose(result: BenchResult, config: BenchConfig, device: torch.device) -> list[Variant]:
    """The variants to run on ``device``; the others go to ``result.skipped`` with the reason."""
    chosen = []
    for v in VARIANTS:
        if config.variants and v.name not in config.variants:
            continue
        if v.cuda_graph and device.type != "cuda":
            result.skipped.append(Skipped(device.type, v.name, "CUDA graphs need a CUDA GPU"))
        elif v.compile and config.quick and not config.variants:
            reason = "quick mode (compiling takes tens of seconds); name it in --variants to include it"
            result.skipped.append(Skipped(device.type, v.name, reason))
        else:
            chosen.append(v)
    return chosen


def _run_device(
    result: BenchResult,
    config: BenchConfig,
    device: torch.device,
    bench_data: BenchData,
    init: LeNet5,
    log: Callable[[str], None],
) -> None:
    chosen = _choose(result, config, device)
    peak_size = 512 if config.quick else None  # quick mode: a rough peak, in milliseconds
    peak, how = measure_peak_gflops(device, peak_size)
    label = platform.processor() or platform.machine()
    if device.type == "cuda":
        label = torch.cuda.get_device_name(device)
    how += ", measured before and again after each batch size, the best kept"
    info = DeviceInfo(label, peak, how)
    result.devices[device.type] = info
    log(f"{device.type}: {label}, measured float32 peak so far {peak:,.0f} GFLOP/s ({how})")
    tic = time.perf_counter()
    loaders = pipelines(bench_data, device)
    info.tensor_setup_s = time.perf_counter() - tic
    sizes = config.batch_sizes + (
        tuple(b for b in config.gpu_batch_sizes if b not in config.batch_sizes) if device.type == "cuda" else ()
    )
    compile_sizes = config.compile_batch_sizes
    for bs in sizes:
        here = [v for v in chosen if not (v.compile and compile_sizes is not None and bs not in compile_sizes)]
        if len(here) < len(chosen):
            reason = f"compiled at batch {','.join(map(str, compile_sizes))} only (--compile-batch-sizes)"
            result.skipped.append(Skipped(device.type, "compile", reason, batch_size=bs))
        _measure_batch_size(result, here, device, bs, loaders, init, config, log)
        # measure the peak again between batch sizes and keep the best: others may share the machine
        info.peak_gflops = max(info.peak_gflops, measure_peak_gflops(device, peak_size)[0])
    if config.epoch:
        result.epoch.extend(_time_epochs(result, chosen, device, bench_data, loaders, init, log))


def _measure_batch_size(
    result: BenchResult,
    chosen: list[Variant],
    device: torch.device,
    bs: int,
    loaders: dict[str, Loaders],
    init: LeNet5,
    config: BenchConfig,
    log: Callable[[str], None],
) -> None:
    log(f"{device.type}, batch {bs}: checking {len(chosen)} variants ...")
    runs = [make_run(v, device, bs, loaders, init) for v in chosen]
    checks = check_runs(runs, device, bs, loaders, log)
    result.checks.extend(checks)
    first = {c.variant: {"train": c.first_train_s, "eval": c.first_eval_s} for c in checks}
    samples = _rounds(runs, device, config.rounds, config.round_seconds)
    for r in runs:
        name = r.variant.name
        for phase in ("train", "eval"):
            timings = samples[(name, phase)]
            rates = [images / dt for images, dt, _ in timings]
            batches = sum(math.ceil(images / bs) for images, _, _ in timings)
            result.rows.append(
                Row(
                    device=device.type,
                    variant=name,
                    batch_size=bs,
                    phase=phase,
                    images_per_s=max(rates),
                    images_per_s_median=statistics.median(rates),
                    batches_timed=batches,
                    rounds=len(timings),
                    page_faults_per_batch=sum(faults for _, _, faults in timings) / max(1, batches),
                    first_batch_s=first[name][phase],
                    batch_s=min(dt / max(1, math.ceil(images / bs)) for images, dt, _ in timings),
                )
            )
        if r.variant.compile:
            result.compile.append(
                CompileCost(
                    device=device.type,
                    batch_size=bs,
                    train_compile_s=max(0.0, first[name]["train"] - result.row(device.type, name, bs, "train").batch_s),
                    eval_compile_s=max(0.0, first[name]["eval"] - result.row(device.type, name, bs, "eval").batch_s),
                )
            )
    rates = [f"{r.variant.name} {result.row(device.type, r.variant.name, bs, 'train').images_per_s:,.0f}" for r in runs]
    log("  " + "  ".join(rates) + "  (training images/s)")


def _rounds(runs: list[VariantRun], device: torch.device, rounds: int, round_seconds: float) -> dict:
    """``{(variant, phase): [(images, seconds, page faults), ...]}``: one entry per round, the variants in turn."""
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
    return samples


def _time_epochs(
    result: BenchResult,
    chosen: list[Variant],
    device: torch.device,
    data: BenchData,
    loaders: dict[str, Loaders],
    init: LeNet5,
    log: Callable[[str], None],
) -> list[EpochTiming]:
    """One whole epoch plus evaluation, end to end: the seed, the fastest variant, ``fit`` on the best eager one."""
    from ..training import fit

    timings: list[EpochTiming] = []
    rows = result.train_rows(device.type)
    if not rows:
        return timings
    by_name = {v.name: v for v in chosen}
    entries = []
    if "seed" in by_name:
        entries.append(
            ("seed", by_name["seed"], 32, "the article's pipeline at its batch size 32: train() then validate()")
        )
    best_eager = fastest(result.train_rows(device.type, exclude=NOT_EAGER))
    best = fastest(rows)
    if best.variant != "seed" and (best_eager is None or best.variant != best_eager.variant):
        what = "the fastest variant measured" + (
            " (compiled earlier in this run: compile time not included)" if by_name[best.variant].compile else ""
        )
        entries.append((best.variant, by_name[best.variant], best.batch_size, what))
    for name, variant, bs, what in entries:
        log(f"{device.type}: one epoch end to end with {name} at batch {bs} ...")
        tic = time.perf_counter()
        run = make_run(variant, device, bs, loaders, init)
        if variant.cuda_graph:
            X, y = next(iter(run.train_loader))
            run.check(X, y)
        train_n, eval_n = run.epoch()
        seconds = time.perf_counter() - tic
        timings.append(EpochTiming(device.type, what, name, bs, train_n, eval_n, seconds, (train_n + eval_n) / seconds))
    if best_eager is not None:
        v, bs = by_name[best_eager.variant], best_eager.batch_size
        log(f"{device.type}: one epoch of fit() with {v.name} at batch {bs} ...")
        tic = time.perf_counter()
        model = build_model(replace(v, loop="fit"), init, device)  # fit() trains the course's model, whatever v's loop
        optimizer = build_optimizer(model, v)
        train_loader = loader_view(loaders["tensor"].train, bs, False)
        eval_loader = loader_view(loaders["tensor"].eval, bs, False)
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
        n = len(data.train) + len(data.eval)
        timings.append(
            EpochTiming(
                device.type,
                f"lenet_course.fit, 1 epoch, with the {v.name} settings",
                v.name,
                bs,
                len(data.train),
                len(data.eval),
                seconds,
                n / seconds,
                valid_acc=history.valid_acc[0],
            )
        )
    return timings
