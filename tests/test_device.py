"""Device handling without a GPU: each function that takes or makes tensors on the model's device, on cpu and meta.

A ``meta`` tensor has a shape and a dtype but no data. Mixed with a CPU
tensor that is not 0-dim it raises just as a CUDA tensor does ("Tensor on
device cpu is not on the expected device meta!"), so a missing
``.to(device)`` fails here as it would on a GPU. A function that must end on
the CPU (a number, a picture) cannot finish on ``meta``; the test then
asserts how far it got. On ``meta``:

- ``.cpu()`` and ``.tolist()`` raise ``NotImplementedError`` ("Cannot copy out of meta tensor");
- ``.item()`` raises ``RuntimeError`` ("item() cannot be called on meta tensors");
- ``.numpy()`` without ``.cpu()`` raises ``TypeError``, and a device mix a
  ``RuntimeError`` naming the devices.

So a function that stops at its copy to the CPU, or at its final
``.item()``, did everything before that on the device, and handed nothing
to NumPy from it. On ``cpu`` the same calls run to the end and the results
are checked; so they do on ``cuda`` where there is a GPU (``-m cuda``,
make check-gpu).
"""

import copy
import json
import os
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_course import digits, plots
from lenet_course.data import Split, TensorLoader, shuffled_indices
from lenet_course.fast.fused import fused_forward
from lenet_course.models import LeNet5, predict_proba
from lenet_course.paper import losses
from lenet_course.paper.distortions import DistortedLoader, RandomDistortion
from lenet_course.paper.network import LeNet5Classic, classic_loader
from lenet_course.paper.recipe import paper_recipe
from lenet_course.paper.sdlm import SDLM, CurvatureEstimator, gauss_newton_diagonal
from lenet_course.summary import layer_table
from lenet_course.training import evaluate, fit, get_accuracy, predict, train, validate

from .conftest import ROOT

COPY_TO_CPU = "Cannot copy out of meta tensor"
ITEM = r"item\(\) cannot be called on meta tensors"


ON_CUDA = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(params=["cpu", "meta", pytest.param("cuda:0", marks=ON_CUDA)])
def device(request) -> torch.device:
    """Where the model lives. On a CUDA GPU (make check-gpu) every call runs to the end, as on the CPU."""
    return torch.device(request.param)


def computes(device: torch.device) -> bool:
    """Whether tensors on ``device`` hold numbers to check (every device but meta)."""
    return device.type != "meta"


def ends_on_the_cpu(device: torch.device, call):
    """``call()`` on the CPU; on meta, assert that it got as far as copying its result to the CPU."""
    if device.type == "meta":
        with pytest.raises(NotImplementedError, match=COPY_TO_CPU):
            call()
        return None
    return call()


def ends_with_item(device: torch.device, call):
    """``call()`` on the CPU; on meta, assert that it got as far as reading a number with ``.item()``."""
    if device.type == "meta":
        with pytest.raises(RuntimeError, match=ITEM):
            call()
        return None
    return call()


def _split(n: int = 48, seed: int = 0) -> Split:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
    return Split(images, torch.arange(n) % 10)


def _images(n: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 32, 32, generator=g), torch.arange(n) % 10


def _lenet5(device) -> LeNet5:
    torch.manual_seed(0)
    return LeNet5().to(device)


# ------------------------------------------------------------------ what the meta device stands for


def test_meta_raises_where_cuda_would():
    model = LeNet5().to("meta")
    with pytest.raises(RuntimeError, match="device"):
        model(torch.rand(2, 1, 32, 32))  # the input was not moved to the model's device
    on_meta = torch.ones(3, device="meta")
    with pytest.raises(NotImplementedError, match=COPY_TO_CPU):
        on_meta.cpu()
    with pytest.raises(TypeError, match="meta"):
        on_meta.numpy()  # what the copy to the CPU must come before
    with pytest.raises(RuntimeError, match=ITEM):
        on_meta.sum().item()


# ------------------------------------------------------------------ models


def test_lenet5_forward(device):
    x = torch.rand(3, 1, 32, 32, device=device)
    out = _lenet5(device)(x)
    assert out.device == device and out.shape == (3, 10)


def test_lenet5_classic_forward_and_predict_proba(device):
    model = LeNet5Classic(seed=0).to(device)
    x, _ = _images(3)
    scores = model(x.to(device))
    assert scores.device == device and scores.shape == (3, 10)
    probs = model.predict_proba(x)  # a CPU batch: moved to the model's device
    assert probs.device == device and probs.shape == (3, 10)
    if computes(device):
        torch.testing.assert_close(probs.sum(1), torch.ones(3, device=device))
        assert torch.equal(probs.argmax(1), scores.argmax(1))


