"""``python -m lenet_course train`` against every bad input and fault a user is likely to meet, in one table.

Each case is a command line (and, for some, a folder prepared or a fault
injected) with the exit status and the one line it must print. A case
marked ``before_data`` must be refused before any data is loaded. Every
failure is one line on stderr, never a traceback (``--debug`` shows it).
The last tests run real processes: a run killed with SIGKILL and resumed
gives the same history, bit for bit, as a run never interrupted, and Ctrl-C
keeps the last checkpoint.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

import lenet_course.data as data_module
import lenet_course.training as training_module
from lenet_course.checkpoint import load_checkpoint, save_checkpoint
from lenet_course.cli import main
from lenet_course.data import load_sample

from .conftest import ROOT

# ---------------------------------------------------------------- small MNIST folders


def _idx(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_mnist_folder(root: Path, images: np.ndarray, labels: np.ndarray, test: int = 100) -> Path:
    """A flat folder of IDX files: the training pair from ``images``/``labels``, a test pair from the sample."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images), compresslevel=1))
    (root / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels), compresslevel=1))
    if test:
        sample = _sample()
        (root / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(sample[0][-test:]), compresslevel=1))
        (root / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(sample[1][-test:]), compresslevel=1))
    return root


_SAMPLE = []


def _sample() -> tuple[np.ndarray, np.ndarray]:
    """The embedded sample's digits in a fixed shuffled order (it is stored sorted by class)."""
    if not _SAMPLE:
        split = load_sample()
        order = torch.randperm(len(split), generator=torch.Generator().manual_seed(0))
        _SAMPLE.append((split.images[order].numpy(), split.labels[order].numpy().astype(np.uint8)))
    return _SAMPLE[0]


def tiny_folder(root: Path, n: int = 600) -> Path:
    images, labels = _sample()
    return write_mnist_folder(root, images[:n], labels[:n])


# ---------------------------------------------------------------- running the command


@dataclass
class Ran:
    code: int
    out: str
    err: str
    loaded_data: bool


def run_train(argv: list[str], capsys, monkeypatch) -> Ran:
    """``main(argv)`` in this process, noting whether the data was loaded."""
    loads = []
    real = data_module.load_mnist

    def recording(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(data_module, "load_mnist", recording)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return Ran(code, out, err, bool(loads))


@dataclass
class Case:
    """One row of the table: what the user types, what is prepared, what must come out."""

    name: str
    args: list[str]  # after "train"; OUT, TINY, TMP are replaced by folders of the test
    code: int
    says: str  # a piece of the one line on stderr (or of stdout, for code 0)
    before_data: bool = True
    prepare: object = None  # prepare(tmp_path, monkeypatch) -> None
    also: list[str] = field(default_factory=list)  # more pieces of the same output
    command: str | None = None  # the whole command, when it is not "train ..."


def _bytes_of_a_run(tmp: Path, model: str = "modern", epochs: int = 1) -> None:
    """A real finished run in OUT (one epoch on the tiny folder)."""
    argv = ["train", "--data", str(tmp / "tiny"), "--out", str(tmp / "out"), "--epochs", str(epochs)]
    argv += ["--model", model, "--batch-size", "64", "--device", "cpu"]
    assert main(argv) == 0


def _prepare_run(epochs: int = 1, model: str = "modern"):
    def prepare(tmp, monkeypatch):
        _bytes_of_a_run(tmp, model, epochs)

    return prepare


def _cut_in_half(name: str):
    def prepare(tmp, monkeypatch):
        _bytes_of_a_run(tmp)
        path = tmp / "out" / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return prepare


def _delete(name: str):
    def prepare(tmp, monkeypatch):
        _bytes_of_a_run(tmp)
        (tmp / "out" / name).unlink()

    return prepare


def _foreign_checkpoint(tmp, monkeypatch):
    (tmp / "out").mkdir()
    torch.save({"weights": torch.zeros(3)}, tmp / "out" / "best.pt")


def _classic_checkpoint(tmp, monkeypatch):
    from lenet_course.paper.network import LeNet5Classic

    save_checkpoint(tmp / "out" / "best.pt", LeNet5Classic(seed=0), epoch=0, history={})


def _folder(images=None, labels=None, n=600, test=100):
    def prepare(tmp, monkeypatch):
        base_images, base_labels = _sample()
        imgs = base_images[:n] if images is None else images(base_images[:n])
        labs = base_labels[:n] if labels is None else labels(base_labels[:n])
        write_mnist_folder(tmp / "bad", imgs, labs, test)

    return prepare


def _corrupt_file(name: str, content: bytes):
    def prepare(tmp, monkeypatch):
        tiny_folder(tmp / "bad")
        (tmp / "bad" / name).write_bytes(content)

    return prepare


def _truncated_images(tmp, monkeypatch):
    tiny_folder(tmp / "bad")
    path = tmp / "bad" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) - 5000]))


