"""The fused training step computes what ``LeNet5.forward`` computes: the same logits and the same gradients."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_course.data import Split, TensorLoader
from lenet_course.fast.fused import (
    _ConvTanhPool,
    _ConvTanhPoolC1,
    fused_forward,
    fused_forward_of,
    supports_fused,
    why_not_fused,
)
from lenet_course.models import LeNet5
from lenet_course.paper.network import LeNet5Classic
from lenet_course.training import evaluate, fit


def _model(seed: int = 0, **kwargs) -> LeNet5:
    torch.manual_seed(seed)
    model = LeNet5(**kwargs)
    with torch.no_grad():  # larger weights than the default init, so that tanh saturates somewhere
        for p in model.parameters():
            p.mul_(3)
    return model


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_fused_forward_returns_the_logits_of_the_model(batch):
    model = _model()
    x = torch.rand(batch, 1, 32, 32)
    expected = model(x)
    got = fused_forward(model, x)
    assert got.shape == (batch, 10)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=2e-5)


def test_other_class_counts_and_colour_input_are_fused_too():
    model = _model(num_classes=5, in_channels=3)
    x = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(fused_forward(model, x), model(x), rtol=1e-5, atol=2e-5)


def test_every_gradient_matches_autograd_through_the_model():
    model = _model(1)
    x = torch.rand(32, 1, 32, 32, requires_grad=True)
    y = torch.randint(0, 10, (32,))
    wrt = [x, *model.parameters()]
    expected = torch.autograd.grad(F.cross_entropy(model(x), y), wrt)
    got = torch.autograd.grad(F.cross_entropy(fused_forward(model, x), y), wrt)
    names = ["input"] + [name for name, _ in model.named_parameters()]
    for name, g, e in zip(names, got, expected):
        scale = e.abs().max()
        assert scale > 0, name
        assert (g - e).abs().max() <= 1e-4 * scale, f"{name}: {(g - e).abs().max() / scale:.1e} of its largest entry"


def test_the_hand_written_backward_passes_gradcheck_in_float64():
    torch.manual_seed(2)
    x = torch.rand(2, 1, 32, 32, dtype=torch.float64, requires_grad=True)
    w1 = torch.randn(6, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    b1 = torch.randn(6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_ConvTanhPoolC1.apply, (x, w1, b1))
    h = torch.rand(2, 6, 14, 14, dtype=torch.float64, requires_grad=True)
    w3 = (0.3 * torch.randn(16, 6, 5, 5, dtype=torch.float64)).requires_grad_()
    b3 = torch.randn(16, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_ConvTanhPool.apply, (h, w3, b3))


def test_each_block_is_tanh_then_average_pooling():
    torch.manual_seed(3)
    x = torch.randn(3, 1, 32, 32, dtype=torch.float64)
    w, b = torch.randn(6, 1, 5, 5, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    expected = F.avg_pool2d(torch.tanh(F.conv2d(x, w, b)), 2)
    torch.testing.assert_close(_ConvTanhPoolC1.apply(x, w, b), expected)
    h = torch.randn(3, 6, 14, 14, dtype=torch.float64)
    w3, b3 = torch.randn(16, 6, 5, 5, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    torch.testing.assert_close(_ConvTanhPool.apply(h, w3, b3), F.avg_pool2d(torch.tanh(F.conv2d(h, w3, b3)), 2))


def test_it_works_without_autograd_for_evaluation():
    model = _model()
    x = torch.rand(8, 1, 32, 32)
    with torch.inference_mode():
        got = fused_forward(model, x)
    torch.testing.assert_close(got, model(x).detach(), rtol=1e-5, atol=2e-5)


def _hooked(model):
    model.c3.register_forward_hook(lambda *args: None)
    return model


class _Subclass(LeNet5):
    pass


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda m: LeNet5Classic(), "not LeNet5Classic"),
        (lambda m: _Subclass(), "not _Subclass"),
        (lambda m: setattr(m, "s2", nn.MaxPool2d(2)) or m, "model.s2 is no longer a 2x2 average pooling"),
        (
            lambda m: setattr(m, "c3", nn.Conv2d(6, 16, 5, padding=2)) or m,
            "model.c3 is no longer a plain 5x5 convolution",
        ),
        (
            lambda m: setattr(m, "f6", nn.Sequential(nn.Linear(120, 84))) or m,
            "model.f6 is no longer a Linear with a bias",
        ),
        (lambda m: setattr(m, "forward", lambda x: x) or m, "the model's forward has been replaced"),
        (_hooked, "hooks are registered on c3"),
    ],
)
def test_a_changed_model_is_not_fused_and_the_reason_is_given(change, reason):
    model = change(LeNet5())
    assert not supports_fused(model)
    assert reason in why_not_fused(model)
    with pytest.raises(ValueError, match="fused_forward cannot stand in for this model") as err:
        fused_forward(model, torch.rand(2, 1, 32, 32))
    assert reason in str(err.value) and "model(x)" in str(err.value)


def test_the_plain_model_is_fused():
    assert supports_fused(LeNet5())
    assert why_not_fused(LeNet5()) is None


def test_a_wrong_input_gets_the_models_own_message():
    with pytest.raises(ValueError, match="pad 28x28 digits by 2 pixels"):
        fused_forward(LeNet5(), torch.rand(2, 1, 28, 28))


def _loaders(n: int = 512):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
    labels = (images.float().mean((1, 2)) > 127.5).long() + 2 * (images[:, :14].float().mean((1, 2)) > 127.5).long()
    split = Split(images, labels)
    return TensorLoader(split, batch_size=64, shuffle=True), TensorLoader(split, batch_size=128)


def test_fit_fuses_by_default_on_the_cpu_and_learns_the_same_as_without():
    models = {fused: _model(4) for fused in (None, False)}
    histories = {}
    for fused, model in models.items():
        train, valid = _loaders()  # a fresh loader each: the same shuffled order
        histories[fused] = fit(model, train, valid, epochs=2, fused=fused, device="cpu", progress=False, log=None)
    fused, plain = histories[None], histories[False]
    assert fused.train_loss == pytest.approx(plain.train_loss, rel=1e-4)
    assert fused.valid_loss == pytest.approx(plain.valid_loss, rel=1e-3)
    assert fused.valid_acc == pytest.approx(plain.valid_acc, abs=2 / 512)
    for (name, a), b in zip(models[None].named_parameters(), models[False].parameters()):
        assert torch.allclose(a, b, atol=1e-4), name
    assert models[None].c3.weight.is_contiguous()  # the weights keep the usual layout


@pytest.mark.parametrize("fused, calls", [(None, True), (True, True), (False, False)])
def test_fit_calls_the_fused_forward_unless_told_not_to(monkeypatch, fused, calls):
    import lenet_course.fast.fused

    seen = []
    real = lenet_course.fast.fused._fused_logits
    monkeypatch.setattr(
        lenet_course.fast.fused, "_fused_logits", lambda model, X: seen.append(len(X)) or real(model, X)
    )
    train, valid = _loaders(128)
    fit(LeNet5(), train, valid, epochs=1, fused=fused, device="cpu", progress=False, log=None)
    assert seen == ([64, 64, 128] if calls else [])  # two training batches, then one validation batch


def test_fit_refuses_fused_true_for_a_model_it_cannot_fuse():
    train, valid = _loaders(128)
    model = _hooked(LeNet5())
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match=r"fit\(fused=True\) cannot fuse this model: hooks are registered on c3"):
        fit(model, train, valid, epochs=1, fused=True, progress=False, log=None)
    for name, tensor in model.state_dict().items():  # refused before any training
        assert torch.equal(tensor, before[name]), name


def test_evaluate_with_the_fused_forward_gives_the_same_numbers():
    _, valid = _loaders(256)
    model = _model(5)
    expected = evaluate(model, valid)
    got = evaluate(model, valid, forward=lambda X: fused_forward(model, X))
    assert got[0] == pytest.approx(expected[0], rel=1e-5)
    assert got[1] == expected[1]


# ------------------------------------------------------------------ autocast


def test_under_autocast_the_fused_path_is_refused_and_fit_falls_back_to_the_model():
    model = _model()
    x, y = torch.rand(4, 1, 32, 32), torch.randint(0, 10, (4,))
    bound = fused_forward_of(model)  # bound before autocast: each call checks again
    with torch.autocast("cpu", dtype=torch.bfloat16):
        reason = why_not_fused(model)
        assert reason is not None and "autocast is on for cpu" in reason
        for call in (lambda: fused_forward(model, x), lambda: bound(x)):
            with pytest.raises(ValueError, match="autocast is on for cpu.*Call model\\(x\\) instead"):
                call()
        train, valid = _loaders(128)
        with pytest.raises(ValueError, match=r"fit\(fused=True\) cannot fuse this model: autocast is on for cpu"):
            fit(model, train, valid, epochs=1, fused=True, device="cpu", progress=False, log=None)
        # fused=None trains the model itself, in bfloat16 where autocast says so
        history = fit(model, train, valid, epochs=1, device="cpu", progress=False, log=None)
        assert len(history) == 1 and history.train_loss[0] > 0
    assert why_not_fused(model) is None  # autocast over: fused again
    torch.testing.assert_close(bound(x), model(x), rtol=1e-5, atol=2e-5)
    F.cross_entropy(bound(x), y).backward()


def test_autocast_for_another_device_type_does_not_refuse_a_cpu_model():
    with torch.autocast("cuda", enabled=torch.cuda.is_available()):
        assert why_not_fused(LeNet5()) is None


# ------------------------------------------------------------------ on a CUDA GPU (make check-gpu)


@pytest.fixture
def tf32():
    """``tf32(on)`` sets cuDNN's and cuBLAS's TF32 switches; both are put back as they were afterwards."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32

    def switch(on: bool) -> None:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = on

    yield switch
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def _values_and_gradients(model, forward, x, y):
    wrt = [x, *model.parameters()]
    out = forward(x)
    return out.detach(), torch.autograd.grad(F.cross_entropy(out, y), wrt)


