"""SDLM on problems whose Hessian diagonal is known."""

import pytest
import torch
from torch import nn

from lenet_course.paper.network import LeNet5Classic, ScaledTanh, scale_input
from lenet_course.paper.sdlm import SDLM, CurvatureEstimator, Stage, gauss_newton_diagonal, paper_eta, paper_scheduler


def _least_squares(seed=0, n=64, d_in=5, d_out=3):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d_in, generator=g) * torch.tensor([0.5, 1.0, 2.0, 3.0, 0.1])[:d_in]
    T = torch.randn(n, d_out, generator=g)
    layer = nn.Linear(d_in, d_out)
    return X, T, layer


def test_gauss_newton_diagonal_is_exact_for_linear_least_squares():
    X, T, layer = _least_squares()
    diag = gauss_newton_diagonal([Stage(layer)], X, output_curvature=1.0)
    # E = 1/2 mean ||W x + b - t||^2: d2E/dw_ij^2 = mean x_j^2, d2E/db_i^2 = 1
    assert torch.allclose(diag[layer.weight], (X**2).mean(0).expand(3, 5), atol=1e-6)
    assert torch.allclose(diag[layer.bias], torch.ones(3))
    # and it is the diagonal of the true Hessian
    w, b = layer.weight.detach(), layer.bias.detach()
    H = torch.autograd.functional.hessian(lambda w_: 0.5 * ((X @ w_.T + b - T) ** 2).sum(1).mean(), w)
    assert torch.allclose(diag[layer.weight], torch.einsum("ijij->ij", H), atol=1e-5)


def test_curvature_backpropagates_through_squashing_and_squared_weights():
    torch.manual_seed(0)
    l1, l2 = nn.Linear(4, 3), nn.Linear(3, 2)
    f = ScaledTanh()
    x = torch.randn(10, 4)
    diag = gauss_newton_diagonal([Stage(l1, f), Stage(l2)], x, output_curvature=2.0)
    # the paper's recursion, written out for this two-layer net
    a1 = l1(x)
    h_a2 = torch.full((10, 2), 2.0)
    h_x1 = h_a2 @ (l2.weight**2)
    h_a1 = h_x1 * ScaledTanh.derivative(a1) ** 2
    assert torch.allclose(diag[l2.weight], (h_a2.T @ f(a1) ** 2) / 10, atol=1e-5)
    assert torch.allclose(diag[l1.weight], (h_a1.T @ x**2) / 10, atol=1e-5)
    assert torch.allclose(diag[l1.bias], h_a1.mean(0), atol=1e-5)


def test_sdlm_step_is_eta_over_mu_plus_h():
    p = nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = SDLM([p], lr=0.1, mu=0.5)
    opt.set_hessian_diagonal({p: torch.tensor([0.5, 1.5])})
    p.grad = torch.tensor([1.0, 4.0])
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([1.0 - 0.1 / 1.0, 2.0 - 0.1 * 4 / 2.0]))
    assert torch.allclose(opt.step_sizes(p), torch.tensor([0.1, 0.05]))


def test_sdlm_is_newton_on_a_separable_quadratic():
    # E = 1/2 sum_k c_k (w_k - t_k)^2 has Hessian diag(c): lr 1, tiny mu reaches the minimum in one step
    c, t = torch.tensor([0.1, 1.0, 10.0]), torch.tensor([1.0, -2.0, 3.0])
    w = nn.Parameter(torch.zeros(3))
    opt = SDLM([w], lr=1.0, mu=1e-6)
    opt.set_hessian_diagonal({w: c})
    (0.5 * (c * (w - t) ** 2).sum()).backward()
    opt.step()
    assert torch.allclose(w.detach(), t, atol=1e-4)


def test_sdlm_solves_least_squares_faster_than_sgd():
    X, T, layer = _least_squares(seed=1)
    sgd_layer = nn.Linear(5, 3)
    sgd_layer.load_state_dict(layer.state_dict())
    sdlm = SDLM(layer.parameters(), lr=0.5, mu=0.02)
    sdlm.set_hessian_diagonal(gauss_newton_diagonal([Stage(layer)], X, 1.0))
    sgd = torch.optim.SGD(sgd_layer.parameters(), lr=0.5 / 9)  # the largest stable-ish step for x_3's curvature 9
    for _ in range(100):
        for m, opt in ((layer, sdlm), (sgd_layer, sgd)):
            opt.zero_grad()
            (0.5 * ((m(X) - T) ** 2).sum(1).mean()).backward()
            opt.step()
    best = torch.linalg.lstsq(torch.cat([X, torch.ones(64, 1)], 1), T).solution
    err = lambda m: (m.weight.detach().T - best[:5]).abs().max().item()  # noqa: E731
    assert err(layer) < 1e-3
    assert err(layer) < err(sgd_layer)