def _read_only_out(tmp, monkeypatch):
    import lenet_course.cli as cli

    real = cli.tempfile.NamedTemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == tmp / "ro":
            raise OSError(errno.EROFS, "Read-only file system", str(Path(dir) / ".write-test-x"))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(cli.tempfile, "NamedTemporaryFile", refuse)


def _fault_in_step(exception, at_call: int):
    """The training step raises ``exception`` at its ``at_call``-th call (the tiny folder: 9 batches of 64 an epoch)."""

    def prepare(tmp, monkeypatch):
        real = training_module.train_step
        calls = []

        def step(*args, **kwargs):
            calls.append(1)
            if len(calls) >= at_call:
                if exception == "nan":
                    loss, correct = real(*args, **kwargs)
                    return loss * float("nan"), correct
                raise exception
            return real(*args, **kwargs)

        monkeypatch.setattr(training_module, "train_step", step)

    return prepare


def _disk_full_in_epoch_2(tmp, monkeypatch):
    real = torch.save
    saves = []

    def save(obj, f, *args, **kwargs):
        saves.append(1)
        if len(saves) > 2:  # epoch 1 wrote best.pt and best.last.pt
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


def _env(name, value):
    def prepare(tmp, monkeypatch):
        monkeypatch.setenv(name, value.replace("TMP", str(tmp)))

    return prepare


TRAIN = ["--data", "TINY", "--out", "OUT", "--epochs", "2", "--batch-size", "64", "--device", "cpu"]
EXPECTED_LR = "expected a learning rate above 0 and at most 1 (Adam's usual is 0.001), got"