def test_predict_proba_moves_the_batch_to_the_models_device(device):
    model = _lenet5(device)
    x, _ = _images(4)
    probs = predict_proba(model, x)
    assert probs.device == device and probs.shape == (4, 10)
    assert model.training  # put back as it was
    if computes(device):
        torch.testing.assert_close(probs, torch.softmax(model(x.to(device)), 1))


def test_fused_forward_and_backward(device):
    model = _lenet5(device)
    reference = copy.deepcopy(model)
    x = torch.rand(5, 1, 32, 32, device=device, requires_grad=True)
    y = torch.arange(5, device=device)
    out = fused_forward(model, x)
    assert out.device == device and out.shape == (5, 10)
    F.cross_entropy(out, y).backward()
    for name, p in [("input", x), *model.named_parameters()]:
        assert p.grad is not None and p.grad.device == device and p.grad.shape == p.shape, name
    if device.type == "cpu":  # on a GPU, test_fused's CUDA tests compare at TF32's tolerance
        F.cross_entropy(reference(x.detach()), y).backward()
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5, msg=name)


# ------------------------------------------------------------------ the 1998 paper: SDLM, losses, distortions


@pytest.mark.parametrize("images_on", ["cpu", "device"])
def test_sdlm_curvature_estimate_and_step(device, images_on):
    model = LeNet5Classic(seed=0).to(device)
    images, labels = _images(12)
    if images_on == "device":
        images = images.to(device)
    optimizer = SDLM(model.parameters(), lr=1e-3, mu=0.02)
    diagonal = CurvatureEstimator(model, optimizer, images, n=8, seed=0)(0)
    params = [p for p in model.parameters() if p.requires_grad]
    assert set(diagonal) == set(params)
    for p in params:
        h = diagonal[p]
        assert h.device == device and h.shape == p.shape
        assert optimizer.step_sizes(p).device == device
    before = [p.detach().clone() for p in params]
    loss = losses.map_criterion(model(images[:4].to(device)), labels[:4].to(device))
    loss.backward()
    optimizer.step()
    for p, old in zip(params, before):
        assert p.device == device
        if computes(device):  # w <- w - lr / (mu + h) * dE/dw
            torch.testing.assert_close(p.detach(), old - 1e-3 * p.grad / (0.02 + diagonal[p]))


