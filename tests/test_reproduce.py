"""``python -m lenet_course reproduce`` in quick mode, and ``train --model classic``."""

import json

import pytest

from lenet_course.cli import main

from .conftest import SHARED_MNIST


def _run(tmp_path, *extra):
    out = tmp_path / "rep"
    assert main(["reproduce", "--quick", "--device", "cpu", "--out", str(out), *extra]) == 0
    return out, json.loads((out / "reproduce.json").read_text())


def test_quick_reproduce_on_the_sample_writes_error_per_pass(tmp_path, capsys):
    out, result = _run(tmp_path, "--data", "sample")
    assert sorted(p.name for p in out.iterdir()) == ["reproduce.json", "reproduce.png"]
    assert result["passes"] == 2 and len(result["test_error"]) == 2 and len(result["train_error"]) == 2
    assert result["train_images"] == 1000 and result["paper_error"] == 0.95
    assert "validation" in result["test_set"]  # the sample has no test split, and it says so
    assert result["test_error"][-1] < 50  # chance is 90% error
    printed = capsys.readouterr().out
    assert "the paper: 0.95%" in printed


def test_distortions_compare_with_the_08_result(tmp_path):
    _, result = _run(tmp_path, "--data", "sample", "--distortions", "--passes", "1")
    assert result["distortions"] is True and result["paper_error"] == 0.8 and result["passes"] == 1


@pytest.mark.skipif(not (SHARED_MNIST / "MNIST" / "raw").is_dir(), reason="no MNIST test files beside the checkout")
def test_quick_reproduce_tests_on_the_real_test_set(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_COURSE_DATA", str(SHARED_MNIST))
    _, result = _run(tmp_path)
    assert result["test_set"] == "MNIST test set" and result["test_images"] == 1000


def test_bad_passes_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "--passes", "0", "--data", "sample", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "--passes: expected a positive int, got '0'" in capsys.readouterr().err


def test_train_classic_uses_the_papers_recipe(tmp_path, capsys):
    out = tmp_path / "classic"
    argv = ["train", "--model", "classic", "--epochs", "1", "--data", "sample", "--out", str(out), "--device", "cpu"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "LeNet5Classic" and metrics["batch_size"] == 16 and metrics["epochs"] == 1
    assert metrics["best_valid_acc"] > 0.3
