"""Training and evaluation: one training step, one evaluation step, the seed article's helpers, and ``fit``.

Introduced in chapter 8 (``08_training_loop.ipynb``). :func:`train_step` and
:func:`eval_step` are the only places where a batch is learnt from or
scored: the seed article's ``train``, ``validate`` and ``get_accuracy`` (kept
with the article's signatures and return values, so that its code runs as
written), :func:`evaluate`, :func:`fit`, the 1998 recipe (chapter 11) and
every variant of ``python -m lenet_course bench`` call them.

Every helper accepts a model returning logits (this package's models) or a
``(logits, probabilities)`` tuple (the seed article's model).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import torch
from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, random_state, restore_random_state, save_checkpoint
from .models import logits_of

__all__ = [
    "train_step",
    "eval_step",
    "train",
    "validate",
    "get_accuracy",
    "training_loop",
    "evaluate",
    "predict",
    "History",
    "TrainingDiverged",
    "fit",
]


def train_step(
    forward: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    criterion: Callable,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on the batch ``(X, y)``: clear the gradients, forward, loss, backward, step.

    ``forward(X)`` computes the model's output: the model itself, or a faster
    function of its weights (``fit``'s fused path, a compiled model). Returns
    the batch's summed loss (before the step) and its number of correct
    predictions, both detached and left on the device, so that a loop adds
    them up without waiting for the device after every batch.
    """
    optimizer.zero_grad(set_to_none=True)
    out = logits_of(forward(X))
    loss = criterion(out, y)
    loss.backward()
    optimizer.step()
    return loss.detach() * y.size(0), (out.detach().argmax(1) == y).sum()


def eval_step(
    forward: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor, criterion: Callable
) -> tuple[torch.Tensor, torch.Tensor]:
    """The summed loss and the number of correct predictions of the batch ``(X, y)``, without learning.

    Call it under ``torch.no_grad()`` (or ``torch.inference_mode()``), with the model in ``eval()`` mode.
    """
    out = logits_of(forward(X))
    return criterion(out, y) * y.size(0), (out.argmax(1) == y).sum()


def _empty_loader(what: str) -> ValueError:
    return ValueError(f"{what} got an empty loader: it holds no images; check the split it was built from")


def _require_images(loader, what: str) -> None:
    """One clear ``ValueError`` if ``loader`` holds no images (where its size can be known without iterating)."""
    if hasattr(loader, "dataset"):
        empty = len(loader.dataset) == 0
    else:
        empty = hasattr(loader, "__len__") and len(loader) == 0
    if empty:
        raise _empty_loader(what)


def train(train_loader, model: nn.Module, criterion, optimizer, device):
    """One pass over ``train_loader``; returns ``(model, optimizer, epoch_loss)`` as in the seed article."""
    _require_images(train_loader, "train()")
    n = len(train_loader.dataset)
    model.train()
    running_loss = torch.zeros((), device=device)
    for X, y_true in train_loader:
        X = X.to(device)
        y_true = y_true.to(device)
        loss_sum, _ = train_step(model, X, y_true, optimizer, criterion)
        running_loss += loss_sum
    epoch_loss = running_loss.item() / n
    return model, optimizer, epoch_loss


@torch.no_grad()
def validate(valid_loader, model: nn.Module, criterion, device):
    """Mean loss over ``valid_loader`` without learning; returns ``(model, epoch_loss)``."""
    _require_images(valid_loader, "validate()")
    n = len(valid_loader.dataset)
    model.eval()
    running_loss = torch.zeros((), device=device)
    for X, y_true in valid_loader:
        X = X.to(device)
        y_true = y_true.to(device)
        loss_sum, _ = eval_step(model, X, y_true, criterion)
        running_loss += loss_sum
    return model, running_loss.item() / n


def get_accuracy(model: nn.Module, data_loader, device) -> float:
    """Share of correctly classified images in ``data_loader`` (0 to 1)."""
    _require_images(data_loader, "get_accuracy()")
    return evaluate(model, data_loader, device=device)[1]


def training_loop(model, criterion, optimizer, train_loader, valid_loader, epochs, device, print_every=1):
    """The seed article's loop; returns ``(model, optimizer, (train_losses, valid_losses))``."""
    train_losses, valid_losses = [], []
    for epoch in range(epochs):
        model, optimizer, train_loss = train(train_loader, model, criterion, optimizer, device)
        train_losses.append(train_loss)
        model, valid_loss = validate(valid_loader, model, criterion, device)
        valid_losses.append(valid_loss)
        if epoch % print_every == (print_every - 1):
            train_acc = get_accuracy(model, train_loader, device=device)
            valid_acc = get_accuracy(model, valid_loader, device=device)
            print(
                f"{datetime.now().time().replace(microsecond=0)} --- "
                f"Epoch: {epoch}\t"
                f"Train loss: {train_loss:.4f}\t"
                f"Valid loss: {valid_loss:.4f}\t"
                f"Train accuracy: {100 * train_acc:.2f}\t"
                f"Valid accuracy: {100 * valid_acc:.2f}"
            )
    return model, optimizer, (train_losses, valid_losses)


