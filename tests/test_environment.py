import os
import random
import warnings

import numpy as np
import pytest
import torch

from lenet_course.environment import environment_report, get_device, set_seed, setup, synchronize


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


@pytest.fixture
def determinism_restored(monkeypatch):
    """set_seed(deterministic=True) changes process-wide settings: put every one back after the test."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", "recorded")  # so that the value set by set_seed is undone
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG")
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]


@pytest.mark.skipif(torch.cuda.is_initialized(), reason="CUDA is already initialised in this test process")
def test_deterministic_sets_the_cublas_workspace_before_cuda_starts(determinism_restored):
    set_seed(1, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()  # warns about a nondeterministic op, runs on
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    set_seed(1, deterministic=True, warn_only=False)
    assert not torch.is_deterministic_algorithms_warn_only_enabled()


def test_deterministic_keeps_a_workspace_setting_of_the_users_own(determinism_restored, monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)  # even late: the user set it in time
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        set_seed(1, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_deterministic_after_cuda_started_says_so_in_one_line(determinism_restored, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.warns(RuntimeWarning, match="CUDA is already initialised, so CUBLAS_WORKSPACE_CONFIG") as record:
        set_seed(1, deterministic=True)
    assert "\n" not in str(record[0].message) and "restart the kernel" in str(record[0].message)
    assert record[0].filename == __file__  # points at the caller's line, not inside the package
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ  # not set: PyTorch's own check keeps saying it is missing
    assert torch.are_deterministic_algorithms_enabled()


def test_strict_determinism_after_cuda_started_refuses_before_changing_anything(determinism_restored, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    torch.use_deterministic_algorithms(False)
    set_seed(5)
    expected = torch.rand(1)
    set_seed(5)
    with pytest.raises(RuntimeError, match="CUDA is already initialised.*restart the kernel"):
        set_seed(9, deterministic=True, warn_only=False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.equal(torch.rand(1), expected)  # the generators were not reseeded either


def test_seeding_alone_leaves_the_determinism_settings_as_they_are(determinism_restored):
    torch.use_deterministic_algorithms(False)
    set_seed(3)
    assert not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_synchronize_is_a_no_op_on_the_cpu_and_waits_for_cuda(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(torch.device(device)))
    synchronize("cpu")
    synchronize(torch.device("meta"))
    assert calls == []
    synchronize("cuda:0")
    assert calls == [torch.device("cuda:0")]