CASES = [
    # -- the command line itself: argparse, exit status 2, one line naming the option
    Case("epochs zero", ["--epochs", "0"], 2, "argument --epochs: expected a whole number of epochs from 1 to 1,000"),
    Case("epochs negative", ["--epochs", "-1"], 2, "argument --epochs: expected a whole number of epochs"),
    Case("epochs not a number", ["--epochs", "ten"], 2, "argument --epochs: expected a whole number", also=["'ten'"]),
    Case("epochs a fraction", ["--epochs", "1.5"], 2, "argument --epochs: expected a whole number", also=["'1.5'"]),
    Case("epochs absurd", ["--epochs", "100000"], 2, "argument --epochs: expected a whole number of epochs from 1"),
    Case("batch size zero", ["--batch-size", "0"], 2, "argument --batch-size: expected a batch size from 1 to 65,536"),
    Case("batch size negative", ["--batch-size", "-3"], 2, "argument --batch-size: expected a batch size from 1"),
    Case("batch size absurd", ["--batch-size", "10000000"], 2, "argument --batch-size: expected a batch size"),
    Case("lr not a number", ["--lr", "fast"], 2, f"argument --lr: {EXPECTED_LR} 'fast'"),
    Case("lr zero", ["--lr", "0"], 2, f"argument --lr: {EXPECTED_LR} '0'"),
    Case("lr negative", ["--lr", "-0.1"], 2, f"argument --lr: {EXPECTED_LR} '-0.1'"),
    Case("lr inf", ["--lr", "inf"], 2, f"argument --lr: {EXPECTED_LR} 'inf'"),
    Case("lr nan", ["--lr", "nan"], 2, f"argument --lr: {EXPECTED_LR} 'nan'"),
    Case("lr 1e30", ["--lr", "1e30"], 2, f"argument --lr: {EXPECTED_LR} '1e30'"),
    Case("lr 1e308", ["--lr", "1e308"], 2, f"argument --lr: {EXPECTED_LR} '1e308'"),
    Case("lr overflowing to inf", ["--lr", "1e400"], 2, f"argument --lr: {EXPECTED_LR} '1e400'"),
    Case("seed not a number", ["--seed", "abc"], 2, "argument --seed: expected a seed from 0 to 4,294,967,295"),
    Case("seed negative", ["--seed", "-1"], 2, "argument --seed: expected a seed from 0 to 4,294,967,295, got '-1'"),
    Case("unknown model", ["--model", "vintage"], 2, "argument --model: invalid choice: 'vintage'"),
    Case("unknown option", ["--learning-rate", "0.1"], 2, "unrecognized arguments: --learning-rate 0.1"),
    Case("option without its value", ["--epochs"], 2, "argument --epochs: expected one argument"),
    Case("no command", [], 2, "the following arguments are required: COMMAND", command=""),
    Case("unknown command", [], 2, "argument COMMAND: invalid choice: 'fly'", command="fly"),
    # -- checked before any data is loaded: exit status 1
    Case("unknown device", ["--device", "gpu"], 1,
         "--device gpu: not a device name; use auto, cpu, cuda (or cuda:0, cuda:1, ...) or mps"),
    Case("out is a file", ["--out", "TMP/file.txt"], 1, "--out ", also=["file.txt is a file, not a folder"],
         prepare=lambda tmp, mp: (tmp / "file.txt").write_text("notes")),
    Case("out inside a file", ["--out", "TMP/file.txt/run"], 1,
         "is not a folder this run can write to (Not a directory)",
         prepare=lambda tmp, mp: (tmp / "file.txt").write_text("notes")),
    Case("out on a read-only file system", ["--out", "TMP/ro"], 1,
         "ro is not a folder this run can write to (Read-only file system); choose another --out",
         prepare=_read_only_out),
    Case("out holds a finished run", TRAIN, 1, "already holds a run (best.pt); pass --resume to continue it",
         prepare=_prepare_run()),
    Case("data folder missing", ["--data", "TMP/nowhere"], 1, "--data ", also=["nowhere: no such folder"]),
    Case("data folder empty", ["--data", "TMP/empty"], 1, "empty: no MNIST IDX files",
         prepare=lambda tmp, mp: (tmp / "empty").mkdir()),
    Case("data names a file", ["--data", "TMP/file.txt"], 1, "file.txt: a file, not a folder",
         prepare=lambda tmp, mp: (tmp / "file.txt").write_text("notes")),
    Case("LENET_COURSE_DATA names no folder", ["--data", "auto"], 1, "LENET_COURSE_DATA ",
         also=["nowhere: no such folder"], prepare=_env("LENET_COURSE_DATA", "TMP/nowhere")),
    Case("resume with no checkpoint", TRAIN + ["--resume"], 1, "--resume: no checkpoint in"),
    Case("resume, best.pt cut in half", TRAIN + ["--resume"], 1, "best.pt is not a readable checkpoint",
         also=["it holds the best model so far, which the run needs; restore it"], prepare=_cut_in_half("best.pt")),
    Case("resume, best.last.pt cut in half", TRAIN + ["--resume"], 1, "best.last.pt is not a readable checkpoint",
         also=["delete it to resume from best.pt"], prepare=_cut_in_half("best.last.pt")),
    Case("resume, best.pt deleted", TRAIN + ["--resume"], 1, "best.pt is missing", prepare=_delete("best.pt")),
    Case("resume, not a checkpoint", TRAIN + ["--resume"], 1, "best.pt is not a lenet_course checkpoint",
         prepare=_foreign_checkpoint),
    Case("resume another model's run", TRAIN + ["--resume"], 1,
         "trains a LeNet5Classic; pass --model classic to continue it", prepare=_classic_checkpoint),
    Case("resume a finished run", TRAIN + ["--resume"], 1, "has already trained 2 epochs; pass --epochs with more",
         prepare=_prepare_run(epochs=2)),
    # -- problems in the data: reported against the file that holds them
    Case("images file truncated", TRAIN[2:] + ["--data", "TMP/bad"], 1, "train-images-idx3-ubyte.gz: ",
         before_data=False, also=["truncated"], prepare=_truncated_images),
    Case("images file not gzip", TRAIN[2:] + ["--data", "TMP/bad"], 1, "train-images-idx3-ubyte.gz: cannot be read",
         before_data=False, prepare=_corrupt_file("train-images-idx3-ubyte.gz", b"<html>not found</html>")),
    Case("images 14x56", TRAIN[2:] + ["--data", "TMP/bad"], 1,
         "its images are 14x56 pixels, MNIST's are 28x28", before_data=False,
         prepare=_folder(images=lambda im: im.reshape(-1, 14, 56))),
    Case("label 12", TRAIN[2:] + ["--data", "TMP/bad"], 1, "train-labels-idx1-ubyte.gz: label 12 found",
         before_data=False, prepare=_folder(labels=lambda lab: np.where(np.arange(len(lab)) == 7, 12, lab))),
    Case("images and labels disagree", TRAIN[2:] + ["--data", "TMP/bad"], 1, "has 600 images but", before_data=False,
         also=["has 599 labels"], prepare=_folder(labels=lambda lab: lab[:-1])),
    Case("one training image", TRAIN[2:] + ["--data", "TMP/bad"], 1,
         "cannot hold out validation images from 1 training image", before_data=False, prepare=_folder(n=1)),
    # -- runs that go wrong
    Case("all labels one class", TRAIN[2:] + ["--data", "TMP/bad"], 1, "the run ended no better than chance",
         before_data=False, also=["training labels hold a single class",
                                  "warning: the training split holds one class only (3, 550 images)"],
         prepare=_folder(labels=lambda lab: np.full_like(lab, 3))),
    Case("ten images", TRAIN[2:] + ["--data", "TMP/bad"], 1, "the run ended no better than chance", before_data=False,
         also=["9 train / 1 valid / 100 test"], prepare=_folder(n=10)),
    Case("loss becomes nan in epoch 2", TRAIN, 1,
         "the training loss became nan in epoch 2: the steps are too large.", before_data=False,
         also=["keeps epoch 1, the last good one; lower --lr (it was 0.001) and run again with --resume"],
         prepare=_fault_in_step("nan", 10)),
    Case("disk full in epoch 2", TRAIN, 1, "best", before_data=False,
         also=["No space left on device. The checkpoints written before are intact"], prepare=_disk_full_in_epoch_2),
    Case("Ctrl-C in epoch 2", TRAIN, 130, "interrupted; ", before_data=False,
         also=["best.last.pt keeps epoch 1: run the same command with --resume to continue"],
         prepare=_fault_in_step(KeyboardInterrupt, 12)),
    Case("Ctrl-C in epoch 1", TRAIN, 130, "interrupted before the first epoch ended: nothing was saved",
         before_data=False, prepare=_fault_in_step(KeyboardInterrupt, 3)),
    Case("out of memory", TRAIN, 1, "out of memory (", before_data=False,
         also=["lower --batch-size (it was 64)"], prepare=_fault_in_step(MemoryError("cannot allocate 3 GiB"), 2)),
    # -- what works
    Case("a good run", TRAIN, 0, "best validation accuracy", before_data=False,
         also=["Saved best.pt, metrics.json, losses.png and gallery.png in"]),
    Case("resume a stopped run", TRAIN + ["--resume"], 0, "Resumed from", before_data=False,
         also=["best.last.pt after epoch 1.", "epoch   2/2"], prepare=_prepare_run()),
    Case("resume with a lower lr", TRAIN + ["--resume", "--lr", "0.0001"], 0, "Resumed from", before_data=False,
         prepare=_prepare_run()),
]  # fmt: skip
if not torch.cuda.is_available():
    CASES.append(Case("cuda on a machine without it", ["--device", "cuda"], 1,
                      "--device cuda: device 'cuda' was asked for, but no CUDA GPU is available"))  # fmt: skip
