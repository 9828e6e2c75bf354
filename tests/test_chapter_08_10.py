"""Chapters 8-10: what the chapters write inline agrees with the package (nbval runs the chapters)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from lenet_course import LeNet5, TensorLoader, get_accuracy, plots, train
from lenet_course.data import Split, mnist_transform

from .conftest import ROOT


def cell_namespace(chapter: str, *cell_ids: str) -> dict:
    """Run the named code cells of a chapter (solutions included) and return their globals."""
    cells = {c["id"]: c for c in json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))["cells"]}
    namespace: dict = {"torch": torch, "nn": nn, "transforms": transforms}
    for cell_id in cell_ids:
        source = cells[cell_id]["source"]
        exec("".join(source) if isinstance(source, list) else source, namespace)  # noqa: S102
    return namespace


def _tiny_split(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Split(
        torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.randint(0, 10, (n,), generator=g)
    )


def test_chapter8_training_step_is_the_package_train():
    ns = cell_namespace("08_training_loop.ipynb", "ex-8-1", "ex-8-2")
    loader = TensorLoader(_tiny_split(), batch_size=32)
    torch.manual_seed(0)
    by_hand, packaged = LeNet5(), LeNet5()
    packaged.load_state_dict(by_hand.state_dict())
    criterion = nn.CrossEntropyLoss()
    opt_hand = torch.optim.Adam(by_hand.parameters(), lr=1e-3)
    opt_pack = torch.optim.Adam(packaged.parameters(), lr=1e-3)
    losses = [ns["training_step"](by_hand, criterion, opt_hand, X, y) for X, y in loader]
    _, _, epoch_loss = train(loader, packaged, criterion, opt_pack, "cpu")
    for a, b in zip(by_hand.parameters(), packaged.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert epoch_loss == pytest.approx(
        sum(losses) / len(losses), rel=1e-6
    )  # three equal batches of 32: the mean of the batch losses
    X_all, y_all = loader.images, loader.labels
    assert ns["accuracy"](by_hand(X_all), y_all) == pytest.approx(get_accuracy(by_hand, loader, "cpu"))


def test_chapter9_solutions_agree_with_plots():
    ns = cell_namespace("09_prediction_gallery.ipynb", "ex-9-1", "ex-9-2", "ex-9-3")
    g = torch.Generator().manual_seed(1)
    y_true, y_pred = torch.randint(0, 10, (400,), generator=g), torch.randint(0, 10, (400,), generator=g)
    cm = ns["confusion_matrix"](y_true, y_pred)
    assert torch.equal(cm, plots.confusion_matrix(y_true, y_pred))
    assert torch.allclose(ns["per_class_accuracy"](cm).double(), plots.per_class_accuracy(cm))
    probs = torch.softmax(torch.randn(50, 10, generator=g), dim=1)
    assert ns["least_confident"](probs, 5).tolist() == torch.argsort(probs.max(1).values)[:5].tolist()


def test_chapter10_pipeline_without_ranges_is_chapter7s_transform():
    ns = cell_namespace("10_augmentation.ipynb", "ex-10-1")
    digit = Image.fromarray(np.asarray(_tiny_split(1).images[0]))
    assert torch.equal(ns["build_augmentation"](0, 0)(digit), mnist_transform("pad")(digit))
    names = [type(t).__name__ for t in ns["build_augmentation"](15, 10).transforms]
    assert names == ["RandomAffine", "Pad", "ToTensor"]


def test_chapters_write_checkpoints_under_runs_only():
    for chapter, folder in (("08_training_loop.ipynb", "ch08"), ("09_prediction_gallery.ipynb", "ch09")):
        text = (ROOT / "chapters" / chapter).read_text(encoding="utf-8")
        assert f'Path(\\"runs\\") / \\"{folder}\\"' in text
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()