@torch.no_grad()
def evaluate(
    model: nn.Module, loader, criterion=None, device=None, *, forward: Callable | None = None
) -> tuple[float, float]:
    """``(mean loss, accuracy)`` over ``loader`` in one pass.

    ``forward(X)`` computes the model's output; it defaults to ``model`` itself.
    """
    _require_images(loader, "evaluate()")
    device = device or next(model.parameters()).device
    criterion = criterion or nn.CrossEntropyLoss()
    forward = forward or model
    model.eval()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    n = 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        batch_loss, batch_correct = eval_step(forward, X, y, criterion)
        loss_sum += batch_loss
        correct += batch_correct
        n += y.size(0)
    if n == 0:
        raise _empty_loader("evaluate()")
    return loss_sum.item() / n, correct.item() / n


@torch.no_grad()
def predict(model: nn.Module, loader, device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(y_true, y_pred, probabilities)`` on the CPU for every image in ``loader``."""
    from .models import predict_proba

    device = device or next(model.parameters()).device
    model.eval()
    ys, preds, probs = [], [], []
    for X, y in loader:
        p = predict_proba(model, X.to(device))
        ys.append(y.cpu())
        preds.append(p.argmax(1).cpu())
        probs.append(p.cpu())
    return torch.cat(ys), torch.cat(preds), torch.cat(probs)


@dataclass
class History:
    """Per-epoch record of a ``fit`` run."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int | None:
        if not self.valid_acc:
            return None
        return self.epoch[max(range(len(self.valid_acc)), key=lambda i: (self.valid_acc[i], -i))]

    @property
    def best_valid_acc(self) -> float:
        return max(self.valid_acc, default=float("nan"))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**{k: list(v) for k, v in d.items() if k in cls.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.epoch)


class TrainingDiverged(FloatingPointError):
    """The loss stopped being finite during ``fit``: the checkpoints keep the last good epoch.

    ``epoch`` (counted from 0) is where it happened, ``last_good`` the last
    epoch saved (or ``None``), ``checkpoint`` the file that holds it (or ``None``).
    """

    def __init__(self, what: str, value: float, epoch: int, last_good: int | None, checkpoint: Path | None) -> None:
        self.what, self.value, self.epoch, self.last_good, self.checkpoint = what, value, epoch, last_good, checkpoint
        kept = ""
        if checkpoint is not None and last_good is not None:
            kept = f"; {checkpoint} keeps epoch {last_good + 1}, the last good one"
        super().__init__(
            f"the {what} loss became {value} in epoch {epoch + 1}; lower the learning rate and train again{kept}"
        )


def _resumable(loader):
    """The object that knows where ``loader`` is in its sequence of epochs (itself or its sampler), or ``None``."""
    for obj in (loader, getattr(loader, "sampler", None)):
        if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None)):
            return obj
    return None


