import pytest
import torch
from torch import nn

from lenet_course.models import LeNet5, logits_of, predict_proba


def test_named_paper_layers():
    model = LeNet5()
    assert [name for name, _ in model.named_children()] == ["c1", "s2", "c3", "s4", "c5", "f6", "f7"]
    assert model.c1.weight.shape == (6, 1, 5, 5)
    assert model.c3.weight.shape == (16, 6, 5, 5)
    assert model.c5.weight.shape == (120, 16, 5, 5)
    assert model.f6.weight.shape == (84, 120)
    assert model.f7.weight.shape == (10, 84)


def test_parameter_total():
    assert sum(p.numel() for p in LeNet5().parameters()) == 61_706


def test_forward_returns_logits_per_class():
    torch.manual_seed(0)
    out = LeNet5()(torch.randn(4, 1, 32, 32))
    assert out.shape == (4, 10)
    assert not torch.allclose(out.sum(1), torch.ones(4))  # logits, not probabilities


def test_matches_the_seed_articles_sequential_model():
    """Same weights, same function as the article's nn.Sequential version."""
    torch.manual_seed(1)
    ours = LeNet5()
    features = nn.Sequential(ours.c1, nn.Tanh(), ours.s2, ours.c3, nn.Tanh(), ours.s4, ours.c5, nn.Tanh())
    classifier = nn.Sequential(ours.f6, nn.Tanh(), ours.f7)
    x = torch.randn(3, 1, 32, 32)
    expected = classifier(torch.flatten(features(x), 1))
    torch.testing.assert_close(ours(x), expected)


@pytest.mark.parametrize(
    "shape, hint",
    [
        ((2, 3, 32, 32), "1-channel"),
        ((2, 1, 28, 28), "Pad"),
        ((2, 1, 40, 40), "resize or crop"),
        ((1, 32, 32), "unsqueeze"),
    ],
)
def test_wrong_input_is_one_clear_line(shape, hint):
    with pytest.raises(ValueError) as info:
        LeNet5()(torch.zeros(shape))
    message = str(info.value)
    assert "\n" not in message
    assert "expects input of shape (N, 1, 32, 32)" in message
    assert f"got {shape}" in message
    assert hint in message


def test_predict_proba_sums_to_one_and_keeps_mode():
    model = LeNet5().train()
    p = predict_proba(model, torch.randn(5, 1, 32, 32))
    torch.testing.assert_close(p.sum(1), torch.ones(5))
    assert model.training


def test_logits_of_accepts_the_seed_tuple():
    logits = torch.randn(2, 10)
    assert logits_of((logits, logits.softmax(1))) is logits
    assert logits_of(logits) is logits