def test_step_without_curvature_says_what_to_do():
    p = nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="call set_hessian_diagonal"):
        SDLM([p]).step()


def test_paper_schedule_and_scheduler():
    assert [paper_eta(e) for e in range(20)] == [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8
    p = nn.Parameter(torch.ones(1))
    opt = SDLM([p])
    sched = paper_scheduler(opt, scale=10)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradients yet: changes nothing
        sched.step()
    assert lrs == pytest.approx([5e-3, 5e-3, 2e-3, 2e-3, 2e-3, 1e-3])
    assert "last_epoch" in sched.state_dict()


def test_curvature_estimator_on_the_classic_model():
    model = LeNet5Classic(seed=0)
    images = scale_input(torch.rand(40, 1, 32, 32))
    opt = SDLM(model.parameters())
    diag = CurvatureEstimator(model, opt, images, n=20, seed=0)(0)
    assert set(diag) == set(model.parameters())
    for p in model.parameters():
        assert diag[p].shape == p.shape and torch.all(diag[p] >= 0)
    assert diag[model.c3.weight].shape == (1500,)  # the packed C3: one curvature per live weight
    # F6 feeds the RBF units directly: d2E/db^2 = 2 f'(a)^2
    assert torch.all(diag[model.f6.bias] > 0) and torch.all(diag[model.f6.bias] <= 2 * (1.7159 * 2 / 3) ** 2 + 1e-6)


class _Features(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.features(x)


def test_curvature_is_the_hessian_of_the_same_per_sample_loss_as_the_gradient():
    # SDLM divides the gradient of the batch-mean MAP loss by h_kk: both must refer to one sample's loss. At the
    # paper's initialisation F6's outputs are near 0, so eq. 9 is y_D - j to within e^-80 and its Hessian in F6's
    # outputs is 2 I. A factor of the batch size, 84 or 10 between the two would show here.
    from torch.func import functional_call

    from lenet_course.paper.losses import map_criterion

    model = LeNet5Classic(seed=0)
    images, targets = scale_input(torch.rand(8, 1, 32, 32)), torch.arange(8)
    estimate = CurvatureEstimator(model, SDLM(model.parameters()), images, n=8)(0)
    # F6's biases: the true Hessian diagonal of the batch-mean MAP loss (f''(a) ~ 0 at a ~ 0)
    exact = torch.autograd.functional.hessian(
        lambda b: map_criterion(functional_call(model, {"f6.bias": b}, (images,)), targets), model.f6.bias.detach()
    )
    assert torch.allclose(estimate[model.f6.bias], exact.diagonal(), rtol=0.02)
    # C5's biases, one layer down: the exact Gauss-Newton diagonal mean_n sum_i 2 (dx_i/db_k)^2, x = F6's outputs
    features = _Features(model)
    jac = torch.autograd.functional.jacobian(
        lambda b: functional_call(features, {"model.c5.bias": b}, (images,)), model.c5.bias.detach()
    )
    assert torch.allclose(estimate[model.c5.bias], 2 * (jac**2).sum(1).mean(0), rtol=1e-4)


class _MaskedC3(nn.Module):
    """Chapter 4's masked convolution: a full (16, 6, 5, 5) weight times the table's 0/1 mask."""

    def __init__(self, c3):
        super().__init__()
        self.weight = nn.Parameter(c3.kernel().detach().clone())
        self.bias = nn.Parameter(c3.bias.detach().clone())
        self.register_buffer("mask", c3.mask.clone())

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.weight * self.mask, self.bias)


def test_curvature_of_the_packed_c3_is_the_masked_versions_at_the_live_weights():
    from lenet_course.paper.network import C3Conv, ScaledTanh

    torch.manual_seed(0)
    packed = C3Conv()
    masked = _MaskedC3(packed)
    x = torch.randn(8, 6, 14, 14)
    h_packed = gauss_newton_diagonal([Stage(packed, ScaledTanh())], x)
    h_masked = gauss_newton_diagonal([Stage(masked, ScaledTanh())], x)
    torch.testing.assert_close(h_packed[packed.weight], h_masked[masked.weight][packed.mask == 1])
    torch.testing.assert_close(h_packed[packed.bias], h_masked[masked.bias])
    assert torch.all(h_masked[masked.weight][packed.mask == 0] == 0)
