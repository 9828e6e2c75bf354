"""The chapter 8 training controls: set the sliders, press Train, read the curves and the history."""

import pytest
import torch

from lenet_course.data import Split
from lenet_course.widgets import TrainingControls

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny():
    from lenet_course.data import load_mnist

    data = load_mnist("sample", verbose=False)
    return Split(data.train.images[:256], data.train.labels[:256]), Split(
        data.valid.images[:128], data.valid.labels[:128]
    )


def test_starts_ready_with_the_given_settings(tiny):
    controls = TrainingControls(tiny, epochs=2, lr=1e-3, batch_size=64)
    assert controls.settings == {"epochs": 2, "lr": pytest.approx(1e-3), "batch_size": 64}
    assert controls.status.value == "Ready."
    assert controls.curves.value == b"" and controls.history is None
    assert "lenet-train-button" in controls.train_button._dom_classes
    assert "lenet-train-curves" in controls.curves._dom_classes


def test_click_trains_and_draws_every_epoch(tiny):
    controls = TrainingControls(tiny)
    controls.epochs.value = 2
    controls.batch_size.value = 128
    controls.lr.value = 1e-2
    drawn = []
    controls.curves.observe(lambda change: drawn.append(change["new"]), names="value")
    controls.train_button.click()
    h = controls.history
    assert len(h) == 2 and h.epoch == [0, 1]
    assert all(0 <= a <= 1 for a in h.valid_acc + h.train_acc)
    assert len(drawn) == 2 and all(bytes(png).startswith(PNG) for png in drawn)  # redrawn after each epoch
    assert controls.status.value.startswith("Done: 2 epochs.")
    assert f"valid accuracy {100 * h.valid_acc[-1]:.2f}%" in controls.status.value
    assert not controls.train_button.disabled
    assert controls.runs[-1][0] == {"epochs": 2, "lr": pytest.approx(1e-2), "batch_size": 128}


def test_same_settings_same_seed_same_history(tiny):
    controls = TrainingControls(tiny, epochs=1, batch_size=128)
    first = controls.train()
    second = controls.train()
    assert first.train_loss == pytest.approx(second.train_loss) and first.valid_acc == second.valid_acc
    assert len(controls.runs) == 2


def test_the_learning_rate_changes_the_result(tiny):
    controls = TrainingControls(tiny, epochs=1, batch_size=128)
    slow = controls.train().train_loss[0]
    controls.lr.value = 1e-2
    fast = controls.train().train_loss[0]
    assert slow != pytest.approx(fast)


def test_a_diverging_run_says_what_to_do(tiny):
    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(10))

        def forward(self, x):
            return self.w.expand(len(x), 10) * float("inf")

    controls = TrainingControls(tiny, model_fn=Exploding, epochs=2)
    controls.train_button.click()
    assert "Lower the learning rate" in controls.status.value
    assert len(controls.history) == 0 and not controls.train_button.disabled


def test_rejects_a_batch_size_the_slider_cannot_show(tiny):
    with pytest.raises(ValueError, match="batch_size must be one of"):
        TrainingControls(tiny, batch_size=100)
