"""The benchmark's results as typed rows: what each measurement means, the targets, the table and the JSON.

Used by ``python -m lenet_course bench``. A :class:`BenchResult` holds one
:class:`Row` per variant, batch size and phase, one :class:`Check` per
variant and batch size, and the compile costs, whole-epoch timings, skipped
variants and targets; :func:`add_ratios` fills in what follows from them (the
ratio to the seed, GFLOP/s against the peak, whether compiling pays),
:func:`format_table` prints them and :func:`write_json` saves them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = [
    "TARGETS",
    "GPU_TARGET",
    "Row",
    "Check",
    "CompileCost",
    "EpochTiming",
    "Skipped",
    "Target",
    "DeviceInfo",
    "DataInfo",
    "ModelInfo",
    "Timing",
    "Memory",
    "BenchResult",
    "add_ratios",
    "format_table",
    "write_json",
]

TARGETS = {32: 2.0, 256: 3.5}  # best CPU training path against the seed pipeline, same run
GPU_TARGET = 1_000_000  # training images per second on an H200-class card


class _Record:
    """A dataclass that becomes a JSON object; the fields named in ``_OPTIONAL`` are left out while ``None``."""

    _OPTIONAL: frozenset[str] = frozenset()

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self._OPTIONAL:
                continue
            out[f.name] = _plain(value)
        return out


def _plain(value):
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class Row(_Record):
    """Throughput of one variant at one batch size on one device, for training or evaluation."""

    device: str
    variant: str
    batch_size: int
    phase: str  # "train" or "eval"
    images_per_s: float  # the best round
    images_per_s_median: float
    batches_timed: int
    rounds: int
    page_faults_per_batch: float
    first_batch_s: float  # the check's first step, compile or capture included
    batch_s: float  # the fastest batch
    ratio_to_seed: float | None = None
    gflops: float = 0.0
    peak_fraction: float = 0.0


@dataclass
class Check(_Record):
    """One variant against the reference (the seed) on the same batch from the same weights."""

    device: str
    batch_size: int
    variant: str
    reference: str
    images: int
    data_max_abs_diff: float
    eval_loss: float
    eval_correct: int
    train_loss: float
    loss_after_step: float
    first_eval_s: float
    first_train_s: float
    max_loss_diff: float
    rtol: float
    ok: bool


@dataclass
class CompileCost(_Record):
    """What ``torch.compile`` costs at one batch size, and whether it pays for itself within one epoch."""

    _OPTIONAL = frozenset({"epoch_s_compiled", "epoch_s_eager"})

    device: str
    batch_size: int
    train_compile_s: float
    eval_compile_s: float
    against: str | None = None
    epoch_s_compiled: float | None = None
    epoch_s_eager: float | None = None
    pays_off_in_one_epoch: bool | None = None
    epochs_to_break_even: float | None = None


@dataclass
class EpochTiming(_Record):
    """One whole epoch and its evaluation, end to end."""

    _OPTIONAL = frozenset({"valid_acc"})

    device: str
    how: str
    variant: str
    batch_size: int
    train_images: int
    eval_images: int
    seconds: float
    images_per_s: float
    valid_acc: float | None = None


@dataclass
class Skipped(_Record):
    """A variant not measured on a device (at a batch size), and why."""

    _OPTIONAL = frozenset({"batch_size"})

    device: str
    variant: str
    reason: str
    batch_size: int | None = None


@dataclass
class Target(_Record):
    """One of the course's speed targets and the best variant measured against it."""

    _OPTIONAL = frozenset({"goal", "ratio", "goal_images_per_s", "images_per_s"})

    device: str
    batch_size: int
    best_variant: str
    met: bool
    goal: float | None = None  # CPU: ratio to the seed
    ratio: float | None = None
    goal_images_per_s: int | None = None  # GPU: training images per second
    images_per_s: float | None = None


@dataclass
class DeviceInfo(_Record):
    name: str
    peak_gflops: float
    peak_method: str
    tensor_setup_s: float = 0.0


