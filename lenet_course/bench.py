"""How fast is training? The seed article's pipeline against the course's fast path.

Used by ``python -m lenet_course bench`` (``make bench``) and the course's
closing note on speed. One process runs every variant side by side, on the
same LeNet-5 weights, the same data and the same optimiser (Adam, lr 1e-3):

- ``seed``: the article as written: a torchvision-style dataset of PIL images,
  ``Resize((32, 32))`` and ``ToTensor`` on every image, a ``DataLoader``, a
  model returning ``(logits, probs)``, ``loss.item()`` on every batch;
- ``tensor``: the same loop and model fed by :class:`~lenet_course.data.TensorLoader`
  (the images resized once, up front, to the very same pixels);
- then one speed-up at a time, each row keeping the ones above it: the
  course's model and ``fit`` loop (no softmax while training), Adam with
  ``foreach`` then ``fused`` kernels, channels-last memory format,
  ``inference_mode`` for evaluation, ``torch.compile``, and CUDA graphs (GPU).

Throughput is the best of several short rounds, the variants taking turns, so
that other work on the machine hurts them all alike; the table gives images
per second, the ratio to ``seed`` at the same batch size, and the GFLOP/s this
means next to the peak measured with a large matrix product in the same
process. Before timing, every variant computes the loss of the same batch from
the same weights, evaluates it, takes one step and evaluates again: the
numbers must agree within float tolerance.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .data import FASHION_SYSTEM_DIR, Split, SplitDataset, TensorLoader, _cache_dir, find_idx_files, mnist_transform
from .idx import read_images_and_labels
from .models import LeNet5, logits_of

__all__ = [
    "SeedLeNet5",
    "seed_model_from",
    "BenchData",
    "load_bench_data",
    "resize_once",
    "forward_macs",
    "measure_peak_gflops",
    "Variant",
    "VARIANTS",
    "run_benchmark",
    "format_table",
    "add_arguments",
    "run",
]

FULL_TRAIN, FULL_EVAL = 60_000, 10_000
TARGETS = {32: 2.0, 256: 3.5}  # best CPU training path against the seed pipeline, same run
GPU_TARGET = 1_000_000  # training images per second on an H200-class card


# ---------------------------------------------------------------- the seed article's model

class SeedLeNet5(nn.Module):
    """LeNet-5 exactly as the seed article defines it: returns ``(logits, probs)``."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=6, out_channels=16, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=16, out_channels=120, kernel_size=5, stride=1),
            nn.Tanh(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(in_features=120, out_features=84),
            nn.Tanh(),
            nn.Linear(in_features=84, out_features=n_classes),
        )

    def forward(self, x):
        x = self.feature_extractor(x)
        x = torch.flatten(x, 1)
        logits = self.classifier(x)
        probs = F.softmax(logits, dim=1)
        return logits, probs


_SEED_NAMES = {"c1": "feature_extractor.0", "c3": "feature_extractor.3", "c5": "feature_extractor.6", "f6": "classifier.0", "f7": "classifier.2"}


def seed_model_from(model: LeNet5) -> SeedLeNet5:
    """A :class:`SeedLeNet5` holding a copy of ``model``'s weights (same layers, other names)."""
    seed = SeedLeNet5(model.f7.out_features)
    state = {}
    for name, tensor in model.state_dict().items():
        layer, kind = name.split(".")
        state[f"{_SEED_NAMES[layer]}.{kind}"] = tensor.clone()
    seed.load_state_dict(state)
    return seed


# ---------------------------------------------------------------- data

@dataclass
class BenchData:
    """The images to train and evaluate on (uint8, 28x28) and where they came from."""

    train: Split
    eval: Split
    source: str

    def __repr__(self) -> str:
        return f"BenchData({len(self.train):,} train / {len(self.eval):,} eval images from {self.source})"


def _generated(n: int, seed: int) -> Split:
    """``n`` random images of MNIST's shape: a bright class-dependent bar on noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randint(0, 64, (n, 28, 28), generator=g, dtype=torch.uint8)
    rows = 4 + 2 * labels  # class c lights up rows 4+2c and 5+2c
    for offset in (0, 1):
        images[torch.arange(n), rows + offset, 4:24] = 255
    return Split(images, labels)


def load_bench_data(data: str = "auto", n_train: int = FULL_TRAIN, n_eval: int = FULL_EVAL, seed: int = 0) -> BenchData:
    """``n_train`` + ``n_eval`` images: full MNIST or Fashion-MNIST when present, else generated.

    ``data="auto"`` looks (without downloading) in ``LENET_COURSE_DATA``, the
    course's cache folder and the Debian Fashion-MNIST folder; ``"generated"``
    skips the search.
    """
    if data not in {"auto", "generated"}:
        raise ValueError(f"data must be 'auto' or 'generated', got {data!r}")
    if data == "auto":
        folders = [Path(p) for p in [os.environ.get("LENET_COURSE_DATA")] if p and p not in {"auto", "sample", "download"}]
        candidates = [(f, "mnist") for f in folders + [_cache_dir()]] + [(f, "fashion") for f in folders + [_cache_dir(), FASHION_SYSTEM_DIR]]
        for folder, dataset in candidates:
            found = find_idx_files(folder, dataset)
            if "train" in found and "test" in found:
                train = Split(*(torch.from_numpy(a.copy()) for a in read_images_and_labels(*found["train"])))
                test = Split(*(torch.from_numpy(a.copy()) for a in read_images_and_labels(*found["test"])))
                if len(train) >= n_train and len(test) >= n_eval:
                    name = "Fashion-MNIST" if dataset == "fashion" else "MNIST"
                    return BenchData(_head(train, n_train), _head(test, n_eval), f"{name} in {folder}")
    return BenchData(_generated(n_train, seed), _generated(n_eval, seed + 1), "generated images of MNIST's shape")


def _head(split: Split, n: int) -> Split:
    return Split(split.images[:n], split.labels[:n].long())


def resize_once(images: torch.Tensor) -> torch.Tensor:
    """Every uint8 28x28 image resized to 32x32 at once, pixel for pixel as the article's PIL ``Resize``."""
    from torchvision.transforms.v2 import functional as TF

    return TF.resize(images.unsqueeze(1), [32, 32], antialias=True).squeeze(1)


