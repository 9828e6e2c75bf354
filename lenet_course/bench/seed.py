"""The seed article's pipeline and model, as the article writes them: the benchmark's baseline.

Used by ``python -m lenet_course bench``. A torchvision-style dataset of PIL
images, ``Resize((32, 32))`` and ``ToTensor`` on every image, a
``DataLoader`` with batch 32, a model that returns ``(logits, probs)``, and
one batch of the article's ``train()`` and ``validate()`` (with
``loss.item()`` on every batch). This step stays as the article wrote it:
it is what the course's :func:`~lenet_course.training.train_step` is
compared against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Split, SplitDataset, mnist_transform
from ..models import LeNet5

__all__ = ["SeedLeNet5", "seed_model_from", "seed_loaders", "seed_train_step", "seed_eval_step"]


class SeedLeNet5(nn.Module):
    """LeNet-5 exactly as the seed article defines it: returns ``(logits, probs)``."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=6, out_channels=16, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=16, out_channels=120, kernel_size=5, stride=1),
            nn.Tanh(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(in_features=120, out_features=84),
            nn.Tanh(),
            nn.Linear(in_features=84, out_features=n_classes),
        )

    def forward(self, x):
        x = self.feature_extractor(x)
        x = torch.flatten(x, 1)
        logits = self.classifier(x)
        probs = F.softmax(logits, dim=1)
        return logits, probs


_SEED_NAMES = {
    "c1": "feature_extractor.0",
    "c3": "feature_extractor.3",
    "c5": "feature_extractor.6",
    "f6": "classifier.0",
    "f7": "classifier.2",
}


def seed_model_from(model: LeNet5) -> SeedLeNet5:
    """A :class:`SeedLeNet5` holding a copy of ``model``'s weights (same layers, other names)."""
    seed = SeedLeNet5(model.f7.out_features)
    state = {}
    for name, tensor in model.state_dict().items():
        layer, kind = name.split(".")
        state[f"{_SEED_NAMES[layer]}.{kind}"] = tensor.clone()
    seed.load_state_dict(state)
    return seed


def seed_loaders(train: Split, evaluation: Split) -> tuple:
    """The article's ``DataLoader``s, ``(train, eval)``: ``Resize((32, 32))`` + ``ToTensor`` per image, batch 32."""
    from torch.utils.data import DataLoader

    transform = mnist_transform("resize")
    return (
        DataLoader(SplitDataset(train, transform), batch_size=32, shuffle=True),
        DataLoader(SplitDataset(evaluation, transform), batch_size=32, shuffle=False),
    )


def seed_train_step(
    net: nn.Module, criterion, optimizer, X: torch.Tensor, y: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, float]:
    """One batch of the article's ``train()``, line for line: the loss and its share of the running loss."""
    optimizer.zero_grad()
    X = X.to(device)
    y_true = y.to(device)
    y_hat, _ = net(X)
    loss = criterion(y_hat, y_true)
    running_loss = loss.item() * X.size(0)
    loss.backward()
    optimizer.step()
    return loss.detach(), running_loss


def seed_eval_step(
    net: nn.Module, criterion, X: torch.Tensor, y: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """One batch of the article's ``validate()`` and ``get_accuracy()``: summed loss, correct count, running loss."""
    X = X.to(device)
    y_true = y.to(device)
    y_hat, y_prob = net(X)
    loss = criterion(y_hat, y_true)
    running_loss = loss.item() * X.size(0)
    _, predicted_labels = torch.max(y_prob, 1)
    return loss * X.size(0), (predicted_labels == y_true).sum(), running_loss
