import random

import numpy as np
import pytest
import torch

from lenet_course.environment import environment_report, get_device, set_seed, setup


def test_set_seed_repeats_every_generator():
    set_seed(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_get_device_default_and_explicit(monkeypatch):
    monkeypatch.delenv("LENET_COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = get_device()
    if expected:
        assert device.type == expected
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LENET_COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_asking_for_missing_cuda_is_clear():
    with pytest.raises(ValueError, match="no CUDA GPU is available; use 'cpu'"):
        get_device("cuda")


def test_environment_report_is_one_line():
    line = environment_report("cpu", data_source="MNIST from a folder")
    assert "\n" not in line
    assert f"PyTorch {torch.__version__}" in line and "device cpu" in line and line.endswith("data MNIST from a folder")


def test_setup_seeds_and_returns_the_device(capsys, monkeypatch):
    monkeypatch.setenv("LENET_COURSE_DEVICE", "cpu")
    assert setup(seed=3) == torch.device("cpu")
    assert "device cpu" in capsys.readouterr().out
    a = torch.rand(1)
    setup(seed=3, quiet=True)
    assert torch.equal(torch.rand(1), a)