def fit(
    model: nn.Module,
    train_loader: Iterable,
    valid_loader: Iterable,
    epochs: int = 10,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    criterion: Callable | None = None,
    device: torch.device | str | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    before_epoch: Callable[[int], None] | None = None,
    scheduler=None,
    fused: bool | None = None,
) -> History:
    """Train ``model`` for ``epochs`` and return its :class:`History`.

    - ``optimizer`` defaults to Adam with learning rate ``lr``, ``criterion``
      to cross-entropy on logits. Each batch is one :func:`train_step`.
    - Training accuracy is counted on the fly during each pass (no extra
      pass over the data, unlike the seed article's loop).
    - ``checkpoint``: the best model so far (by validation accuracy) is
      saved there, and the latest state beside it as ``<name>.last.pt``,
      both written atomically. They hold everything the next epoch depends
      on: model, optimizer, scheduler, history, the training loader's
      position (its ``state_dict``, or its sampler's) and the random number
      generators. ``resume=True`` continues from the latest: on a CPU, a run
      interrupted and resumed gives the same history, bit for bit, as one
      never interrupted.
    - ``before_epoch(epoch)`` runs before each pass (the 1998 optimiser
      re-estimates its curvature there); ``scheduler.step()`` after it.
    - A progress bar (``tqdm.auto``: a widget in Jupyter, text in a
      terminal) shows each pass, and ``log`` gets one line per epoch, once
      the epoch is saved.
    - ``fused``: on a CPU, the course's ``LeNet5`` is computed by
      ``lenet_course.fast.fused.fused_forward``, the same function with fewer
      passes over memory. ``None`` (the default) does so whenever it applies,
      ``True`` insists, ``False`` always calls ``model(X)``. Other models
      train with channels-last activations on a CPU, and are handed back in
      the memory format they came in, whether ``fit`` returns or raises.
    - A loss that stops being finite raises :class:`TrainingDiverged` at the
      end of its epoch, before that epoch is saved: the checkpoints keep the
      last good state.
    """
    from tqdm.auto import tqdm

    if epochs < 0:
        raise ValueError(f"epochs must be 0 or more, got {epochs}")
    _require_images(train_loader, "fit()")
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    model.to(device)
    forward = _choose_forward(model, device, fused)
    # Other models on a CPU: convolutions run faster with their activations
    # stored channels-last (pixel by pixel, all channels together).
    memory_format = _memory_format(model)
    channels_last = device.type == "cpu" and forward is model
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    criterion = criterion or nn.CrossEntropyLoss()
    position = _resumable(train_loader)
    history = History()
    start = 0
    best = Path(checkpoint) if checkpoint is not None else None
    last = best.with_name(best.stem + ".last" + best.suffix) if best is not None else None
    if resume:
        if best is None:
            raise ValueError("resume=True needs the checkpoint path to resume from")
        source = last if last.exists() else best
        try:
            # to the CPU first: the optimizer moves its state next to each parameter itself
            state = load_checkpoint(source, model, optimizer, map_location="cpu")
        except CheckpointError as exc:
            raise CheckpointError(f"cannot resume: {exc}") from None
        history = History.from_dict(state["history"])
        start = state["epoch"] + 1
        if scheduler is not None and state.get("scheduler_state"):
            scheduler.load_state_dict(state["scheduler_state"])
        if position is not None:
            # a checkpoint from before loader states were saved: the loader had run one epoch per epoch trained
            position.load_state_dict(state.get("loader_state") or {"epoch": start})
        if state.get("rng_state") is not None:
            restore_random_state(state["rng_state"])
        if log:
            log(f"Resumed from {source} after epoch {state['epoch'] + 1}.")

    total_batches = len(train_loader) if hasattr(train_loader, "__len__") else None
    if channels_last:
        model.to(memory_format=torch.channels_last)
    try:
        for epoch in range(start, epochs):
            if before_epoch is not None:
                before_epoch(epoch)
            tic = time.perf_counter()
            model.train()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            seen = 0
            bar = tqdm(
                train_loader,
                total=total_batches,
                desc=f"epoch {epoch + 1}/{epochs}",
                disable=not progress,
                leave=False,
            )
            for X, y in bar:
                X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
                batch_loss, batch_correct = train_step(forward, X, y, optimizer, criterion)
                loss_sum += batch_loss
                correct += batch_correct
                seen += y.size(0)
            bar.close()
            if scheduler is not None:
                scheduler.step()
            train_loss = loss_sum.item() / max(seen, 1)
            valid_loss, valid_acc = math.nan, math.nan
            if math.isfinite(train_loss):
                valid_loss, valid_acc = evaluate(model, valid_loader, criterion, device, forward=forward)
            for what, value in (("training", train_loss), ("validation", valid_loss)):
                if not math.isfinite(value):
                    saved = last if last is not None and last.exists() else None
                    raise TrainingDiverged(what, value, epoch, history.epoch[-1] if history.epoch else None, saved)
            history.epoch.append(epoch)
            history.train_loss.append(train_loss)
            history.train_acc.append(correct.item() / max(seen, 1))
            history.valid_loss.append(valid_loss)
            history.valid_acc.append(valid_acc)
            history.seconds.append(time.perf_counter() - tic)
            if best is not None:
                extra = {
                    "loader_state": position.state_dict() if position is not None else None,
                    "rng_state": random_state(),
                }
                if scheduler is not None:
                    extra["scheduler_state"] = scheduler.state_dict()
                if history.best_epoch == epoch:
                    save_checkpoint(best, model, optimizer, epoch, history.as_dict(), valid_acc=valid_acc, **extra)
                save_checkpoint(last, model, optimizer, epoch, history.as_dict(), valid_acc=valid_acc, **extra)
            if log:
                log(
                    f"epoch {epoch + 1:>3}/{epochs}  train loss {train_loss:.4f}  "
                    f"acc {100 * history.train_acc[-1]:6.2f}%  |  valid loss {valid_loss:.4f}  "
                    f"acc {100 * valid_acc:6.2f}%  ({history.seconds[-1]:.1f}s)"
                )
    finally:
        if channels_last:
            model.to(memory_format=memory_format)
    return history


def _memory_format(model: nn.Module) -> torch.memory_format:
    """``torch.channels_last`` if the model's 4-D weights are stored channels-last, else the usual layout."""
    for p in model.parameters():
        if p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
            return torch.channels_last
    return torch.contiguous_format


def _choose_forward(model: nn.Module, device: torch.device, fused: bool | None) -> Callable:
    """``model`` itself, or the fused forward bound to it (see ``fit``'s ``fused``)."""
    from .fast.fused import fused_forward_of, why_not_fused

    if fused is False:
        return model
    reason = why_not_fused(model)
    if fused is None and (reason is not None or device.type != "cpu"):
        return model
    if reason is not None:
        raise ValueError(f"fit(fused=True) cannot fuse this model: {reason}. Use fused=None or fused=False.")
    return fused_forward_of(model)