if sys.platform.startswith("linux"):
    CASES.append(Case("out under /proc", ["--out", "/proc/lenet-course-run"], 1,
                      "--out /proc/lenet-course-run is not a folder this run can write to"))  # fmt: skip


def command_line(case: Case, tmp: Path) -> list[str]:
    """The argv of a case, its placeholders replaced."""
    if case.command is not None:
        return [case.command] if case.command else []
    args = [a.replace("TMP", str(tmp)) for a in case.args]
    args = [str(tmp / "tiny") if a == "TINY" else str(tmp / "out") if a == "OUT" else a for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp / "out")]
    if "--device" not in args:
        args += ["--device", "cpu"]
    return ["train", *args]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_folder(tmp_path_factory.mktemp("data") / "tiny")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_train_case(case, tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LENET_COURSE_OFFLINE", "1")
    monkeypatch.delenv("LENET_COURSE_DATA", raising=False)
    (tmp_path / "tiny").symlink_to(tiny)
    if case.prepare is not None:
        case.prepare(tmp_path, monkeypatch)
    ran = run_train(command_line(case, tmp_path), capsys, monkeypatch)
    assert ran.code == case.code, (ran.out, ran.err)
    assert "Traceback" not in ran.err
    text = ran.out + ran.err
    for piece in [case.says, *case.also]:
        assert piece in text, text
    if case.code != 0:
        lines = [line for line in ran.err.splitlines() if line.strip()]
        assert len(lines) == 1, ran.err  # one line, whatever went wrong
        assert case.says in lines[0]
        assert lines[0].startswith(("error: ", "python -m lenet_course", "interrupted")), lines[0]
    if case.before_data:
        assert not ran.loaded_data, "refused only after loading the data"
    else:
        assert ran.loaded_data


def test_nan_keeps_the_last_good_checkpoint_and_a_lower_lr_resumes_from_it(tiny, tmp_path, capsys, monkeypatch):
    (tmp_path / "tiny").symlink_to(tiny)
    argv = command_line(Case("", TRAIN, 1, ""), tmp_path)
    with monkeypatch.context() as patch:
        _fault_in_step("nan", 10)(tmp_path, patch)
        assert run_train(argv, capsys, patch).code == 1
    kept = load_checkpoint(tmp_path / "out" / "best.last.pt")
    assert kept["epoch"] == 0 and all(np.isfinite(kept["history"]["train_loss"]))
    ran = run_train(argv + ["--resume", "--lr", "0.0005"], capsys, monkeypatch)
    assert ran.code == 0, ran.err
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1, 2] and metrics["lr"] == 0.0005