def _compare_on_cuda(rtol_values: float, atol_values: float, rel_gradients: float) -> None:
    model = _model(6).cuda()
    g = torch.Generator().manual_seed(6)
    x = torch.rand(64, 1, 32, 32, generator=g).cuda().requires_grad_()
    y = torch.randint(0, 10, (64,), generator=g).cuda()
    expected, expected_grads = _values_and_gradients(model, model, x, y)
    got, got_grads = _values_and_gradients(model, fused_forward_of(model), x, y)
    assert got.device == expected.device == x.device
    torch.testing.assert_close(got, expected, rtol=rtol_values, atol=atol_values)
    names = ["input"] + [name for name, _ in model.named_parameters()]
    for name, g, e in zip(names, got_grads, expected_grads):
        assert g.device == e.device, name
        scale = e.abs().max()
        assert scale > 0, name
        error = ((g - e).abs().max() / scale).item()
        assert error <= rel_gradients, f"{name}: {error:.1e} of its largest entry"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make check-gpu)")
def test_on_cuda_without_tf32_the_fused_path_matches_the_model_as_on_a_cpu(tf32):
    tf32(False)
    _compare_on_cuda(rtol_values=1e-5, atol_values=2e-5, rel_gradients=1e-4)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make check-gpu)")
def test_on_cuda_with_tf32_the_fused_path_matches_the_model_to_tf32_precision(tf32):
    # cuDNN's default: convolutions (and here matrix products) round their inputs to 10-bit mantissas.
    # Rounding every convolution's and product's inputs so on a CPU, forward and backward, gives
    # differences up to 3e-4 (values) and 7e-4 (gradients) of the largest entry for these models.
    tf32(True)
    _compare_on_cuda(rtol_values=1e-3, atol_values=1e-3, rel_gradients=2e-3)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make check-gpu)")
def test_on_cuda_under_autocast_the_fused_path_is_refused():
    model = LeNet5().cuda()
    with torch.autocast("cuda", dtype=torch.float16):
        assert "autocast is on for cuda" in why_not_fused(model)
        with pytest.raises(ValueError, match="autocast is on for cuda"):
            fused_forward(model, torch.rand(2, 1, 32, 32, device="cuda"))
    assert why_not_fused(model) is None