# ---------------------------------------------------------------- the compute floor

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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
            _sync(device)
            tic = time.perf_counter()
            torch.mm(a, b)
            _sync(device)
            best = min(best, time.perf_counter() - tic)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    return 2 * n**3 / best / 1e9, f"best of {repeats} float32 {n}x{n} matrix products (torch.mm{threads})"


# ---------------------------------------------------------------- the variants

@dataclass(frozen=True)
class Variant:
    """One row of the benchmark: how the data is fed, which model and loop, which speed-ups."""

    name: str
    adds: str
    pipeline: str = "tensor"  # "seed": DataLoader of PIL images; "tensor": TensorLoader
    loop: str = "fit"  # "seed": the article's train/validate loop and model; "fit": the course's
    optimizer: str = "default"  # Adam(...), Adam(foreach=True), Adam(fused=True)
    channels_last: bool = False
    inference_mode: bool = False
    compile: bool = False
    cuda_graph: bool = False

    @property
    def static_shapes(self) -> bool:
        return self.compile or self.cuda_graph


VARIANTS = [
    Variant("seed", "the article: PIL Resize + ToTensor per image, DataLoader, softmax in the model", "seed", "seed"),
    Variant("tensor", "TensorLoader: the whole split as one tensor, batches by index", "tensor", "seed"),
    Variant("logits", "the course's LeNet5 and fit loop: no softmax while training (the fast path, eager)"),
    Variant("foreach", "Adam(foreach=True): one kernel per step for all parameters", optimizer="foreach"),
    Variant("fused", "Adam(fused=True): the whole update in one fused kernel", optimizer="fused"),
    Variant("channels_last", "model.to(memory_format=torch.channels_last)", optimizer="fused", channels_last=True),
    Variant("inference", "torch.inference_mode() for evaluation (training as above)", optimizer="fused", channels_last=True, inference_mode=True),
    Variant("compile", "torch.compile(model)", optimizer="fused", channels_last=True, inference_mode=True, compile=True),
    Variant(
        "cuda_graph", "the whole training step captured as one CUDA graph (GPU only)",
        optimizer="fused", channels_last=True, inference_mode=True, cuda_graph=True,
    ),
]


# ---------------------------------------------------------------- runners

def _view(loader, batch_size: int, drop_last: bool):
    """Another loader over the same tensors, with its own batch size and epoch count."""
    if isinstance(loader, TensorLoader):
        view = copy.copy(loader)  # shares the image tensor: no second copy in memory
        view.batch_size, view.drop_last, view.epoch = batch_size, drop_last, 0
        return view
    from torch.utils.data import DataLoader, RandomSampler

    shuffle = isinstance(loader.sampler, RandomSampler)
    return DataLoader(loader.dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)