def _epoch_lines(out: str) -> list[str]:
    return [line[: line.index("  train loss")] for line in out.splitlines() if line.startswith("epoch ")]


def test_every_message_counts_epochs_from_one_as_the_epoch_lines_do(tiny, tmp_path, capsys, monkeypatch):
    (tmp_path / "tiny").symlink_to(tiny)
    argv = command_line(Case("", TRAIN, 1, ""), tmp_path)  # 2 epochs of 9 batches
    with monkeypatch.context() as patch:
        _fault_in_step(KeyboardInterrupt, 12)(tmp_path, patch)  # Ctrl-C in the second epoch
        stopped = run_train(argv, capsys, patch)
    assert stopped.code == 130
    assert _epoch_lines(stopped.out) == ["epoch   1/2"]
    assert "best.last.pt keeps epoch 1: run the same command with --resume" in stopped.err
    assert load_checkpoint(tmp_path / "out" / "best.last.pt")["epoch"] == 0  # the file counts from 0, as fit does
    resumed = run_train(argv + ["--resume"], capsys, monkeypatch)
    assert resumed.code == 0, resumed.err
    assert f"Resumed from {tmp_path / 'out' / 'best.last.pt'} after epoch 1." in resumed.out
    assert _epoch_lines(resumed.out) == ["epoch   2/2"]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1, 2]
    best = metrics["best_epoch"]
    assert metrics["history"]["valid_acc"][best - 1] == metrics["best_valid_acc"]
    assert f"(epoch {best})" in resumed.out


