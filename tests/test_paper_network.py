"""LeNet5Classic and its blocks: the paper's numbers and each block's behaviour."""

import math

import pytest
import torch
import torch.nn.functional as F

from lenet_course import layer_table
from lenet_course.paper.bitmaps import DIGIT_BITMAPS, bitmap_tensor, rbf_prototypes
from lenet_course.paper.network import (
    BACKGROUND,
    C3_TABLE,
    FOREGROUND,
    C3Conv,
    LeNet5Classic,
    RBFOutput,
    ScaledTanh,
    TrainableSubsampling,
    scale_input,
    scaled_tanh,
)

PAPER = {  # layer: (trainable parameters, connections), Section II-B of the paper
    "c1": (156, 122_304),
    "s2": (12, 5_880),
    "c3": (1_516, 151_600),
    "s4": (32, 2_000),
    "c5": (48_120, 48_120),
    "f6": (10_164, 10_164),
    "f7": (0, 840),
}


@pytest.fixture(scope="module")
def table():
    return layer_table(LeNet5Classic(seed=0), verbose=False)


@pytest.mark.parametrize("name", list(PAPER))
def test_layer_table_matches_the_paper(table, name):
    row = table.row(name)
    assert (row.params, row.connections) == PAPER[name]


def test_layer_table_totals_and_shapes(table):
    assert table.total_connections == 340_908
    assert table.total_params == 60_000
    # counted the way chapter 6 teaches, the stored parameters give the paper's number too
    assert sum(p.numel() for p in LeNet5Classic().parameters() if p.requires_grad) == 60_000
    assert [r.output_shape for r in table] == [
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 5, 5),
        (120, 1, 1),
        (84,),
        (10,),
    ]


def test_scaled_tanh_values():
    f = ScaledTanh()
    assert f(torch.tensor(1.0)).item() == pytest.approx(1.0, abs=1e-4)
    assert f(torch.tensor(-1.0)).item() == pytest.approx(-1.0, abs=1e-4)
    assert f(torch.tensor(100.0)).item() == pytest.approx(1.7159)
    a = torch.linspace(-3, 3, 13, requires_grad=True)
    scaled_tanh(a).sum().backward()
    assert torch.allclose(a.grad, ScaledTanh.derivative(a.detach()), atol=1e-6)


def test_subsampling_is_sum_times_coefficient_plus_bias_squashed():
    torch.manual_seed(0)
    s = TrainableSubsampling(3)
    x = torch.randn(2, 3, 6, 6)
    blocks = x.unfold(2, 2, 2).unfold(3, 2, 2).sum(dim=(-1, -2))  # (2, 3, 3, 3)
    expected = 1.7159 * torch.tanh(2 / 3 * (blocks * s.weight.view(1, 3, 1, 1) + s.bias.view(1, 3, 1, 1)))
    assert torch.allclose(s(x), expected, atol=1e-6)
    assert sum(p.numel() for p in s.parameters()) == 6