@dataclass
class DataInfo(_Record):
    source: str
    train_images: int
    eval_images: int


@dataclass
class ModelInfo(_Record):
    forward_macs: int
    name: str = "LeNet-5 (seed article's layers: tanh, average pooling, 61,706 parameters)"
    note: str = "training counted as 3x the forward pass (forward, and the backward's two products)"

    @property
    def forward_flops(self) -> int:
        return 2 * self.forward_macs

    @property
    def train_flops(self) -> int:
        return 6 * self.forward_macs

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "forward_macs": self.forward_macs,
            "forward_flops": self.forward_flops,
            "train_flops": self.train_flops,
            "note": self.note,
        }


@dataclass
class Timing(_Record):
    rounds: int
    round_seconds: float
    statistic: str = "best round (images/s); the median is kept too"


@dataclass
class Memory(_Record):
    mode: str
    freed_blocks_kept: bool
    note: str


@dataclass
class BenchResult(_Record):
    """Everything one run measured, JSON-ready with :meth:`to_dict`."""

    quick: bool
    python: str
    torch: str
    cpu_threads: int
    data: DataInfo
    model: ModelInfo
    timing: Timing
    variants: list[dict]
    command: str | None = None
    optimizer: str = "Adam, lr 1e-3, same initial weights for every variant"
    compile_cache: str = "a fresh, empty torch.compile cache: compile times are those of a first run"
    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    compile: list[CompileCost] = field(default_factory=list)
    epoch: list[EpochTiming] = field(default_factory=list)
    memory: Memory | None = None
    targets: list[Target] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict) -> BenchResult:
        """A result read back from :meth:`to_dict`'s JSON (for example to print its table again)."""

        def many(kind, items):
            return [kind(**item) for item in items]

        model = {k: v for k, v in d["model"].items() if k in ("forward_macs", "name", "note")}
        memory = d.get("memory")
        return cls(
            quick=d["quick"],
            python=d["python"],
            torch=d["torch"],
            cpu_threads=d["cpu_threads"],
            data=DataInfo(**d["data"]),
            model=ModelInfo(**model),
            timing=Timing(**d["timing"]),
            variants=d["variants"],
            command=d.get("command"),
            optimizer=d["optimizer"],
            compile_cache=d["compile_cache"],
            devices={name: DeviceInfo(**info) for name, info in d["devices"].items()},
            rows=many(Row, d["rows"]),
            skipped=many(Skipped, d["skipped"]),
            checks=many(Check, d["checks"]),
            compile=many(CompileCost, d["compile"]),
            epoch=many(EpochTiming, d["epoch"]),
            memory=Memory(**memory) if memory is not None else None,
            targets=many(Target, d.get("targets", [])),
        )

    def row(self, device: str, variant: str, bs: int, phase: str) -> Row:
        """The row of ``variant`` on ``device`` at batch size ``bs`` for ``phase``; ``KeyError`` if it was not run."""
        for r in self.rows:
            if (r.device, r.variant, r.batch_size, r.phase) == (device, variant, bs, phase):
                return r
        raise KeyError((device, variant, bs, phase))

    def train_rows(self, device: str, bs: int | None = None, exclude: frozenset | set = frozenset()) -> list[Row]:
        """The training rows of ``device`` (at batch size ``bs``, or all), leaving out the variants in ``exclude``."""
        return [
            r
            for r in self.rows
            if r.device == device
            and r.phase == "train"
            and (bs is None or r.batch_size == bs)
            and r.variant not in exclude
        ]


def fastest(rows: list[Row]) -> Row | None:
    """The row with the most images per second, or ``None`` if there are none."""
    return max(rows, key=lambda r: r.images_per_s) if rows else None


# ---------------------------------------------------------------- what follows from the measurements


