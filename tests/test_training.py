import math

import pytest
import torch
from torch import nn

from lenet_course.data import TensorLoader, make_loader
from lenet_course.environment import set_seed
from lenet_course.models import LeNet5
from lenet_course.training import (
    History,
    evaluate,
    fit,
    get_accuracy,
    predict,
    train,
    training_loop,
    validate,
)


class SeedArticleLeNet5(nn.Module):
    """The seed article's class: returns (logits, probabilities)."""

    def __init__(self):
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.Tanh(),
            nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.Tanh(),
            nn.AvgPool2d(2),
            nn.Conv2d(16, 120, 5),
            nn.Tanh(),
        )
        self.classifier = nn.Sequential(nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))

    def forward(self, x):
        logits = self.classifier(torch.flatten(self.feature_extractor(x), 1))
        return logits, torch.softmax(logits, dim=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_reaches_90_percent_validation_accuracy_in_3_epochs(sample_data, seed):
    set_seed(seed)
    model = LeNet5()
    history = fit(
        model,
        TensorLoader(sample_data.train, 32, shuffle=True, seed=seed),
        TensorLoader(sample_data.valid, 1000),
        epochs=3,
        progress=False,
        log=None,
    )
    assert len(history) == 3
    assert history.best_valid_acc >= 0.90
    assert history.train_loss[-1] < history.train_loss[0]


def test_seed_article_code_runs_as_written(sample_data, capsys):
    torch.manual_seed(0)
    small = type(sample_data.train)(sample_data.train.images[:512], sample_data.train.labels[:512])
    train_loader = make_loader(small, batch_size=32, shuffle=True, seed=0)
    valid_loader = make_loader(sample_data.valid, batch_size=32)
    model = SeedArticleLeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.CrossEntropyLoss()
    model, optimizer, (train_losses, valid_losses) = training_loop(
        model, criterion, optimizer, train_loader, valid_loader, 2, "cpu"
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "Epoch: 1\tTrain loss:" in lines[1] and "Valid accuracy:" in lines[1]
    assert len(train_losses) == len(valid_losses) == 2 and train_losses[1] < train_losses[0]
    model, loss = validate(valid_loader, model, criterion, "cpu")
    assert math.isclose(loss, valid_losses[-1], rel_tol=1e-5)
    assert 0.0 <= get_accuracy(model, valid_loader, "cpu") <= 1.0


def test_train_returns_the_mean_loss_of_the_pass(sample_data):
    torch.manual_seed(0)
    model = LeNet5()
    loader = TensorLoader(sample_data.valid, 250)
    reference = LeNet5()
    reference.load_state_dict(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no learning: the loss is the plain mean
    _, _, loss = train(loader, model, nn.CrossEntropyLoss(), optimizer, "cpu")
    expected, _ = evaluate(reference, loader)
    assert math.isclose(loss, expected, rel_tol=1e-5)


def test_evaluate_and_predict_agree(sample_data):
    torch.manual_seed(0)
    model = LeNet5()
    loader = TensorLoader(sample_data.valid, 256)
    _, acc = evaluate(model, loader)
    y_true, y_pred, probs = predict(model, loader)
    assert acc == (y_true == y_pred).sum().item() / len(y_true)
    assert probs.shape == (1000, 10)
    assert acc == get_accuracy(model, loader, "cpu")


def test_history_round_trip_and_best_epoch():
    h = History(
        epoch=[0, 1, 2],
        train_loss=[3, 2, 1],
        train_acc=[0.1, 0.2, 0.3],
        valid_loss=[3, 2, 2],
        valid_acc=[0.5, 0.7, 0.7],
        seconds=[1, 1, 1],
    )
    assert h.best_epoch == 1  # the first of equal bests
    assert History.from_dict(h.as_dict()) == h


def test_diverging_loss_is_reported(sample_data):
    model = LeNet5()
    with torch.no_grad():
        model.f7.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(
            model,
            TensorLoader(sample_data.valid, 500),
            TensorLoader(sample_data.valid, 500),
            1,
            progress=False,
            log=None,
        )


def _channels_last(model):
    return model.c3.weight.is_contiguous(memory_format=torch.channels_last) and not model.c3.weight.is_contiguous()


class _InterruptedLoader:
    """A training loader whose second batch is a Ctrl-C."""

    def __init__(self, loader):
        self.loader, self.dataset = loader, loader.dataset

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if i == 1:
                raise KeyboardInterrupt
            yield batch


@pytest.mark.parametrize("fault", ["non-finite loss", "Ctrl-C"])
@pytest.mark.parametrize("start_channels_last", [False, True])
def test_fit_hands_the_model_back_in_its_memory_format_when_it_raises(sample_data, fault, start_channels_last):
    """On a CPU without the fused path, fit trains channels-last; it restores the layout on every exit."""
    torch.manual_seed(0)
    model = LeNet5()
    if start_channels_last:
        model.to(memory_format=torch.channels_last)
    train_loader = TensorLoader(sample_data.valid, 250)
    if fault == "non-finite loss":
        with torch.no_grad():
            model.f7.bias.fill_(float("nan"))
        expected = FloatingPointError
    else:
        train_loader = _InterruptedLoader(train_loader)
        expected = KeyboardInterrupt
    seen = []
    original = model.forward

    def spy(x):
        seen.append(_channels_last(model))
        return original(x)

    model.forward = spy
    with pytest.raises(expected):
        fit(model, train_loader, TensorLoader(sample_data.valid, 500), 1, fused=False, progress=False, log=None)
    assert seen and all(seen)  # it did train channels-last
    assert _channels_last(model) is start_channels_last
    if not start_channels_last:
        assert model.c3.weight.view(16, -1).shape == (16, 150)  # a learner's .view() still works


@pytest.mark.parametrize(
    "call",
    [
        lambda m, empty: evaluate(m, empty),
        lambda m, empty: get_accuracy(m, empty, "cpu"),
        lambda m, empty: validate(empty, m, nn.CrossEntropyLoss(), "cpu"),
        lambda m, empty: train(empty, m, nn.CrossEntropyLoss(), torch.optim.SGD(m.parameters(), lr=0.1), "cpu"),
        lambda m, empty: fit(m, empty, empty, 1, progress=False, log=None),
    ],
    ids=["evaluate", "get_accuracy", "validate", "train", "fit"],
)
def test_an_empty_loader_is_refused_with_one_clear_error(call):
    from lenet_course.data import Split

    empty = TensorLoader(Split(torch.zeros(0, 28, 28, dtype=torch.uint8), torch.zeros(0, dtype=torch.long)), 32)
    with pytest.raises(ValueError, match=r"got an empty loader: it holds no images; check the split"):
        call(LeNet5(), empty)
    with pytest.raises(ValueError, match="evaluate\\(\\) got an empty loader"):
        evaluate(LeNet5(), iter([]))  # a plain iterable: found out after the (empty) pass


def test_train_step_and_eval_step_are_what_fit_and_the_seed_helpers_run(sample_data, monkeypatch):
    import lenet_course.training as training

    calls = {"train": 0, "eval": 0}
    real_train, real_eval = training.train_step, training.eval_step

    def count_train(*args, **kwargs):
        calls["train"] += 1
        return real_train(*args, **kwargs)

    def count_eval(*args, **kwargs):
        calls["eval"] += 1
        return real_eval(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", count_train)
    monkeypatch.setattr(training, "eval_step", count_eval)
    loader = TensorLoader(sample_data.valid, 250)  # 4 batches
    model = LeNet5()
    fit(model, loader, loader, 1, progress=False, log=None)
    assert calls == {"train": 4, "eval": 4}
    training_loop(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), loader, loader, 1, "cpu")
    assert calls == {"train": 8, "eval": 4 + 4 + 8}  # validate, then get_accuracy on both loaders


def test_train_step_returns_the_summed_loss_before_the_step_and_the_correct_count():
    from lenet_course.training import eval_step, train_step

    torch.manual_seed(0)
    model = LeNet5()
    X, y = torch.randn(8, 1, 32, 32), torch.arange(8)
    criterion = nn.CrossEntropyLoss()
    with torch.no_grad():
        before = criterion(model(X), y).item()
        correct = (model(X).argmax(1) == y).sum().item()
        ev_loss, ev_correct = eval_step(model, X, y, criterion)
    assert ev_loss.item() == pytest.approx(8 * before) and ev_correct.item() == correct
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_sum, n_correct = train_step(model, X, y, optimizer, criterion)
    assert not loss_sum.requires_grad and loss_sum.item() == pytest.approx(8 * before)
    assert n_correct.item() == correct
    with torch.no_grad():
        assert criterion(model(X), y).item() < before  # the step was taken