def test_gauss_newton_diagonal_with_a_per_output_curvature(device):
    model = LeNet5Classic(seed=0).to(device)
    x, _ = _images(4)
    curvature = torch.full((4, 84), 2.0)  # on the CPU: taken to the device of the activations
    diagonal = gauss_newton_diagonal(model.sdlm_stages(), x.to(device), curvature)
    assert all(h.device == device for h in diagonal.values())
    if computes(device):
        scalar = gauss_newton_diagonal(model.sdlm_stages(), x.to(device), 2.0)
        for p, h in diagonal.items():
            torch.testing.assert_close(h, scalar[p], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(
    "criterion", [losses.mse_criterion, losses.map_criterion, losses.MSECriterion(), losses.MAPCriterion(0.5)]
)
def test_losses(device, criterion):
    scores = (-5 * torch.rand(6, 10, generator=torch.Generator().manual_seed(1))).to(device).requires_grad_()
    targets = (torch.arange(6) % 10).to(device)
    loss = criterion(scores, targets)
    assert loss.device == device and loss.dim() == 0
    loss.backward()
    assert scores.grad.device == device
    if computes(device) and criterion is losses.mse_criterion:
        torch.testing.assert_close(loss, -scores[torch.arange(6), targets].mean())


@pytest.mark.parametrize("background", [None, 0.0])
def test_random_distortion(device, background):
    x, _ = _images(5)
    distort = RandomDistortion(seed=0, background=background, p=0.6)
    out = distort(x.to(device))
    assert out.device == device and out.shape == x.shape and out.dtype == x.dtype
    if computes(device):
        again = RandomDistortion(seed=0, background=background, p=0.6)(x.to(device))
        torch.testing.assert_close(out, again)  # the same seed, the same maps
        identity = RandomDistortion(seed=0, background=background, p=0.0)(x.to(device))
        torch.testing.assert_close(identity.cpu(), x, atol=1e-5, rtol=0)


def test_distorted_loader(device):
    loader = DistortedLoader(TensorLoader(_split(), batch_size=16, device=device), RandomDistortion(seed=0))
    batches = list(loader)
    assert len(batches) == 3
    for X, y in batches:
        assert X.device == y.device == device and X.shape == (16, 1, 32, 32)
    assert loader.images.device == device  # what the curvature estimate draws from


# ------------------------------------------------------------------ data


def test_tensor_loader(device):
    split = _split()
    loader = TensorLoader(split, batch_size=20, shuffle=True, seed=3, device=device)
    assert loader.images.device == loader.labels.device == device
    batches = list(loader)
    assert [len(y) for _, y in batches] == [20, 20, 8]
    for X, y in batches:
        assert X.device == y.device == device and X.shape[1:] == (1, 32, 32)
    if computes(device):
        order = shuffled_indices(len(split), 3, 0)
        expected = F.pad(split.images[order[:20]].float().div(255), (2, 2, 2, 2)).unsqueeze(1)
        torch.testing.assert_close(batches[0][0].cpu(), expected)
        assert torch.equal(batches[0][1].cpu(), split.labels[order[:20]])


def test_classic_loader(device):
    X, y = next(iter(classic_loader(_split(), batch_size=8, device=device)))
    assert X.device == y.device == device and X.shape == (8, 1, 32, 32)
    if computes(device):
        assert X.min().item() == pytest.approx(-0.1) and X.max() <= 1.175 + 1e-6


def test_paper_recipe(device):
    model = LeNet5Classic(seed=0)
    recipe = paper_recipe(model, _split(), batch_size=8, curvature_samples=8, device=device)
    assert next(model.parameters()).device == device
    assert recipe.train_loader.images.device == device
    diagonal = recipe.fit_kwargs()["before_epoch"](0)
    assert all(h.device == device for h in diagonal.values())


# ------------------------------------------------------------------ training and evaluation


@pytest.mark.parametrize("loaders_on", ["cpu", "device"])
def test_fit(device, loaders_on):
    at = device if loaders_on == "device" else "cpu"
    train_loader = TensorLoader(_split(32), batch_size=16, shuffle=True, device=at)
    valid_loader = TensorLoader(_split(16, seed=1), batch_size=16, device=at)
    model = LeNet5()
    history = ends_with_item(
        device, lambda: fit(model, train_loader, valid_loader, 1, device=device, progress=False, log=None)
    )
    assert next(model.parameters()).device == device
    if history is not None:
        assert len(history) == 1 and 0 <= history.valid_acc[0] <= 1


@pytest.mark.parametrize("loader_on", ["cpu", "device"])
def test_evaluate_predict_and_the_seed_articles_helpers(device, loader_on):
    loader = TensorLoader(_split(32), batch_size=16, device=device if loader_on == "device" else "cpu")
    model = _lenet5(device)
    criterion = nn.CrossEntropyLoss()
    result = ends_with_item(device, lambda: evaluate(model, loader))
    if result is not None:
        assert result[0] > 0 and 0 <= result[1] <= 1
    predicted = ends_on_the_cpu(device, lambda: predict(model, loader))
    if predicted is not None:
        y_true, y_pred, probs = predicted
        assert y_true.device == y_pred.device == probs.device == torch.device("cpu") and probs.shape == (32, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    ends_with_item(device, lambda: train(loader, model, criterion, optimizer, device))
    ends_with_item(device, lambda: validate(loader, model, criterion, device))
    ends_with_item(device, lambda: get_accuracy(model, loader, device))


def test_layer_table(device):
    table = layer_table(_lenet5(device), verbose=False)  # shapes only: it runs on meta to the end
    assert table.total_params == 61_706
    # the 1998 network's C3 keeps only the table's weights: counted from shapes, so on meta too
    classic = layer_table(LeNet5Classic(seed=0).to(device), verbose=False)
    assert classic.total_params == 60_000


# ------------------------------------------------------------------ pictures: plots, digits, widgets


def test_per_class_accuracy_stays_on_the_matrix_device(device):
    cm = torch.tensor([[3, 1], [0, 4]], device=device)
    acc = plots.per_class_accuracy(cm)
    assert acc.device == device
    if computes(device):
        assert acc.tolist() == [0.75, 1.0]


def test_plot_per_class_accuracy_copies_the_matrix_to_the_cpu_first(device):
    cm = torch.tensor([[3, 1], [0, 4]], device=device)
    fig = ends_on_the_cpu(device, lambda: plots.plot_per_class_accuracy(cm))
    if fig is not None:
        assert [bar.get_height() for bar in fig.axes[0].patches] == [75.0, 100.0]


def test_plot_confusion_matrix(device):
    cm = torch.tensor([[3, 1], [0, 4]], device=device)
    fig = ends_on_the_cpu(device, lambda: plots.plot_confusion_matrix(cm))
    if fig is not None:
        assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "3", "4"]


def test_confusion_matrix(device):
    y_true, y_pred = torch.tensor([0, 1, 1, 2], device=device), torch.tensor([0, 1, 2, 2], device=device)
    cm = ends_on_the_cpu(device, lambda: plots.confusion_matrix(y_true, y_pred, num_classes=3))
    if cm is not None:
        assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


@pytest.mark.parametrize("on_device", ["images", "labels"])
def test_show_images(device, on_device):
    images, labels = _images(4)
    images = images.to(device) if on_device == "images" else images
    labels = labels.to(device) if on_device == "labels" else labels
    fig = ends_on_the_cpu(device, lambda: plots.show_images(images, labels, n=4))
    if fig is not None:
        assert [ax.get_title() for ax in fig.axes if ax.images] == ["0", "1", "2", "3"]


GALLERIES = [plots.prediction_gallery, plots.misclassified_gallery, plots.least_confident_gallery]


@pytest.mark.parametrize("gallery", GALLERIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("on_device", ["model", "model, images and labels", "labels"])
def test_galleries(device, gallery, on_device):
    images, labels = _images(6)
    model = _lenet5(device if "model" in on_device else "cpu")
    if "images" in on_device:
        images = images.to(device)
    if "labels" in on_device:
        labels = labels.to(device)
    fig = ends_on_the_cpu(device, lambda: gallery(model, images, labels, n=4))
    if fig is not None:
        assert sum(len(ax.images) for ax in fig.axes) <= 4 and fig._suptitle.get_text()


def test_plot_feature_maps(device):
    image, _ = _images(1)
    fig = ends_on_the_cpu(device, lambda: plots.plot_feature_maps(_lenet5(device), "c1", image[0]))
    if fig is not None:
        assert sum(len(ax.images) for ax in fig.axes) == 6


@pytest.mark.parametrize(
    "call",
    [digits.to_mnist, digits.to_lenet_input, digits.center_of_mass, digits.bounding_box],
    ids=lambda f: f.__name__,
)
def test_digits_read_an_image_from_any_device(device, call):
    image = torch.zeros(40, 40)
    image[10:30, 18:22] = 1.0  # a 1
    result = ends_on_the_cpu(device, lambda: call(image.to(device)))
    if isinstance(result, torch.Tensor):
        assert result.device == torch.device("cpu")
        torch.testing.assert_close(result, call(image))


def test_feature_map_widget_and_layer_outputs(device):
    from lenet_course.widgets.feature_maps import FeatureMapExplorer, layer_outputs

    images, labels = _images(3)
    model = _lenet5(device)
    outputs = ends_on_the_cpu(device, lambda: layer_outputs(model, images[0], ["c1", "s2"]))
    if outputs is not None:
        assert outputs["c1"].device == torch.device("cpu") and outputs["s2"].shape == (6, 14, 14)
    explorer = ends_on_the_cpu(device, lambda: FeatureMapExplorer(model, images, labels, layers=("c1",)))
    if explorer is not None:
        assert explorer.feature_map.shape == (28, 28)


def test_layer_widget_and_weight_pictures(device):
    from lenet_course.widgets.layers import LayerExplorer, plot_layer_weights

    model = _lenet5(device)
    fig = ends_on_the_cpu(device, lambda: plot_layer_weights(model.c3))
    if fig is not None:
        assert sum(len(ax.images) for ax in fig.axes) == 16
    explorer = ends_on_the_cpu(device, lambda: LayerExplorer(model))
    if explorer is not None:
        assert "input 16x5x5 -> output 120x1x1" in explorer.describe("c5")


def test_drawing_pad(device):
    from lenet_course.widgets.canvas import DrawingPad

    pad = DrawingPad(_lenet5(device))
    ends_on_the_cpu(device, lambda: pad.draw_line([(140, 60), (140, 220)]))
    if computes(device):
        assert pad.probabilities.device == torch.device("cpu") and pad.prediction is not None


def test_training_widget(device):
    from lenet_course.widgets.training import TrainingControls

    controls = TrainingControls((_split(32), _split(16, seed=1)), device=device, epochs=1)
    history = ends_with_item(device, controls.train)
    assert next(controls.model.parameters()).device == device
    if history is not None:
        assert len(history) == 1


# ------------------------------------------------------------------ the chapters


def _cells(chapter: str) -> dict:
    nb = json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))
    return {c["id"]: "".join(c["source"]) for c in nb["cells"]}