def add_ratios(result: BenchResult, not_eager: frozenset[str]) -> None:
    """Ratio to the seed row of the same device, batch size and phase; GFLOP/s against the peak; compile payoff.

    ``not_eager``: the variants that pay a compile or capture first (and the seed), left out of "the fastest eager".
    """
    for r in result.rows:
        try:
            r.ratio_to_seed = r.images_per_s / result.row(r.device, "seed", r.batch_size, r.phase).images_per_s
        except KeyError:
            r.ratio_to_seed = None
        flops = result.model.train_flops if r.phase == "train" else result.model.forward_flops
        r.gflops = r.images_per_s * flops / 1e9
        r.peak_fraction = r.gflops / result.devices[r.device].peak_gflops
    for c in result.compile:
        _add_compile_payoff(result, c, not_eager)
    result.targets = _targets(result)


def _add_compile_payoff(result: BenchResult, c: CompileCost, not_eager: frozenset[str]) -> None:
    """Does compiling pay for itself within one epoch (training + evaluation), against the fastest eager variant?"""
    best = fastest(result.train_rows(c.device, c.batch_size, exclude=not_eager))
    if best is None:
        return
    eager = best.variant

    def rate(variant: str, phase: str) -> float:
        return result.row(c.device, variant, c.batch_size, phase).images_per_s

    n_t, n_e = result.data.train_images, result.data.eval_images
    compiled = c.train_compile_s + c.eval_compile_s + n_t / rate("compile", "train") + n_e / rate("compile", "eval")
    plain = n_t / rate(eager, "train") + n_e / rate(eager, "eval")
    saved_per_epoch = plain - (n_t / rate("compile", "train") + n_e / rate("compile", "eval"))
    c.against = eager
    c.epoch_s_compiled = compiled
    c.epoch_s_eager = plain
    c.pays_off_in_one_epoch = compiled < plain
    c.epochs_to_break_even = (c.train_compile_s + c.eval_compile_s) / saved_per_epoch if saved_per_epoch > 0 else None


def _targets(result: BenchResult) -> list[Target]:
    """The course's speed targets, each with the best variant measured against it and whether it was met."""
    targets = []
    for bs, goal in TARGETS.items():
        best = fastest([r for r in result.train_rows("cpu", bs, exclude={"seed"}) if r.ratio_to_seed])
        if best is not None:
            targets.append(
                Target(
                    device="cpu",
                    batch_size=bs,
                    goal=goal,
                    best_variant=best.variant,
                    ratio=best.ratio_to_seed,
                    met=best.ratio_to_seed >= goal,
                )
            )
    best = fastest(result.train_rows("cuda"))
    if best is not None:
        targets.append(
            Target(
                device="cuda",
                batch_size=best.batch_size,
                goal_images_per_s=GPU_TARGET,
                best_variant=best.variant,
                images_per_s=best.images_per_s,
                met=best.images_per_s >= GPU_TARGET,
            )
        )
    return targets


# ---------------------------------------------------------------- the table and the JSON


