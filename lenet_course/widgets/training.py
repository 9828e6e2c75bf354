"""Training controls with live curves: ``TrainingControls``.

Introduced in chapter 8 (``08_training_loop.ipynb``). Three sliders (epochs,
learning rate, batch size) and a Train button. Each press trains a fresh,
seeded LeNet-5 with Adam and cross-entropy (``lenet_course.training.fit``, one
epoch at a time) and redraws the loss and accuracy curves after every epoch,
so the learner watches them grow. The same seed for every run means two runs
differ only by the settings changed between them.

CSS classes, stable for browser tests:

=========================  ==============================================
``lenet-train``            the whole widget (a VBox)
``lenet-train-epochs``     the epochs slider (``IntSlider``)
``lenet-train-lr``         the learning-rate slider (``FloatLogSlider``)
``lenet-train-batch``      the batch-size slider (``SelectionSlider``)
``lenet-train-button``     the Train button
``lenet-train-status``     one line: ``Ready.``, ``Epoch 2/3 ...`` or
                           ``Done: 3 epochs ...``
``lenet-train-curves``     the curves, a PNG image redrawn every epoch
=========================  ==============================================
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import torch
from torch import nn

from ..data import EVAL_BATCH_SIZE, MnistData, Split, TensorLoader
from ..environment import set_seed
from ..models import LeNet5
from ..training import History, fit
from ._style import status_colour, tag

__all__ = ["TrainingControls"]

BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)


class TrainingControls(widgets.VBox):
    """Sliders for epochs, learning rate and batch size, a Train button, live curves (chapter 8).

    ``data`` is an :class:`~lenet_course.data.MnistData` (its train and valid
    splits are used) or a ``(train, valid)`` pair of splits. ``model_fn``
    builds the network for each run (default :class:`~lenet_course.models.LeNet5`).

    >>> controls = TrainingControls(data, device)   # doctest: +SKIP
    >>> controls.epochs.value = 2                    # doctest: +SKIP
    >>> controls.train_button.click()                # doctest: +SKIP
    >>> len(controls.history)                        # doctest: +SKIP
    2
    """

    def __init__(
        self,
        data: MnistData | tuple[Split, Split],
        device: torch.device | str = "cpu",
        model_fn: Callable[[], nn.Module] = LeNet5,
        seed: int = 42,
        epochs: int = 3,
        lr: float = 1e-3,
        batch_size: int = 32,
        max_epochs: int = 15,
    ) -> None:
        if isinstance(data, MnistData):
            self.train_split, self.valid_split = data.train, data.valid
        else:
            self.train_split, self.valid_split = data
        self.device = torch.device(device)
        self.model_fn = model_fn
        self.seed = seed
        self.model: nn.Module | None = None
        self.history: History | None = None
        self.runs: list[tuple[dict, History]] = []

        style = {"description_width": "110px"}
        layout = widgets.Layout(width="420px")
        self.epochs = widgets.IntSlider(
            value=epochs, min=1, max=max_epochs, description="epochs", style=style, layout=layout
        )
        self.lr = widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-5,
            max=0,
            step=0.25,
            description="learning rate",
            readout_format=".1e",
            style=style,
            layout=layout,
        )
        if batch_size not in BATCH_SIZES:
            raise ValueError(f"batch_size must be one of {BATCH_SIZES}, got {batch_size}")
        self.batch_size = widgets.SelectionSlider(
            options=list(BATCH_SIZES), value=batch_size, description="batch size", style=style, layout=layout
        )
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.status = widgets.HTML("Ready.")
        self.curves = widgets.Image(format="png", layout=widgets.Layout(max_width="900px"))
        self.train_button.on_click(lambda _button: self.train())
        super().__init__([self.epochs, self.lr, self.batch_size, self.train_button, self.status, self.curves])
        tag(
            self,
            "lenet-train",
            epochs=self.epochs,
            lr=self.lr,
            batch=self.batch_size,
            button=self.train_button,
            status=self.status,
            curves=self.curves,
        )

    @property
    def settings(self) -> dict:
        """The sliders as ``dict(epochs=..., lr=..., batch_size=...)``."""
        return {"epochs": self.epochs.value, "lr": float(self.lr.value), "batch_size": int(self.batch_size.value)}

    def __repr__(self) -> str:
        s = self.settings
        done = f", trained {len(self.history)} epochs" if self.history is not None else ""
        return f"TrainingControls(epochs={s['epochs']}, lr={s['lr']:.1e}, batch_size={s['batch_size']}{done})"

    def train(self) -> History:
        """What the Train button does: a fresh seeded model, trained with the sliders' settings."""
        s = self.settings
        self.train_button.disabled = True
        try:
            set_seed(self.seed)
            self.model = self.model_fn().to(self.device)
            optimizer = torch.optim.Adam(self.model.parameters(), lr=s["lr"])
            train_loader = TensorLoader(
                self.train_split, batch_size=s["batch_size"], shuffle=True, seed=self.seed, device=self.device
            )
            valid_loader = TensorLoader(self.valid_split, batch_size=EVAL_BATCH_SIZE, device=self.device)
            self.history = History()
            self.status.value = f"Training for {s['epochs']} epochs..."
            for epoch in range(s["epochs"]):
                try:
                    one = fit(
                        self.model, train_loader, valid_loader, epochs=1, optimizer=optimizer, progress=False, log=None
                    )
                except FloatingPointError:
                    self.status.value = (
                        f'<span style="{status_colour(False)}">Epoch {epoch + 1}: the loss became infinite or NaN. '
                        "Lower the learning rate and train again.</span>"
                    )
                    break
                for key, values in one.as_dict().items():
                    getattr(self.history, key).append(epoch if key == "epoch" else values[0])
                self.curves.value = self._png()
                self.status.value = self._status(epoch + 1, s["epochs"])
            self.runs.append((s, self.history))
        finally:
            self.train_button.disabled = False
        return self.history

    def _status(self, done: int, total: int) -> str:
        h = self.history
        verb = "Done" if done == total else "Epoch"
        count = f"{total} epochs" if done == total else f"{done}/{total}"
        return html.escape(
            f"{verb}: {count}. Last epoch: train loss {h.train_loss[-1]:.4f}, "
            f"valid accuracy {100 * h.valid_acc[-1]:.2f}%"
            f" (best {100 * h.best_valid_acc:.2f}% at epoch {h.best_epoch + 1})."
        )

    def _png(self) -> bytes:
        import matplotlib.pyplot as plt

        from ..plots import plot_history

        s = self.settings
        fig = plot_history(self.history, title=f"lr {s['lr']:.1e}, batch size {s['batch_size']}")
        try:
            for ax in fig.axes:
                ax.set_xlim(0.5, s["epochs"] + 0.5)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80)
        finally:
            plt.close(fig)
        return buffer.getvalue()