def test_chapter7_timing_waits_for_the_device_before_each_clock_reading():
    """On a GPU the loader's indexing is only queued: the clock must be read after the queue is drained."""
    events = []

    class Loader:
        def __init__(self, name):
            self.name = name

        def __iter__(self):
            for _ in range(3):
                events.append("batch")
                yield torch.zeros(1), torch.zeros(1)

    class Clock:
        @staticmethod
        def perf_counter():
            events.append("clock")
            return float(len(events))

    namespace = {
        "time": Clock,
        "synchronize": lambda device: events.append(f"sync {device}"),
        "device": torch.device("cuda"),
        "fast_loader": Loader("fast"),
        "slow_loader": Loader("slow"),
        "print": lambda *args, **kwargs: None,
    }
    exec(_cells("07_mnist.ipynb")["timing"], namespace)  # noqa: S102
    assert events, "the timing cell timed nothing"
    clocks = [i for i, event in enumerate(events) if event == "clock"]
    assert len(clocks) == 2 * 2 * 3  # two loaders, three repeats, a start and a stop each
    for i in clocks:
        assert events[i - 1] == "sync cuda", f"clock read at step {i} without waiting for the device: {events[: i + 1]}"


def test_chapter7_setup_imports_synchronize_from_the_package():
    assert "synchronize" in _cells("07_mnist.ipynb")["setup"]


