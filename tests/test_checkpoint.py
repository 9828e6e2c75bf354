import pytest
import torch

from lenet_course.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lenet_course.data import TensorLoader
from lenet_course.models import LeNet5
from lenet_course.training import fit


def test_save_and_load_restore_weights_and_optimizer(tmp_path):
    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "c.pt", model, optimizer, epoch=4, history={"valid_acc": [0.5]})
    other, other_opt = LeNet5(), None
    other_opt = torch.optim.Adam(other.parameters())
    state = load_checkpoint(tmp_path / "c.pt", other, other_opt)
    assert state["epoch"] == 4 and state["history"] == {"valid_acc": [0.5]}
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)
    assert other_opt.state_dict()["state"][0]["step"] == 1


def test_crash_mid_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "best.pt"
    model = LeNet5()
    save_checkpoint(path, model, epoch=1)
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, LeNet5(), epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]  # no temporary file left behind
    assert load_checkpoint(path, LeNet5())["epoch"] == 1


def test_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*missing.pt; train first"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="junk.pt is not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="is not a lenet_course checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    save_checkpoint(tmp_path / "lin.pt", torch.nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="holds a Linear, not a LeNet5"):
        load_checkpoint(tmp_path / "lin.pt", LeNet5())


def test_fit_keeps_the_best_and_resumes_where_it_stopped(sample_data, tmp_path):
    torch.manual_seed(0)
    train_loader = TensorLoader(sample_data.train, 64, shuffle=True, seed=0)
    valid_loader = TensorLoader(sample_data.valid, 1000)
    model = LeNet5()
    best = tmp_path / "best.pt"
    first = fit(model, train_loader, valid_loader, 2, checkpoint=best, progress=False, log=None)
    saved = load_checkpoint(best)
    assert saved["epoch"] == first.best_epoch
    assert saved["valid_acc"] == first.best_valid_acc
    assert (tmp_path / "best.last.pt").exists()

    lines = []
    resumed_model = LeNet5()
    history = fit(
        resumed_model, train_loader, valid_loader, 3, checkpoint=best, resume=True, progress=False, log=lines.append
    )
    assert lines[0] == f"Resumed from {tmp_path / 'best.last.pt'} after epoch 2."
    assert history.epoch == [0, 1, 2]
    assert history.valid_acc[:2] == first.valid_acc
    assert load_checkpoint(tmp_path / "best.last.pt")["epoch"] == 2


def test_resume_from_a_corrupt_checkpoint_says_so(sample_data, tmp_path):
    (tmp_path / "best.pt").write_bytes(b"PK\x03\x04 truncated")
    loader = TensorLoader(sample_data.valid, 500)
    with pytest.raises(CheckpointError, match="cannot resume: .*best.pt is not a readable checkpoint"):
        fit(LeNet5(), loader, loader, 1, checkpoint=tmp_path / "best.pt", resume=True, progress=False, log=None)


def _history_without_seconds(history):
    d = history.as_dict()
    d.pop("seconds")
    return d


def test_checkpoints_hold_everything_the_next_epoch_depends_on(sample_data, tmp_path):
    loader = TensorLoader(sample_data.valid, 250, shuffle=True, seed=3)
    fit(
        LeNet5(),
        loader,
        TensorLoader(sample_data.valid, 500),
        2,
        checkpoint=tmp_path / "best.pt",
        progress=False,
        log=None,
    )
    state = load_checkpoint(tmp_path / "best.last.pt")
    assert sorted(state) == [
        "epoch",
        "format",
        "history",
        "loader_state",
        "model_class",
        "model_state",
        "optimizer_state",
        "rng_state",
        "valid_acc",
    ]
    assert state["loader_state"] == {"epoch": 2}  # the next pass is the loader's third shuffle
    assert set(state["rng_state"]) >= {"python", "numpy", "torch"}


@pytest.mark.parametrize("shuffle_by", ["TensorLoader", "DataLoader"])
def test_an_interrupted_run_resumed_equals_one_never_interrupted_bit_for_bit(sample_data, tmp_path, shuffle_by):
    """The shuffle order, Adam's state and the random generators all continue where they were."""
    from torch.utils.data import DataLoader, TensorDataset

    small = type(sample_data.train)(sample_data.train.images[:512], sample_data.train.labels[:512])
    valid = TensorLoader(sample_data.valid, 500)

    def train_loader():
        if shuffle_by == "TensorLoader":
            return TensorLoader(small, 64, shuffle=True, seed=5)
        images = TensorLoader(small, 512).images  # a plain DataLoader shuffles with the global generator
        return DataLoader(TensorDataset(images, small.labels), batch_size=64, shuffle=True)

    def model():
        torch.manual_seed(0)
        return LeNet5()

    torch.manual_seed(1)
    whole = fit(model(), train_loader(), valid, 3, checkpoint=tmp_path / "a" / "best.pt", progress=False, log=None)
    torch.manual_seed(1)
    fit(model(), train_loader(), valid, 1, checkpoint=tmp_path / "b" / "best.pt", progress=False, log=None)
    torch.manual_seed(1234)  # a new process: other draws happened before the resume
    resumed = fit(
        model(), train_loader(), valid, 3, checkpoint=tmp_path / "b" / "best.pt", resume=True, progress=False, log=None
    )
    assert _history_without_seconds(resumed) == _history_without_seconds(whole)
    a, b = load_checkpoint(tmp_path / "a" / "best.last.pt"), load_checkpoint(tmp_path / "b" / "best.last.pt")
    for name, tensor in a["model_state"].items():
        assert torch.equal(tensor, b["model_state"][name]), name