def format_table(result: BenchResult) -> str:
    """The results as plain-text tables: images/s (ratio to seed) per variant and batch size."""
    lines = [
        f"LeNet-5 throughput: {result.data.train_images:,} train / {result.data.eval_images:,} eval images "
        f"({result.data.source}); PyTorch {result.torch}, {result.cpu_threads} CPU threads",
        f"forward {result.model.forward_macs / 1e6:.3f} M multiply-accumulates per image; "
        f"training counted as {result.model.train_flops / 1e6:.2f} MFLOP, "
        f"evaluation {result.model.forward_flops / 1e6:.2f} MFLOP per image",
        f"throughput: {result.timing.statistic}, {result.timing.rounds} rounds, variants taking turns",
    ]
    if result.memory is not None:
        lines.append(f"memory: {result.memory.note}")
    for device, info in result.devices.items():
        sizes = sorted({r.batch_size for r in result.rows if r.device == device})
        names = [
            v["name"]
            for v in result.variants
            if any(r.variant == v["name"] and r.device == device for r in result.rows)
        ]
        lines.append("")
        lines.append(f"{device}: {info.name}; peak {info.peak_gflops:,.0f} GFLOP/s ({info.peak_method})")
        for phase in ("train", "eval"):
            head = f"  {phase + ' img/s (x seed)':<26}" + "".join(f"{'batch ' + str(bs):>22}" for bs in sizes)
            lines.append(head)
            for name in names:
                cells = []
                for bs in sizes:
                    try:
                        row = result.row(device, name, bs, phase)
                    except KeyError:
                        cells.append(f"{'-':>22}")
                        continue
                    ratio = f"(x{row.ratio_to_seed:.1f})" if row.ratio_to_seed else ""
                    cells.append(f"{row.images_per_s:>13,.0f} {ratio:>8}")
                lines.append(f"  {name:<26}" + "".join(cells))
            if phase == "train":
                lines.append(_page_faults(result, device, sizes))
            best = max((r for r in result.rows if r.device == device and r.phase == phase), key=lambda r: r.gflops)
            lines.append(
                f"  best {phase}: {best.variant} at batch {best.batch_size}: {best.gflops:.1f} GFLOP/s, "
                f"{100 * best.peak_fraction:.1f}% of the measured peak"
            )
    for variant, device, reason in dict.fromkeys((s.variant, s.device, s.reason) for s in result.skipped):
        lines.append(f"skipped {variant} on {device}: {reason}")
    bad = [c for c in result.checks if not c.ok]
    n_checks = len(result.checks)
    lines.append("")
    lines.append(
        f"correctness: {n_checks - len(bad)}/{n_checks} variant checks agree with the seed pipeline "
        "(same batch and weights: loss, evaluation loss and accuracy, loss after one step)"
        + ("" if not bad else "; DISAGREE: " + ", ".join(f"{c.variant}@{c.device}/{c.batch_size}" for c in bad))
    )
    for c in result.compile:
        if c.against is None:
            continue
        verdict = "pays for itself" if c.pays_off_in_one_epoch else "does not pay for itself"
        even = "; never breaks even"
        if c.epochs_to_break_even:
            even = f"; breaks even after {c.epochs_to_break_even:.1f} epochs"
        lines.append(
            f"torch.compile on {c.device} at batch {c.batch_size}: "
            f"{c.train_compile_s:.1f} s to compile training, "
            f"{c.eval_compile_s:.1f} s evaluation; within one epoch it {verdict} against {c.against} "
            f"({c.epoch_s_compiled:.1f} s vs {c.epoch_s_eager:.1f} s){even}"
        )
    for e in result.epoch:
        lines.append(
            f"one epoch end to end on {e.device}: {e.train_images:,} train + {e.eval_images:,} eval images in "
            f"{e.seconds:.2f} s ({e.images_per_s:,.0f} img/s): {e.how}, batch {e.batch_size}"
        )
    for t in result.targets:
        if t.device == "cpu":
            lines.append(
                f"target, CPU training at batch {t.batch_size}: x{t.ratio:.2f} ({t.best_variant}) "
                f"against >= x{t.goal}: {'met' if t.met else 'not met'}"
            )
        else:
            lines.append(
                f"target, GPU training: {t.images_per_s:,.0f} img/s ({t.best_variant}, batch {t.batch_size}) "
                f"against >= {t.goal_images_per_s:,}: {'met' if t.met else 'not met'}"
            )
    return "\n".join(lines)


def _page_faults(result: BenchResult, device: str, sizes: list[int]) -> str:
    """One line: the training rows that took page faults, per batch, at each batch size."""
    parts = []
    for bs in sizes:
        faulty = [
            f"{r.variant} {r.page_faults_per_batch:,.0f}"
            for r in result.train_rows(device, bs)
            if r.page_faults_per_batch >= 1
        ]
        parts.append(f"batch {bs}: " + (", ".join(faulty) if faulty else "none"))
    return "  page faults per training batch: " + "; ".join(parts)


def write_json(result: BenchResult, path: str | Path) -> Path:
    """Write ``result`` to ``path`` as JSON (its folder made if need be); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_dict(), indent=1))
    return out