def test_chapter8_eval_demo_tolerates_the_rounding_of_a_gpu():
    """Two forward passes on a GPU may differ in the last bits (cuDNN picks its algorithms): still "same"."""

    class Jittery(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _lenet5("cpu")

        def forward(self, x):
            out = self.net(x)
            return out + 1e-7 * out.abs().max() * torch.randn_like(out)

    out = []
    namespace = {"torch": torch, "model": Jittery(), "X": _images(2)[0], "print": lambda *a: out.append(a)}
    exec(_cells("08_training_loop.ipynb")["eval-demo"], namespace)  # noqa: S102
    assert out[-1] == ("same numbers either way:", True)
    namespace["model"] = nn.Sequential(nn.Flatten(), nn.Linear(1024, 10), nn.Dropout(0.5))  # really different
    exec(_cells("08_training_loop.ipynb")["eval-demo"].replace("model.eval()", "model.train()"), namespace)  # noqa: S102
    assert out[-1] == ("same numbers either way:", False)


def test_every_chapter_takes_its_device_from_setup():
    """No chapter names a device: ``setup()`` picks it, and ``LENET_COURSE_DEVICE`` (set by run_chapters) pins it."""
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        assert any("device = setup()" in source for source in code), f"{path.name}: no `device = setup()`"
        for source in code:
            for named in ('"cuda', "'cuda", ".cuda(", 'device="cpu"', "device='cpu'", "torch.device("):
                assert named not in source, f"{path.name} names a device ({named}) in:\n{source}"


def test_run_chapters_pins_the_cpu_unless_told_otherwise(monkeypatch):
    sys.path.insert(0, str(ROOT))
    try:
        from tools import run_chapters
    finally:
        sys.path.remove(str(ROOT))
    seen = []
    monkeypatch.setattr(
        run_chapters, "run", lambda path, timeout: seen.append(os.environ["LENET_COURSE_DEVICE"]) or 0.0
    )
    monkeypatch.setattr(sys, "argv", ["run_chapters.py", "chapters/00_welcome.ipynb"])
    for name in ("LENET_COURSE_DEVICE", "LENET_COURSE_OFFLINE", "LENET_COURSE_DATA", "MPLBACKEND"):
        monkeypatch.setenv(name, "x")  # recorded, so that whatever main() sets is undone afterwards
        monkeypatch.delenv(name)
    assert run_chapters.main() == 0
    monkeypatch.setenv("LENET_COURSE_DEVICE", "cuda")
    assert run_chapters.main() == 0
    assert seen == ["cpu", "cuda"]
