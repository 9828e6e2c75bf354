"""Chapters 0-3: what the chapters build inline agrees with the package (nbval runs the chapters)."""

import json
import math

import pytest
import torch
from torch import nn

from lenet_course import shapes
from lenet_course.paper.network import TrainableSubsampling, scaled_tanh

from .conftest import ROOT


def cell_namespace(chapter: str, *cell_ids: str) -> dict:
    """Run the named code cells of a chapter (solutions included) and return their globals."""
    cells = {c["id"]: c for c in json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))["cells"]}
    namespace: dict = {"torch": torch, "nn": nn, "math": math, "F": torch.nn.functional}
    for cell_id in cell_ids:
        source = cells[cell_id]["source"]
        exec("".join(source) if isinstance(source, list) else source, namespace)  # noqa: S102
    return namespace


def test_chapter1_solution_agrees_with_the_package():
    conv_output_size = cell_namespace("01_output_size_formula.ipynb", "ex-1-1")["conv_output_size"]
    for W in range(1, 20):
        for F in range(1, 7):
            for P in range(0, 3):
                for S in range(1, 4):
                    try:
                        expected = shapes.conv_output_size(W, F, P, S)
                    except ValueError:
                        with pytest.raises(ValueError):
                            conv_output_size(W, F, P, S)
                    else:
                        assert conv_output_size(W, F, P, S) == expected


def test_chapter3_subsampling_is_the_packaged_one():
    ns = cell_namespace("03_s2_subsampling.ipynb", "c03-squash", "c03-module")
    torch.manual_seed(0)
    inline, packaged = ns["Subsampling"](16), TrainableSubsampling(16)
    x = torch.randn(2, 16, 10, 10)
    assert torch.allclose(ns["squash"](x), scaled_tanh(x))
    with torch.no_grad():
        packaged.weight.copy_(inline.coefficient)
        packaged.bias.copy_(inline.bias)
    assert torch.allclose(inline(x), packaged(x), atol=1e-6)
    assert inline(x).shape == (2, 16, 5, 5)
    assert sum(p.numel() for p in inline.parameters()) == sum(p.numel() for p in packaged.parameters()) == 32
    assert inline.connections((16, 10, 10), (16, 5, 5)) == packaged.connections((16, 10, 10), (16, 5, 5)) == 2000
    bound = 2.4 / 4
    assert inline.coefficient.abs().max() <= bound and inline.bias.abs().max() <= bound


def test_chapter2_loop_convolution_is_pytorchs():
    conv = cell_namespace("02_c1_convolution.ipynb", "ex-2-2")["conv2d_single_channel"]
    image, kernel = torch.randn(9, 7), torch.randn(4, 3)
    expected = torch.nn.functional.conv2d(image[None, None], kernel[None, None], torch.tensor([0.3]))[0, 0]
    assert torch.allclose(conv(image, kernel, 0.3), expected, atol=1e-5)