def test_the_1998_recipe_resumes_exactly_too(sample_data, tmp_path):
    """SDLM's scheduler, the curvature estimate and the distortions' own generator continue where they were."""
    from lenet_course.paper.distortions import RandomDistortion
    from lenet_course.paper.network import LeNet5Classic
    from lenet_course.paper.recipe import paper_recipe

    def run(folder, epochs, resume=False):
        model = LeNet5Classic(seed=0)
        recipe = paper_recipe(
            model, sample_data.train, seed=0, train_size=400, curvature_samples=50, transform=RandomDistortion(seed=0)
        )
        valid = recipe.loader(sample_data.valid)
        return fit(
            model,
            recipe.train_loader,
            valid,
            epochs,
            checkpoint=tmp_path / folder / "best.pt",
            resume=resume,
            progress=False,
            log=None,
            **recipe.fit_kwargs(),
        )

    whole = run("a", 3)
    run("b", 2)
    resumed = run("b", 3, resume=True)
    assert _history_without_seconds(resumed) == _history_without_seconds(whole)
    assert load_checkpoint(tmp_path / "b" / "best.last.pt")["scheduler_state"]["last_epoch"] == 3


def _adam_state_devices(optimizer: torch.optim.Optimizer) -> dict[str, set[str]]:
    """``{name of a state entry: the device types it is on}`` over every parameter's state."""
    devices: dict[str, set[str]] = {}
    for state in optimizer.state.values():
        for name, value in state.items():
            devices.setdefault(name, set()).add(value.device.type)
    return devices


@pytest.mark.filterwarnings("ignore:.*copying from a non-meta parameter")  # meta weights hold no values
def test_a_resume_puts_the_optimizer_state_beside_the_models_parameters(sample_data, tmp_path):
    """Checkpoints load to the CPU; the optimizer moves its state to each parameter's device itself.

    The ``meta`` device stands in for a GPU here: the resumed model lives there,
    and so must Adam's running averages, or the first step would mix devices.
    """
    train_loader = TensorLoader(sample_data.train, 256, shuffle=True, seed=0)
    valid_loader = TensorLoader(sample_data.valid, 1000)
    best = tmp_path / "best.pt"
    fit(LeNet5(), train_loader, valid_loader, 1, checkpoint=best, progress=False, log=None)
    saved = load_checkpoint(best)
    assert {t.device.type for s in saved["optimizer_state"]["state"].values() for t in s.values()} == {"cpu"}

    model = LeNet5().to("meta")
    optimizer = torch.optim.Adam(model.parameters())
    lines = []
    # 1 epoch already trained, 1 asked for: fit restores everything and has nothing left to train
    fit(model, train_loader, valid_loader, 1, optimizer=optimizer, device="meta", checkpoint=best, resume=True,
        progress=False, log=lines.append)  # fmt: skip
    assert lines == [f"Resumed from {tmp_path / 'best.last.pt'} after epoch 1."]
    assert len(optimizer.state) == len(list(model.parameters()))
    devices = _adam_state_devices(optimizer)
    assert devices["exp_avg"] == {"meta"} and devices["exp_avg_sq"] == {"meta"}
    assert devices["step"] == {"cpu"}  # Adam keeps its step count on the CPU unless told otherwise
    assert all(p.device.type == "meta" for p in model.parameters())


@pytest.mark.cuda
def test_a_run_saved_on_the_cpu_resumes_on_the_gpu(sample_data, tmp_path):
    train_loader = TensorLoader(sample_data.train, 256, shuffle=True, seed=0)
    valid_loader = TensorLoader(sample_data.valid, 1000)
    best = tmp_path / "best.pt"
    fit(LeNet5(), train_loader, valid_loader, 1, checkpoint=best, progress=False, log=None)
    model = LeNet5().to("cuda")
    optimizer = torch.optim.Adam(model.parameters())
    history = fit(model, train_loader, valid_loader, 2, optimizer=optimizer, device="cuda", checkpoint=best,
                  resume=True, progress=False, log=None)  # fmt: skip
    assert history.epoch == [0, 1] and history.train_loss[1] < history.train_loss[0]
    assert _adam_state_devices(optimizer)["exp_avg"] == {"cuda"}
    assert load_checkpoint(tmp_path / "best.last.pt")["epoch"] == 1