class _Runner:
    """One variant at one batch size on one device: its model, optimiser and loaders."""

    def __init__(self, variant: Variant, device: torch.device, batch_size: int, loaders: dict, init: LeNet5) -> None:
        self.variant, self.device, self.batch_size = variant, device, batch_size
        course = copy.deepcopy(init)
        model = seed_model_from(course) if variant.loop == "seed" else course
        model.to(device)
        if variant.channels_last:
            model.to(memory_format=torch.channels_last)
        self.model = model
        kwargs = {"foreach": {"foreach": True}, "fused": {"fused": True}}.get(variant.optimizer, {})
        if variant.cuda_graph:
            kwargs = {**kwargs, "capturable": True}
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **kwargs)
        self.criterion = nn.CrossEntropyLoss()
        self.net = torch.compile(model, dynamic=False) if variant.compile else model
        self.train_loader = _view(loaders["train"], batch_size, variant.static_shapes)
        self.eval_loader = _view(loaders["eval"], batch_size, variant.static_shapes)
        self._iters: dict[str, object] = {}
        self.running_loss = 0.0  # the article's running total, a Python float
        self.loss_sum = torch.zeros((), device=device)  # fit's running totals, on the device
        self.correct = torch.zeros((), dtype=torch.long, device=device)
        self.eval_loss_sum = torch.zeros((), device=device)
        self.eval_correct = torch.zeros((), dtype=torch.long, device=device)

    def _next(self, which: str):
        """The next batch of the train or eval loader, starting a new epoch when one ends."""
        loader = self.train_loader if which == "train" else self.eval_loader
        try:
            return next(self._iters[which])
        except (KeyError, StopIteration):
            self._iters[which] = iter(loader)
            return next(self._iters[which])

    def _prepare(self, X: torch.Tensor) -> torch.Tensor:
        X = X.to(self.device, non_blocking=True)
        return X.contiguous(memory_format=torch.channels_last) if self.variant.channels_last else X

    # one batch, as each loop does it --------------------------------------
    def train_batch(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One training step; returns the loss before the step (on the device)."""
        if self.variant.loop == "seed":  # the article's train(), line for line
            self.optimizer.zero_grad()
            X = X.to(self.device)
            y_true = y.to(self.device)
            y_hat, _ = self.net(X)
            loss = self.criterion(y_hat, y_true)
            self.running_loss += loss.item() * X.size(0)
            loss.backward()
            self.optimizer.step()
            return loss.detach()
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)  # the course's fit(), line for line
        self.optimizer.zero_grad(set_to_none=True)
        out = logits_of(self.net(X))
        loss = self.criterion(out, y)
        loss.backward()
        self.optimizer.step()
        self.loss_sum += loss.detach() * y.size(0)
        self.correct += (out.detach().argmax(1) == y).sum()
        return loss.detach()

    def eval_batch(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(summed loss, correct count)`` of one batch, on the device."""
        if self.variant.loop == "seed":  # the article's validate() and get_accuracy() in one pass
            X = X.to(self.device)
            y_true = y.to(self.device)
            y_hat, y_prob = self.net(X)
            loss = self.criterion(y_hat, y_true)
            self.running_loss += loss.item() * X.size(0)
            _, predicted_labels = torch.max(y_prob, 1)
            return loss * X.size(0), (predicted_labels == y_true).sum()
        X, y = self._prepare(X), y.to(self.device, non_blocking=True)  # the course's evaluate()
        out = logits_of(self.net(X))
        return self.criterion(out, y) * y.size(0), (out.argmax(1) == y).sum()

    def _eval_context(self):
        return torch.inference_mode() if self.variant.inference_mode else torch.no_grad()

    # many batches ---------------------------------------------------------
    def train(self, batches: int) -> int:
        """Train on the next ``batches`` batches; returns the number of images."""
        self.net.train()
        n = 0
        for _ in range(batches):
            X, y = self._next("train")
            self.train_batch(X, y)
            n += len(y)
        return n

    def evaluate(self, batches: int) -> int:
        """Evaluate the next ``batches`` batches; returns the number of images."""
        self.net.eval()
        n = 0
        with self._eval_context():
            for _ in range(batches):
                X, y = self._next("eval")
                loss, correct = self.eval_batch(X, y)
                self.eval_loss_sum += loss
                self.eval_correct += correct
                n += len(y)
        return n

    def check(self, X: torch.Tensor, y: torch.Tensor) -> dict:
        """From the initial weights: evaluate ``(X, y)``, train one step on it, evaluate again."""
        tic = time.perf_counter()
        self.net.eval()
        with self._eval_context():
            eval_loss, correct = self.eval_batch(X, y)
            eval_loss, correct = eval_loss.item() / len(y), int(correct)
        _sync(self.device)
        first_eval = time.perf_counter() - tic
        tic = time.perf_counter()
        self.net.train()
        train_loss = self.train_batch(X, y).item()
        _sync(self.device)
        first_train = time.perf_counter() - tic
        self.net.eval()
        with self._eval_context():
            after, _ = self.eval_batch(X, y)
        return {
            "eval_loss": eval_loss,
            "eval_correct": correct,
            "train_loss": train_loss,
            "loss_after_step": after.item() / len(y),
            "first_eval_s": first_eval,
            "first_train_s": first_train,
        }

    def epoch(self) -> tuple[int, int]:
        """One whole pass over the training data, then one over the evaluation data."""
        self._iters.clear()
        train_n = self.train(len(self.train_loader))
        eval_n = self.evaluate(len(self.eval_loader))
        eval_n += self._eval_rest()
        _sync(self.device)
        return train_n, eval_n

    def _eval_rest(self) -> int:
        """Static-shape variants drop the last, smaller batch; evaluate it eagerly."""
        n_all = len(self.eval_loader.labels) if isinstance(self.eval_loader, TensorLoader) else len(self.eval_loader.dataset)
        rest = n_all - len(self.eval_loader) * self.batch_size if self.variant.static_shapes else 0
        if rest <= 0:
            return 0
        self.model.eval()
        with self._eval_context():
            X, y = self.eval_loader.images[-rest:], self.eval_loader.labels[-rest:]
            logits_of(self.model(self._prepare(X)))
        return rest


class _GraphRunner(_Runner):
    """The training step and the evaluation step each captured once as a CUDA graph, then replayed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bs = self.batch_size
        self.static_x = torch.zeros(bs, 1, 32, 32, device=self.device).contiguous(memory_format=torch.channels_last)
        self.static_y = torch.zeros(bs, dtype=torch.long, device=self.device)
        self.train_graph = self.eval_graph = None

    def _capture(self) -> None:
        model, opt, x, y = self.model, self.optimizer, self.static_x, self.static_y
        start = [p.detach().clone() for p in model.parameters()]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm up (cuDNN plans, optimiser state) off the main stream
            for _ in range(3):
                opt.zero_grad(set_to_none=True)
                self.criterion(model(x), y).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                model(x)
        torch.cuda.current_stream(self.device).wait_stream(side)
        self.eval_graph = torch.cuda.CUDAGraph()
        with torch.no_grad(), torch.cuda.graph(self.eval_graph):
            out = model(x)
            self.eval_out = (self.criterion(out, y) * len(y), (out.argmax(1) == y).sum())
        model.train()
        opt.zero_grad(set_to_none=True)
        self.train_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.train_graph):
            out = model(x)
            loss = self.criterion(out, y)
            loss.backward()
            opt.step()
            self.loss_sum += loss.detach() * len(y)
            self.correct += (out.detach().argmax(1) == y).sum()
        self.train_loss = loss
        with torch.no_grad():  # back to the initial weights and a fresh optimiser
            for p, p0 in zip(model.parameters(), start):
                p.copy_(p0)
            for state in opt.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()
            self.loss_sum.zero_()
            self.correct.zero_()

    def _load(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.static_x.copy_(X)
        self.static_y.copy_(y)

    def check(self, X: torch.Tensor, y: torch.Tensor) -> dict:
        """Capture both graphs (which leaves the weights as they were), then check as the others do."""
        tic = time.perf_counter()
        self._load(X, y)
        self._capture()
        capture = time.perf_counter() - tic
        result = super().check(X, y)
        result["first_train_s"] += capture
        return result

    def train_batch(self, X, y):
        self._load(X, y)
        self.train_graph.replay()
        return self.train_loss.detach()

    def eval_batch(self, X, y):
        self._load(X, y)
        self.eval_graph.replay()
        return self.eval_out[0].clone(), self.eval_out[1].clone()

    def train(self, batches: int) -> int:
        for _ in range(batches):
            X, y = self._next("train")
            self.train_batch(X, y)
        return batches * self.batch_size

    def evaluate(self, batches: int) -> int:
        for _ in range(batches):
            X, y = self._next("eval")
            self.eval_batch(X, y)
        return batches * self.batch_size


def _make_runner(variant: Variant, device: torch.device, batch_size: int, loaders: dict, init: LeNet5) -> _Runner:
    cls = _GraphRunner if variant.cuda_graph else _Runner
    return cls(variant, device, batch_size, loaders[variant.pipeline], init)


def _loaders(data: BenchData, device: torch.device) -> dict:
    """Both pipelines over the same images: the article's DataLoader, and TensorLoaders on ``device``."""
    from torch.utils.data import DataLoader

    transform = mnist_transform("resize")  # Resize((32, 32)) + ToTensor, per image
    seed = {
        "train": DataLoader(SplitDataset(data.train, transform), batch_size=32, shuffle=True),
        "eval": DataLoader(SplitDataset(data.eval, transform), batch_size=32, shuffle=False),
    }
    tensor = {
        "train": TensorLoader(Split(resize_once(data.train.images), data.train.labels), shuffle=True, device=device, pad=0),
        "eval": TensorLoader(Split(resize_once(data.eval.images), data.eval.labels), shuffle=False, device=device, pad=0),
    }
    return {"seed": seed, "tensor": tensor}


# ---------------------------------------------------------------- measuring

def _timed(device: torch.device, work: Callable[[], int]) -> tuple[int, float]:
    _sync(device)
    tic = time.perf_counter()
    n = work()
    _sync(device)
    return n, time.perf_counter() - tic


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(b))


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
    log: Callable[[str], None] | None = print,
) -> dict:
    """Run the benchmark and return its results as a JSON-ready dict (see :func:`format_table`).

    ``quick`` uses a few hundred images, two one-batch rounds and skips
    ``torch.compile`` unless ``variants`` names it; the full run times
    ``rounds`` rounds of about ``round_seconds`` per variant and phase, and
    one whole epoch plus evaluation end to end. ``gpu_batch_sizes`` are
    measured on a GPU only, after ``batch_sizes`` (a GPU needs big batches).
    ``compile_batch_sizes`` limits ``torch.compile`` (tens of seconds per
    batch size on a small CPU) to those batch sizes; ``None``: all of them.
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
        return _run(bench_data, devices, batch_sizes, gpu_batch_sizes, compile_batch_sizes, quick, variants, names, rounds, round_seconds, epoch, seed, log)


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


def _run(bench_data, devices, batch_sizes, gpu_batch_sizes, compile_batch_sizes, quick, variants, names, rounds, round_seconds, epoch, seed, log) -> dict:

    torch.manual_seed(seed)
    init = LeNet5()
    macs = forward_macs(init)
    result: dict = {
        "command": None,
        "quick": quick,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "data": {"source": bench_data.source, "train_images": len(bench_data.train), "eval_images": len(bench_data.eval)},
        "model": {
            "name": "LeNet-5 (seed article's layers: tanh, average pooling, 61,706 parameters)",
            "forward_macs": macs,
            "forward_flops": 2 * macs,
            "train_flops": 6 * macs,
            "note": "training counted as 3x the forward pass (forward, and the backward's two products)",
        },
        "optimizer": "Adam, lr 1e-3, same initial weights for every variant",
        "timing": {"rounds": rounds, "round_seconds": round_seconds, "statistic": "best round (images/s); the median is kept too"},
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
        chosen = []
        for v in VARIANTS:
            if variants and v.name not in variants:
                continue
            if v.cuda_graph and device.type != "cuda":
                result["skipped"].append({"device": device.type, "variant": v.name, "reason": "CUDA graphs need a CUDA GPU"})
            elif v.compile and quick and not variants:
                reason = "quick mode (compiling takes tens of seconds); name it in --variants to include it"
                result["skipped"].append({"device": device.type, "variant": v.name, "reason": reason})
            else:
                chosen.append(v)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        peak_size = 512 if quick else None  # quick mode: a rough peak, in milliseconds
        peak, how = measure_peak_gflops(device, peak_size)
        label = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
        how += ", measured before and again after each batch size, the best kept"
        result["devices"][device.type] = {"name": label, "peak_gflops": peak, "peak_method": how}
        log(f"{device.type}: {label}, measured float32 peak so far {peak:,.0f} GFLOP/s ({how})")
        tic = time.perf_counter()
        loaders = _loaders(bench_data, device)
        result["devices"][device.type]["tensor_setup_s"] = time.perf_counter() - tic
        sizes = tuple(batch_sizes) + (tuple(b for b in gpu_batch_sizes if b not in batch_sizes) if device.type == "cuda" else ())
        for bs in sizes:
            here = [v for v in chosen if not (v.compile and compile_batch_sizes is not None and bs not in compile_batch_sizes)]
            if len(here) < len(chosen):
                result["skipped"].append({
                    "device": device.type, "variant": "compile", "batch_size": bs,
                    "reason": f"compiled at batch {','.join(map(str, compile_batch_sizes))} only (--compile-batch-sizes)",
                })
            _measure_batch_size(result, here, device, bs, loaders, init, rounds, round_seconds, log)
            # measure the peak again between batch sizes and keep the best: others may share the machine
            info = result["devices"][device.type]
            info["peak_gflops"] = max(info["peak_gflops"], measure_peak_gflops(device, peak_size)[0])
        if epoch:
            _time_epochs(result, chosen, device, bench_data, loaders, init, log)
    _add_ratios(result)
    return result


def _measure_batch_size(result, chosen, device, bs, loaders, init, rounds, round_seconds, log) -> None:
    log(f"{device.type}, batch {bs}: checking {len(chosen)} variants ...")
    runners = [_make_runner(v, device, bs, loaders, init) for v in chosen]
    # the same batch through both pipelines: the first bs training images, in order
    seed_ds = loaders["seed"]["train"].dataset
    n = min(bs, len(seed_ds))
    X_seed = torch.stack([seed_ds[i][0] for i in range(n)])
    X_fast = loaders["tensor"]["train"].images[:n].cpu()
    y = loaders["tensor"]["train"].labels[:n].cpu()
    data_diff = float((X_seed - X_fast).abs().max())
    rtol = 1e-4 if device.type == "cpu" else 2e-3  # cuDNN may use TF32 for convolutions on a GPU
    checks = {}
    for r in runners:
        X = X_seed if r.variant.pipeline == "seed" else X_fast
        checks[r.variant.name] = r.check(X, y)
    reference = checks[chosen[0].name]
    for name, c in checks.items():
        diffs = {k: abs(c[k] - reference[k]) for k in ("train_loss", "eval_loss", "loss_after_step")}
        correct_tol = 0 if device.type == "cpu" else max(1, n // 256)
        ok = all(_close(c[k], reference[k], rtol) for k in diffs) and abs(c["eval_correct"] - reference["eval_correct"]) <= correct_tol
        result["checks"].append(
            {"device": device.type, "batch_size": bs, "variant": name, "reference": chosen[0].name, "images": n,
             "data_max_abs_diff": data_diff, **c,
             "max_loss_diff": max(diffs.values()), "rtol": rtol, "ok": ok and data_diff == 0.0}
        )
        if not ok:
            log(f"  warning: {name} disagrees with {chosen[0].name}: {c} vs {reference}")
    if data_diff:
        log(f"  warning: the two pipelines' images differ by up to {data_diff}")
    # warm up, then size each round to about round_seconds
    sizes = {}
    for r in runners:
        for phase, work in (("train", r.train), ("eval", r.evaluate)):
            dt = _timed(device, lambda: work(1))[1] if round_seconds > 0 else math.inf
            sizes[(r.variant.name, phase)] = max(1, round(round_seconds / dt))
    samples: dict = {key: [] for key in sizes}
    for _ in range(rounds):
        for r in runners:  # the variants take turns, so that noise hits them alike
            for phase, work in (("train", r.train), ("eval", r.evaluate)):
                k = sizes[(r.variant.name, phase)]
                images, dt = _timed(device, lambda: work(k))
                samples[(r.variant.name, phase)].append((images, dt))
    for r in runners:
        for phase in ("train", "eval"):
            runs = samples[(r.variant.name, phase)]
            rates = [images / dt for images, dt in runs]
            per_batch = min(dt / max(1, math.ceil(images / bs)) for images, dt in runs)
            row = {
                "device": device.type, "variant": r.variant.name, "batch_size": bs, "phase": phase,
                "images_per_s": max(rates), "images_per_s_median": statistics.median(rates),
                "batches_timed": sum(math.ceil(images / bs) for images, _ in runs), "rounds": len(runs),
                "first_batch_s": checks[r.variant.name][f"first_{phase}_s"], "batch_s": per_batch,
            }
            result["rows"].append(row)
        if r.variant.compile:
            c = checks[r.variant.name]
            result["compile"].append({
                "device": device.type, "batch_size": bs,
                "train_compile_s": max(0.0, c["first_train_s"] - _row(result, device.type, r.variant.name, bs, "train")["batch_s"]),
                "eval_compile_s": max(0.0, c["first_eval_s"] - _row(result, device.type, r.variant.name, bs, "eval")["batch_s"]),
            })
    rates = [f"{r.variant.name} {_row(result, device.type, r.variant.name, bs, 'train')['images_per_s']:,.0f}" for r in runners]
    log("  " + "  ".join(rates) + "  (training images/s)")


def _row(result: dict, device: str, variant: str, bs: int, phase: str) -> dict:
    for row in result["rows"]:
        if (row["device"], row["variant"], row["batch_size"], row["phase"]) == (device, variant, bs, phase):
            return row
    raise KeyError((device, variant, bs, phase))


def _add_ratios(result: dict) -> None:
    """Ratio to the seed row of the same device, batch size and phase; GFLOP/s against the peak."""
    model = result["model"]
    for row in result["rows"]:
        try:
            base = _row(result, row["device"], "seed", row["batch_size"], row["phase"])["images_per_s"]
            row["ratio_to_seed"] = row["images_per_s"] / base
        except KeyError:
            row["ratio_to_seed"] = None
        flops = model["train_flops"] if row["phase"] == "train" else model["forward_flops"]
        row["gflops"] = row["images_per_s"] * flops / 1e9
        row["peak_fraction"] = row["gflops"] / result["devices"][row["device"]]["peak_gflops"]
    for c in result["compile"]:
        # does compiling pay for itself within one epoch (training + evaluation)?
        eager = _best_eager(result, c["device"], c["batch_size"])
        if eager is None:
            c.update({"against": None, "pays_off_in_one_epoch": None, "epochs_to_break_even": None})
            continue
        comp_t = _row(result, c["device"], "compile", c["batch_size"], "train")["images_per_s"]
        comp_e = _row(result, c["device"], "compile", c["batch_size"], "eval")["images_per_s"]
        eager_t = _row(result, c["device"], eager, c["batch_size"], "train")["images_per_s"]
        eager_e = _row(result, c["device"], eager, c["batch_size"], "eval")["images_per_s"]
        n_t, n_e = result["data"]["train_images"], result["data"]["eval_images"]
        compiled = c["train_compile_s"] + c["eval_compile_s"] + n_t / comp_t + n_e / comp_e
        plain = n_t / eager_t + n_e / eager_e
        saved_per_epoch = plain - (n_t / comp_t + n_e / comp_e)
        c.update({
            "against": eager, "epoch_s_compiled": compiled, "epoch_s_eager": plain,
            "pays_off_in_one_epoch": compiled < plain,
            "epochs_to_break_even": (c["train_compile_s"] + c["eval_compile_s"]) / saved_per_epoch if saved_per_epoch > 0 else None,
        })
    targets = []
    for bs, goal in TARGETS.items():
        rows = [
            r for r in result["rows"]
            if r["device"] == "cpu" and r["batch_size"] == bs and r["phase"] == "train" and r["variant"] != "seed" and r["ratio_to_seed"]
        ]
        if rows:
            best = max(rows, key=lambda r: r["images_per_s"])
            targets.append({
                "device": "cpu", "batch_size": bs, "goal": goal, "best_variant": best["variant"],
                "ratio": best["ratio_to_seed"], "met": best["ratio_to_seed"] >= goal,
            })
    gpu = [r for r in result["rows"] if r["device"] == "cuda" and r["phase"] == "train"]
    if gpu:
        best = max(gpu, key=lambda r: r["images_per_s"])
        targets.append({
            "device": "cuda", "batch_size": best["batch_size"], "goal_images_per_s": GPU_TARGET, "best_variant": best["variant"],
            "images_per_s": best["images_per_s"], "met": best["images_per_s"] >= GPU_TARGET,
        })
    result["targets"] = targets


def _best_eager(result: dict, device: str, bs: int) -> str | None:
    """The fastest variant at training that neither compiles nor captures a graph, if one was run."""
    rows = [
        r for r in result["rows"]
        if r["device"] == device and r["batch_size"] == bs and r["phase"] == "train"
        and r["variant"] not in {"seed", "compile", "cuda_graph"}
    ]
    return max(rows, key=lambda r: r["images_per_s"])["variant"] if rows else None


def _time_epochs(result, chosen, device, data: BenchData, loaders, init, log) -> None:
    """One whole epoch plus evaluation, end to end: the seed pipeline, ``fit`` on the best eager path, and the best path."""
    from .training import fit

    train_rows = [r for r in result["rows"] if r["device"] == device.type and r["phase"] == "train"]
    if not train_rows:
        return
    by_name = {v.name: v for v in chosen}
    entries = []
    if "seed" in by_name:
        entries.append(("seed", by_name["seed"], 32, "the article's pipeline at its batch size 32: train() then validate()"))
    eager_rows = [r for r in train_rows if r["variant"] not in {"seed", "compile", "cuda_graph"}]
    best_eager = max(eager_rows, key=lambda r: r["images_per_s"]) if eager_rows else None
    best = max(train_rows, key=lambda r: r["images_per_s"])
    if best["variant"] not in {"seed"} and (best_eager is None or best["variant"] != best_eager["variant"]):
        what = "the fastest variant measured" + (" (compiled earlier in this run: compile time not included)" if by_name[best["variant"]].compile else "")
        entries.append((best["variant"], by_name[best["variant"]], best["batch_size"], what))
    for name, variant, bs, what in entries:
        log(f"{device.type}: one epoch end to end with {name} at batch {bs} ...")
        tic = time.perf_counter()
        runner = _make_runner(variant, device, bs, loaders, init)
        if variant.cuda_graph:
            X, y = next(iter(runner.train_loader))
            runner.check(X, y)
        train_n, eval_n = runner.epoch()
        seconds = time.perf_counter() - tic
        result["epoch"].append({
            "device": device.type, "how": what, "variant": name, "batch_size": bs, "train_images": train_n,
            "eval_images": eval_n, "seconds": seconds, "images_per_s": (train_n + eval_n) / seconds,
        })
    if best_eager is not None:
        v, bs = by_name[best_eager["variant"]], best_eager["batch_size"]
        log(f"{device.type}: one epoch of fit() with {v.name} at batch {bs} ...")
        tic = time.perf_counter()
        model = copy.deepcopy(init).to(device)
        if v.channels_last:
            model.to(memory_format=torch.channels_last)
        kwargs = {"foreach": {"foreach": True}, "fused": {"fused": True}}.get(v.optimizer, {})
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **kwargs)
        train_loader = _view(loaders["tensor"]["train"], bs, False)
        eval_loader = _view(loaders["tensor"]["eval"], bs, False)
        history = fit(model, train_loader, eval_loader, epochs=1, optimizer=optimizer, device=device, progress=False, log=None)
        _sync(device)
        seconds = time.perf_counter() - tic
        result["epoch"].append({
            "device": device.type, "how": f"lenet_course.fit, 1 epoch, with the {v.name} settings", "variant": v.name, "batch_size": bs,
            "train_images": len(data.train), "eval_images": len(data.eval), "seconds": seconds,
            "images_per_s": (len(data.train) + len(data.eval)) / seconds, "valid_acc": history.valid_acc[0],
        })


# ---------------------------------------------------------------- the table

def format_table(result: dict) -> str:
    """The results as plain-text tables: images/s (ratio to seed) per variant and batch size."""
    lines = [
        f"LeNet-5 throughput: {result['data']['train_images']:,} train / {result['data']['eval_images']:,} eval images "
        f"({result['data']['source']}); PyTorch {result['torch']}, {result['cpu_threads']} CPU threads",
        f"forward {result['model']['forward_macs'] / 1e6:.3f} M multiply-accumulates per image; "
        f"training counted as {result['model']['train_flops'] / 1e6:.2f} MFLOP, evaluation {result['model']['forward_flops'] / 1e6:.2f} MFLOP per image",
        f"throughput: {result['timing']['statistic']}, {result['timing']['rounds']} rounds, variants taking turns",
    ]
    for device, info in result["devices"].items():
        sizes = sorted({r["batch_size"] for r in result["rows"] if r["device"] == device})
        names = [v["name"] for v in result["variants"] if any(r["variant"] == v["name"] and r["device"] == device for r in result["rows"])]
        lines.append("")
        lines.append(f"{device}: {info['name']}; peak {info['peak_gflops']:,.0f} GFLOP/s ({info['peak_method']})")
        for phase in ("train", "eval"):
            head = f"  {phase + ' img/s (x seed)':<26}" + "".join(f"{'batch ' + str(bs):>22}" for bs in sizes)
            lines.append(head)
            for name in names:
                cells = []
                for bs in sizes:
                    try:
                        row = _row(result, device, name, bs, phase)
                    except KeyError:
                        cells.append(f"{'-':>22}")
                        continue
                    ratio = f"(x{row['ratio_to_seed']:.1f})" if row["ratio_to_seed"] else ""
                    cells.append(f"{row['images_per_s']:>13,.0f} {ratio:>8}")
                lines.append(f"  {name:<26}" + "".join(cells))
            best = max((r for r in result["rows"] if r["device"] == device and r["phase"] == phase), key=lambda r: r["gflops"])
            lines.append(
                f"  best {phase}: {best['variant']} at batch {best['batch_size']}: {best['gflops']:.1f} GFLOP/s, "
                f"{100 * best['peak_fraction']:.1f}% of the measured peak"
            )
    for variant, device, reason in dict.fromkeys((s["variant"], s["device"], s["reason"]) for s in result["skipped"]):
        lines.append(f"skipped {variant} on {device}: {reason}")
    bad = [c for c in result["checks"] if not c["ok"]]
    n_checks = len(result["checks"])
    lines.append("")
    lines.append(
        f"correctness: {n_checks - len(bad)}/{n_checks} variant checks agree with the seed pipeline "
        "(same batch and weights: loss, evaluation loss and accuracy, loss after one step)"
        + ("" if not bad else "; DISAGREE: " + ", ".join(f"{c['variant']}@{c['device']}/{c['batch_size']}" for c in bad))
    )
    for c in result["compile"]:
        if c["against"] is None:
            continue
        verdict = "pays for itself" if c["pays_off_in_one_epoch"] else "does not pay for itself"
        even = f"; breaks even after {c['epochs_to_break_even']:.1f} epochs" if c["epochs_to_break_even"] else "; never breaks even"
        lines.append(
            f"torch.compile on {c['device']} at batch {c['batch_size']}: {c['train_compile_s']:.1f} s to compile training, "
            f"{c['eval_compile_s']:.1f} s evaluation; within one epoch it {verdict} against {c['against']} "
            f"({c['epoch_s_compiled']:.1f} s vs {c['epoch_s_eager']:.1f} s){even}"
        )
    for e in result["epoch"]:
        lines.append(
            f"one epoch end to end on {e['device']}: {e['train_images']:,} train + {e['eval_images']:,} eval images in "
            f"{e['seconds']:.2f} s ({e['images_per_s']:,.0f} img/s): {e['how']}, batch {e['batch_size']}"
        )
    for t in result.get("targets", []):
        if t["device"] == "cpu":
            lines.append(
                f"target, CPU training at batch {t['batch_size']}: x{t['ratio']:.2f} ({t['best_variant']}) "
                f"against >= x{t['goal']}: {'met' if t['met'] else 'not met'}"
            )
        else:
            lines.append(
                f"target, GPU training: {t['images_per_s']:,.0f} img/s ({t['best_variant']}, batch {t['batch_size']}) "
                f"against >= {t['goal_images_per_s']:,}: {'met' if t['met'] else 'not met'}"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------- command line

def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected batch sizes like 32,256,1024, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive batch sizes like 32,256,1024, got {text!r}")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``bench`` command's options."""
    parser.add_argument("--quick", action="store_true", help="a few hundred images and one-batch rounds (seconds, for tests)")
    parser.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (the CPU, and CUDA when present)")
    parser.add_argument("--batch-sizes", type=_batch_sizes, default=None, metavar="LIST", help="comma-separated (default 32,256,1024, and 8192 on a GPU)")
    parser.add_argument("--variants", default=None, metavar="LIST", help=f"comma-separated subset of: {', '.join(v.name for v in VARIANTS)}")
    parser.add_argument("--data", choices=["auto", "generated"], default="auto", help="auto: full MNIST or Fashion-MNIST when present, else generated")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per variant and phase (default 15; quick 1)")
    parser.add_argument("--round-seconds", type=float, default=None, help="about how long each round lasts (default 0.1; quick: one batch)")
    parser.add_argument(
        "--compile-batch-sizes", type=_batch_sizes, default=(256,), metavar="LIST",
        help="batch sizes at which to time torch.compile, tens of seconds each on a small CPU (default 256)",
    )
    parser.add_argument("--no-epoch", action="store_true", help="skip timing whole epochs end to end")


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run."""
    parts = ["python -m lenet_course bench"]
    if args.quick:
        parts.append("--quick")
    parts.append(f"--device {args.device} --data {args.data}")
    if args.batch_sizes:
        parts.append(f"--batch-sizes {','.join(map(str, args.batch_sizes))}")
    for flag, value in (("--variants", args.variants), ("--rounds", args.rounds), ("--round-seconds", args.round_seconds), ("--json", args.json)):
        if value is not None:
            parts.append(f"{flag} {value}")
    if args.compile_batch_sizes != (256,):
        parts.append(f"--compile-batch-sizes {','.join(map(str, args.compile_batch_sizes))}")
    if args.no_epoch:
        parts.append("--no-epoch")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m lenet_course bench``: print the table, write the JSON."""
    devices = None if args.device == "auto" else [args.device]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    result = run_benchmark(
        devices=devices, batch_sizes=args.batch_sizes or (32, 256, 1024), quick=args.quick,
        gpu_batch_sizes=(8192,) if args.batch_sizes is None and not args.quick else (),
        compile_batch_sizes=args.compile_batch_sizes, data=args.data, variants=variants,
        rounds=args.rounds, round_seconds=args.round_seconds, epoch=False if args.no_epoch else None, log=print,
    )
    result["command"] = _command(args)
    print()
    print(format_table(result))
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        print(f"\nwrote {out}")
    return 0 if all(c["ok"] for c in result["checks"]) else 1