def test_disk_full_leaves_the_previous_checkpoints_intact(tiny, tmp_path, capsys, monkeypatch):
    (tmp_path / "tiny").symlink_to(tiny)
    argv = command_line(Case("", TRAIN, 1, ""), tmp_path)
    with monkeypatch.context() as patch:
        _disk_full_in_epoch_2(tmp_path, patch)
        assert run_train(argv, capsys, patch).code == 1
    assert load_checkpoint(tmp_path / "out" / "best.last.pt")["epoch"] == 0
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no half-written file left behind
    assert run_train(argv + ["--resume"], capsys, monkeypatch).code == 0


def test_debug_shows_the_traceback(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("notes")
    argv = ["train", "--out", str(tmp_path / "file.txt"), "--device", "cpu", "--debug"]
    with pytest.raises(Exception, match="is a file, not a folder"):
        main(argv)
    with pytest.raises(Exception, match="is a file, not a folder"):
        main(["--debug", *argv[:-1]])


# ---------------------------------------------------------------- real processes


def _process_env() -> dict:
    # one thread: the same arithmetic in every run, and quick on a shared machine
    return {**os.environ, "LENET_COURSE_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _train_process(tiny: Path, out: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "lenet_course", "train", "--data", str(tiny), "--out", str(out), "--device", "cpu"]
    argv += ["--epochs", "4", "--batch-size", "16", "--seed", "7", *extra]
    return subprocess.Popen(
        argv, cwd=ROOT, env=_process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_epoch(process: subprocess.Popen, epoch: int) -> float:
    """Read the run's output until epoch ``epoch`` has been saved; returns how long that epoch took."""
    for line in process.stdout:
        if line.startswith(f"epoch {epoch:>3}/"):
            return float(line.rsplit("(", 1)[1].rstrip("s)\n"))
    raise AssertionError(f"the run ended before epoch {epoch}: {process.stderr.read()}")


def _history(out: Path) -> dict:
    history = json.loads((out / "metrics.json").read_text())["history"]
    history.pop("seconds")
    return history


@pytest.fixture(scope="module")
def uninterrupted(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    process = _train_process(tiny, out)
    _, err = process.communicate(timeout=900)
    assert process.returncode == 0, err
    return out


def test_a_run_killed_mid_epoch_and_resumed_equals_one_never_interrupted(tiny, uninterrupted, tmp_path):
    out = tmp_path / "run"
    process = _train_process(tiny, out)
    seconds = _wait_for_epoch(process, 1)
    time.sleep(seconds / 2)  # halfway through epoch 2
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    stopped = load_checkpoint(out / "best.last.pt")["epoch"]
    assert stopped < 3  # it stopped before the end, so the resume has work to do
    resumed = _train_process(tiny, out, "--resume")
    stdout, stderr = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, stderr
    assert f"Resumed from {out / 'best.last.pt'} after epoch {stopped + 1}." in stdout
    assert _history(out) == _history(uninterrupted)  # every loss and accuracy, bit for bit
    for name in ("best.pt", "best.last.pt"):
        a, b = load_checkpoint(out / name), load_checkpoint(uninterrupted / name)
        assert a["epoch"] == b["epoch"]
        for key, tensor in a["model_state"].items():
            assert torch.equal(tensor, b["model_state"][key]), (name, key)


def test_ctrl_c_stops_in_one_line_and_keeps_the_last_checkpoint(tiny, tmp_path):
    out = tmp_path / "run"
    process = _train_process(tiny, out)
    _wait_for_epoch(process, 1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the interrupt reached it")
    assert process.returncode == 130
    assert err.startswith("interrupted; ") and err.count("\n") == 1, err
    assert "run the same command with --resume to continue" in err
    assert load_checkpoint(out / "best.last.pt")["epoch"] >= 0