def test_c3_table_is_the_papers():
    assert len(C3_TABLE) == 16
    assert sum(len(row) for row in C3_TABLE) == 60
    assert [len(r) for r in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert C3_TABLE[4] == (0, 4, 5) and C3_TABLE[12] == (0, 1, 3, 4) and C3_TABLE[15] == tuple(range(6))


def _masked_c3(c3: C3Conv) -> tuple[torch.Tensor, torch.Tensor]:
    """Chapter 4's masked convolution holding the same weights: a full (16, 6, 5, 5) weight and a 0/1 mask."""
    full = c3.kernel().detach().clone().requires_grad_(True)
    return full, c3.mask


def test_c3_stores_exactly_the_papers_1516_values():
    c3 = C3Conv()
    assert c3.weight.shape == (1500,) and c3.bias.shape == (16,)
    assert sum(p.numel() for p in c3.parameters()) == c3.trainable_parameters() == 1516
    assert sorted(c3.state_dict()) == ["bias", "weight"]  # the mask and index follow from the table
    kernel = c3.kernel()
    assert kernel.shape == (16, 6, 5, 5)
    assert torch.all(kernel[c3.mask == 0] == 0) and torch.all(kernel[c3.mask == 1] != 0)
    # packed pair by pair in the table's order: the first 75 weights are map 0's kernels over S2 maps 0, 1, 2
    assert torch.equal(c3.weight[:75].view(3, 5, 5), kernel[0, [0, 1, 2]])
    assert torch.equal(c3.weight[-150:].view(6, 5, 5), kernel[15])


def test_packed_c3_computes_the_masked_convolution_and_its_gradients():
    torch.manual_seed(0)
    c3 = C3Conv()
    full, mask = _masked_c3(c3)
    x = torch.randn(3, 6, 14, 14)
    y = c3(x)
    y_masked = F.conv2d(x, full * mask, c3.bias.detach())
    torch.testing.assert_close(y, y_masked)
    # map 0 reads S2 maps 0, 1, 2 only: changing maps 3, 4, 5 leaves it unchanged
    x2 = x.clone()
    x2[:, 3:] = torch.randn(3, 3, 14, 14)
    assert torch.equal(c3(x2)[:, 0], y[:, 0])
    assert not torch.allclose(c3(x2)[:, 15], y[:, 15])
    # it equals a plain convolution over the connected maps only
    ref = F.conv2d(x[:, [0, 1, 2]], c3.kernel()[0:1, [0, 1, 2]], c3.bias[0:1])
    torch.testing.assert_close(y[:, :1], ref)
    # the same loss, the same gradients: the packed gradient is the masked one at the live weights
    target = torch.randn_like(y)
    ((y - target) ** 2).sum().backward()
    ((y_masked - target) ** 2).sum().backward()
    assert torch.all(full.grad[mask == 0] == 0)  # the masked version's dead weights get no gradient
    torch.testing.assert_close(c3.weight.grad, full.grad.flatten()[c3.index])
    torch.testing.assert_close(c3.weight.grad, full.grad[mask == 1])


def test_c3_reads_a_checkpoint_of_the_masked_version():
    c3 = C3Conv()
    full = torch.randn(16, 6, 5, 5) * c3.mask
    bias = torch.randn(16)
    c3.load_state_dict({"weight": full, "bias": bias, "mask": c3.mask.clone()})
    assert torch.equal(c3.kernel(), full) and torch.equal(c3.bias, bias)
    other_table = c3.mask.clone()
    other_table[0, 5] = 1
    with pytest.raises(RuntimeError, match="another connection table"):
        C3Conv().load_state_dict({"weight": full, "bias": bias, "mask": other_table})


def test_c3_rejects_a_bad_table():
    with pytest.raises(ValueError, match="S2 has maps 0..5"):
        C3Conv(((0, 6),))


def test_bitmaps_are_7x12_and_distinct():
    protos = rbf_prototypes()
    assert protos.shape == (10, 84)
    assert set(protos.unique().tolist()) == {-1.0, 1.0}
    for d, rows in DIGIT_BITMAPS.items():
        assert len(rows) == 12 and all(len(r) == 7 for r in rows), d
    hamming = (protos.unsqueeze(0) != protos.unsqueeze(1)).sum(-1)
    off_diagonal = hamming[~torch.eye(10, dtype=torch.bool)]
    assert off_diagonal.min() >= 11  # 3 and 8 are the closest pair
    assert bitmap_tensor(1)[1, 3] == 1 and bitmap_tensor(1)[0, 0] == -1


def test_rbf_output_equals_the_formula():
    torch.manual_seed(0)
    rbf = RBFOutput()
    x = torch.randn(3, 84)
    w = rbf_prototypes()
    expected = torch.stack([torch.stack([((x[n] - w[i]) ** 2).sum() for i in range(10)]) for n in range(3)])
    assert torch.allclose(rbf(x), expected, atol=1e-5)
    assert rbf(w).argmin(dim=1).tolist() == list(range(10))
    assert rbf(w).diagonal().abs().max() == 0
    assert list(rbf.parameters()) == []


def test_fan_in_initialisation_bounds():
    m = LeNet5Classic(seed=0)
    for param, fan_in in [
        (m.c1.weight, 25),
        (m.c5.weight, 400),
        (m.f6.weight, 120),
        (m.s2.weight, 4),
        (m.f6.bias, 120),
    ]:
        bound = 2.4 / fan_in
        assert param.abs().max() <= bound
        if param.numel() >= 100:
            assert param.abs().max() > 0.9 * bound  # fills the range, not a narrower one
    kernel = m.c3.kernel()
    for o, row in enumerate(C3_TABLE):
        live = kernel[o, list(row)]
        assert live.abs().max() <= 2.4 / (25 * len(row))
        assert live.abs().max() > 0.8 * 2.4 / (25 * len(row))
    assert torch.all(kernel[m.c3.mask == 0] == 0)


def test_input_scaling():
    x = torch.tensor([0.0, 1.0, 0.5])
    assert torch.allclose(scale_input(x), torch.tensor([BACKGROUND, FOREGROUND, (BACKGROUND + FOREGROUND) / 2]))


def test_forward_scores_and_probabilities():
    m = LeNet5Classic(seed=0)
    x = scale_input(torch.rand(4, 1, 32, 32))
    scores = m(x)
    assert scores.shape == (4, 10)
    assert torch.allclose(scores, -m.penalties(x))
    p = m.predict_proba(x)
    assert torch.allclose(p.sum(1), torch.ones(4)) and torch.equal(p.argmax(1), scores.argmax(1))
    with pytest.raises(ValueError, match="pad 28x28"):
        m(torch.zeros(1, 1, 28, 28))


def test_classic_model_trains_on_the_sample():
    from lenet_course import load_mnist
    from lenet_course.paper.recipe import paper_recipe
    from lenet_course.training import evaluate, fit

    data = load_mnist("sample", verbose=False)
    torch.manual_seed(0)
    model = LeNet5Classic(seed=0)
    recipe = paper_recipe(model, data.train, batch_size=16, seed=0, train_size=2000)
    valid = recipe.loader(data.valid, shuffle=False)
    before, _ = evaluate(model, valid, recipe.criterion)
    history = fit(
        model,
        recipe.train_loader,
        valid,
        2,
        optimizer=recipe.optimizer,
        criterion=recipe.criterion,
        before_epoch=recipe.before_epoch,
        scheduler=recipe.scheduler,
        progress=False,
        log=None,
    )
    assert history.valid_loss[-1] < 0.5 * before
    assert history.valid_acc[-1] > 0.6  # chance is 0.1
    assert math.isfinite(history.train_loss[-1])
