"""The chapter 6 layer explorer, driven from Python."""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from lenet_course import LeNet5  # noqa: E402
from lenet_course.widgets import LayerExplorer  # noqa: E402
from lenet_course.widgets.layers import plot_layer_weights  # noqa: E402


def test_lists_the_layers_and_shows_the_first():
    w = LayerExplorer(LeNet5(), plot=False)
    assert list(w.layer.options) == ["c1", "s2", "c3", "s4", "c5", "f6", "f7"]
    assert "input 1x32x32 -&gt; output 6x28x28" in w.info.value
    assert "156 trainable parameters (weight 6x1x5x5, bias 6)" in w.info.value


def test_choosing_a_layer_updates_the_view():
    w = LayerExplorer(LeNet5(), plot=False)
    w.layer.value = "c3"
    text = w.describe("c3")
    assert "input 6x14x14 -> output 16x10x10" in text
    assert "2,416 trainable parameters (weight 16x6x5x5, bias 16)" in text
    assert "241,600 connections" in text
    assert "2,416 trainable" in w.info.value
    assert len([ax for ax in w.figure.axes if ax.images]) == 16  # one picture per C3 map
    w.layer.value = "s4"
    assert "0 trainable parameters" in w.info.value and "16x5x5" in w.info.value
    assert w.figure is None
    w.show("f6")
    assert w.layer.value == "f6" and "10,164 trainable parameters" in w.info.value
    assert w.figure.axes[0].images[0].get_array().shape == (84, 120)


def test_plot_layer_weights():
    fig = plot_layer_weights(nn.Conv2d(1, 6, 5))
    assert len([ax for ax in fig.axes if ax.images]) == 6
    fig = plot_layer_weights(nn.Conv2d(16, 120, 5), max_kernels=8)
    assert len([ax for ax in fig.axes if ax.images]) == 8
    assert "first 8 of 120 maps" in fig._suptitle.get_text()
    assert plot_layer_weights(nn.AvgPool2d(2)) is None


def test_explorer_leaves_the_model_mode_alone():
    model = LeNet5().train()
    LayerExplorer(model, plot=False)
    assert model.training
    assert repr(LayerExplorer(model, plot=False)) == "LayerExplorer(LeNet5, layer='c1')"
    assert torch.is_grad_enabled()


def test_the_plot_area_shows_a_picture_or_a_sentence():
    w = LayerExplorer(LeNet5())
    (shown,) = w.plot.outputs
    assert shown["output_type"] == "display_data" and shown["data"]["image/png"]
    assert shown["data"]["text/plain"] == "<weights of c1>"
    w.layer.value = "s2"
    (shown,) = w.plot.outputs
    assert shown["text"] == "s2 has no weights: it averages each 2x2 block of its input.\n"
