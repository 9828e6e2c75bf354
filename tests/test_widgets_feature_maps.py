"""The feature-map explorer: moving its controls shows the map PyTorch computes."""

import re

import pytest
import torch
from torch import nn

from lenet_course import LeNet5, TensorLoader
from lenet_course.widgets import FeatureMapExplorer
from lenet_course.widgets.feature_maps import layer_outputs


@pytest.fixture(scope="module")
def batch(sample_data):
    loader = TensorLoader(sample_data.valid)
    return loader.images[:20], loader.labels[:20]


@pytest.fixture()
def model():
    torch.manual_seed(0)
    return LeNet5()


def test_shows_the_c1_map_pytorch_computes(model, batch):
    images, labels = batch
    explorer = FeatureMapExplorer(model, images, labels, layers=("c1", "s2"))
    explorer.index.value = 7
    explorer.channel.value = 4
    with torch.no_grad():
        expected = model.c1(images[7:8])[0, 4]
    assert torch.allclose(explorer.feature_map, expected)
    info = explorer.info.value
    assert info.startswith(f"Digit #7, label {int(labels[7])} | layer c1, channel 4 of 6 | map 28x28")
    low, high = map(float, re.search(r"values from (\S+) to (\S+) ", info).groups())
    assert low == pytest.approx(float(expected.min()), abs=0.006)
    assert high == pytest.approx(float(expected.max()), abs=0.006)
    assert explorer.picture.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_s2_map_is_the_pooled_squashed_c1_map(model, batch):
    images, labels = batch
    explorer = FeatureMapExplorer(model, images, labels, layers=("c1", "s2"))
    explorer.layer.value = "s2"
    explorer.channel.value = 2
    assert explorer.feature_map.shape == (14, 14)
    with torch.no_grad():
        expected = nn.functional.avg_pool2d(torch.tanh(model.c1(images[:1])), 2)[0, 2]
    assert torch.allclose(explorer.feature_map, expected, atol=1e-6)
    assert "layer s2, channel 2 of 6 | map 14x14" in explorer.info.value


def test_picture_changes_with_the_controls(model, batch):
    images, labels = batch
    explorer = FeatureMapExplorer(model, images, labels, layers=("c1", "c3"))
    first = explorer.picture.value
    explorer.channel.value = 1
    second = explorer.picture.value
    explorer.index.value = 3
    assert len({first, second, explorer.picture.value}) == 3


def test_channel_range_follows_the_layer(model, batch):
    images, _ = batch
    explorer = FeatureMapExplorer(model, images, layers=("c1", "c3"))
    assert explorer.channel.max == 5
    explorer.layer.value = "c3"
    assert explorer.channel.max == 15
    explorer.channel.value = 12
    assert explorer.feature_map.shape == (10, 10)
    explorer.layer.value = "c1"
    assert explorer.channel.max == 5 and explorer.channel.value == 5
    assert ", label" not in explorer.info.value  # no labels given
    assert repr(explorer) == "FeatureMapExplorer(digit=0, layer='c1', channel=5/6)"


def test_css_classes(model, batch):
    explorer = FeatureMapExplorer(model, batch[0])
    assert "lenet-fmap" in explorer._dom_classes
    for name in ("index", "layer", "channel", "picture", "info"):
        assert f"lenet-fmap-{name}" in getattr(explorer, name)._dom_classes


def test_clear_errors(model, batch):
    images, labels = batch
    with pytest.raises(ValueError, match=r"LeNet5 has no layer\(s\) \['c9'\]; choose from \['c1'"):
        FeatureMapExplorer(model, images, layers=("c9",))
    with pytest.raises(ValueError, match="got 20 images but 3 labels"):
        FeatureMapExplorer(model, images, labels[:3])
    with pytest.raises(ValueError, match=r"images must be a batch \(N, 1, H, W\), got \(32,\)"):
        FeatureMapExplorer(model, torch.zeros(32))


def test_layer_outputs_of_a_bare_layer_inside_a_sequential():
    conv = nn.Conv2d(1, 6, 5)
    model = nn.Sequential()
    model.add_module("c1", conv)
    out = layer_outputs(model, torch.randn(1, 32, 32), ["c1"])
    assert out["c1"].shape == (6, 28, 28)
