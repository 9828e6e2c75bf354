"""Pictures: curves, image grids, the prediction gallery, the confusion matrix, feature maps.

Introduced in chapter 2 (``02_c1_convolution.ipynb``, the feature maps);
chapters 7 to 10 use its image grids, curves and galleries.

Every function returns a matplotlib ``Figure`` (call ``plt.show()`` in a
notebook). Models may live on the CPU or a GPU: inputs are moved to the
model's device and results back to the CPU, so nothing here crashes on a GPU
(the seed article's gallery did).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from .data import EVAL_BATCH_SIZE
from .models import predict_proba

__all__ = [
    "plot_losses",
    "plot_history",
    "show_images",
    "prediction_gallery",
    "misclassified_gallery",
    "least_confident_gallery",
    "confusion_matrix",
    "per_class_accuracy",
    "plot_confusion_matrix",
    "plot_per_class_accuracy",
    "plot_feature_maps",
]


def _as_images(images: torch.Tensor) -> np.ndarray:
    """(N, H, W) float array from (N, H, W) or (N, 1, H, W) tensors of any dtype/device."""
    x = images.detach().cpu()
    if x.dim() == 4:
        x = x[:, 0]
    return x.float().numpy()


def _cpu_labels(labels: Sequence[int] | torch.Tensor) -> list[int]:
    """Class indices as Python ints, read once (one copy from a GPU, not one per picture)."""
    return torch.as_tensor(labels).detach().cpu().tolist()


def _grid(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def plot_losses(train_losses: Sequence[float], valid_losses: Sequence[float]) -> Figure:
    """Training and validation loss per epoch (the seed article's plot). Chapter 8."""
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(train_losses) + 1)
    ax.plot(epochs, train_losses, color="tab:blue", label="training loss")
    ax.plot(np.arange(1, len(valid_losses) + 1), valid_losses, color="tab:red", label="validation loss")
    ax.set(title="Loss over epochs", xlabel="epoch", ylabel="loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_history(history, title: str = "Training history") -> Figure:
    """Loss and accuracy curves from a :class:`~lenet_course.training.History`. Chapter 8."""
    h = history.as_dict() if hasattr(history, "as_dict") else dict(history)
    epochs = np.asarray(h["epoch"]) + 1
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(epochs, h["train_loss"], "o-", label="training")
    ax_loss.plot(epochs, h["valid_loss"], "o-", label="validation")
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="loss")
    ax_acc.plot(epochs, 100 * np.asarray(h["train_acc"]), "o-", label="training")
    ax_acc.plot(epochs, 100 * np.asarray(h["valid_acc"]), "o-", label="validation")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor | None = None,
    n: int = 50,
    cols: int = 10,
    classes: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """A grid of the first ``n`` images with their labels (the seed's 50-image preview). Chapter 7."""
    pics = _as_images(images[:n])
    labels = _cpu_labels(labels[:n]) if labels is not None else None
    rows, cols = _grid(len(pics), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.25), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(pics):
            continue
        ax.imshow(pics[i], cmap="gray_r")
        if labels is not None:
            label = int(labels[i])
            ax.set_title(classes[label] if classes else str(label), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _gallery(images, labels, probs, indices, cols, title, classes) -> Figure:
    """``probs`` are on the CPU already (see :func:`_probs`); images and labels may be anywhere."""
    pics = _as_images(images)
    labels = _cpu_labels(labels)
    rows, cols = _grid(max(len(indices), 1), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.4, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices):
        p, pred = probs[i].max(0)
        truth = labels[i]
        name = (lambda k: classes[k]) if classes else str
        ax.imshow(pics[i], cmap="gray_r")
        color = "tab:green" if int(pred) == truth else "tab:red"
        ax.set_title(f"{name(int(pred))} ({100 * float(p):.0f}%)\ntrue {name(truth)}", fontsize=8, color=color)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _probs(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Class probabilities computed on the model's device, in batches, returned on the CPU."""
    device = next(model.parameters()).device
    out = [predict_proba(model, images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def prediction_gallery(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    n: int = 50,
    cols: int = 10,
    classes: Sequence[str] | None = None,
) -> Figure:
    """The first ``n`` images with the predicted label and its probability (green right, red wrong). Chapter 9."""
    probs = _probs(model, images[:n])
    return _gallery(images[:n], labels[:n], probs, list(range(len(probs))), cols, "Predictions (probability)", classes)


def misclassified_gallery(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    n: int = 20,
    cols: int = 10,
    classes: Sequence[str] | None = None,
) -> Figure:
    """Up to ``n`` images the model gets wrong, most confident mistakes first. Chapter 9."""
    probs = _probs(model, images)
    conf, pred = probs.max(1)
    wrong = torch.nonzero(pred != labels.cpu()).flatten()
    order = wrong[torch.argsort(conf[wrong], descending=True)][:n].tolist()
    title = f"Misclassified: {len(wrong)} of {len(labels)}" + (
        f", {len(order)} shown" if len(order) < len(wrong) else ""
    )
    return _gallery(images, labels, probs, order, cols, title, classes)


def least_confident_gallery(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    n: int = 20,
    cols: int = 10,
    classes: Sequence[str] | None = None,
) -> Figure:
    """The ``n`` images whose top probability is lowest. Chapter 9."""
    probs = _probs(model, images)
    order = torch.argsort(probs.max(1).values)[:n].tolist()
    return _gallery(images, labels, probs, order, cols, f"The {len(order)} least confident predictions", classes)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """``cm[i, j]`` = number of images of class i predicted as j. Chapter 9."""
    y_true, y_pred = torch.as_tensor(y_true).cpu().long(), torch.as_tensor(y_pred).cpu().long()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """Share of each class predicted correctly (NaN for a class with no images), on ``cm``'s device. Chapter 9."""
    cm = torch.as_tensor(cm).double()
    return cm.diagonal() / cm.sum(1)


def plot_confusion_matrix(
    cm: torch.Tensor, classes: Sequence[str] | None = None, title: str = "Confusion matrix"
) -> Figure:
    """The confusion matrix as a heat map with counts in the cells. Chapter 9."""
    cm = torch.as_tensor(cm).cpu()
    k = cm.shape[0]
    names = list(classes) if classes else [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(cm.numpy(), cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set(
        xticks=range(k),
        yticks=range(k),
        xticklabels=names,
        yticklabels=names,
        xlabel="predicted",
        ylabel="true",
        title=title,
    )
    threshold = cm.max().item() / 2
    for i in range(k):
        for j in range(k):
            value = int(cm[i, j])
            if value:
                ax.text(
                    j, i, value, ha="center", va="center", fontsize=7, color="white" if value > threshold else "black"
                )
    fig.tight_layout()
    return fig


def plot_per_class_accuracy(cm: torch.Tensor, classes: Sequence[str] | None = None) -> Figure:
    """A bar per class: the share of its images predicted correctly. Chapter 9."""
    acc = per_class_accuracy(torch.as_tensor(cm).cpu()).numpy() * 100
    names = list(classes) if classes else [str(i) for i in range(len(acc))]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(names, acc, color="tab:blue")
    ax.set(title="Accuracy per class", xlabel="class", ylabel="accuracy (%)", ylim=(max(0, np.nanmin(acc) - 5), 100))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


@torch.no_grad()
def plot_feature_maps(model: nn.Module, layer_name: str, image: torch.Tensor, cols: int = 8) -> Figure:
    """Every channel that layer ``layer_name`` outputs for one image. Chapters 2 and 3.

    ``image`` is one image, (1, 32, 32) or (1, 1, 32, 32).
    """
    modules = dict(model.named_modules())
    if layer_name not in modules or not layer_name:
        named = [n for n, _ in model.named_children()]
        raise ValueError(f"{type(model).__name__} has no layer {layer_name!r}; choose one of {named}")
    captured = {}
    handle = modules[layer_name].register_forward_hook(lambda m, i, o: captured.setdefault("out", o))
    device = next(model.parameters()).device
    x = image if image.dim() == 4 else image.unsqueeze(0)
    was_training = model.training
    model.eval()
    try:
        model(x.to(device))
    finally:
        handle.remove()
        model.train(was_training)
    out = captured["out"][0].detach().cpu()
    if out.dim() == 1:
        out = out[:, None, None]
    channels = out.shape[0]
    rows, cols = _grid(channels, cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.4), squeeze=False)
    for c, ax in enumerate(axes.flat):
        ax.axis("off")
        if c < channels:
            ax.imshow(out[c].numpy(), cmap="viridis")
            ax.set_title(f"map {c}", fontsize=8)
    fig.suptitle(f"{layer_name}: {channels} feature map(s) of {tuple(out.shape[1:])}")
    fig.tight_layout()
    return fig
