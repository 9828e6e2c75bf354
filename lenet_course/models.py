"""LeNet-5 as the seed article builds it: the simplified, modern version.

Introduced in chapter 6 (``06_assembling_lenet5.ipynb``). Each paper layer is
one named attribute (``c1, s2, c3, s4, c5, f6, f7``) so that a learner can
write ``model.c3.weight.shape``. The 1998 network is in ``classic.py``.

Design: ``forward`` returns logits, one number per class. The seed article's
model returned ``(logits, probabilities)``; computing a softmax on every
training step is wasted work (``nn.CrossEntropyLoss`` takes logits), so here
probabilities are asked for explicitly with :func:`predict_proba`. Every
helper in the package also accepts a model that returns a ``(logits, probs)``
tuple, so the article's own class works with them unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LeNet5", "check_input", "logits_of", "predict_proba"]


def check_input(x: torch.Tensor, channels: int, size: int, model_name: str) -> None:
    """Raise one clear ``ValueError`` unless ``x`` is a batch of ``channels``@``size``x``size`` images."""
    expected = (channels, size, size)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{model_name} expects a tensor of shape (N, {channels}, {size}, {size}), got {type(x).__name__}"
        )
    if x.dim() != 4 or tuple(x.shape[1:]) != expected:
        hint = ""
        if x.dim() == 3 and tuple(x.shape) == expected:
            hint = "; add a batch dimension with x.unsqueeze(0)"
        elif x.dim() == 4 and x.shape[1] != channels:
            hint = f"; LeNet-5 reads {channels}-channel (grey) images"
        elif x.dim() == 4 and min(x.shape[2:]) < size:
            hint = f"; pad 28x28 digits by 2 pixels (transforms.Pad(2)) or resize them to {size}x{size}"
        elif x.dim() == 4:
            hint = f"; resize or crop the images to {size}x{size}"
        raise ValueError(
            f"{model_name} expects input of shape (N, {channels}, {size}, {size}), got {tuple(x.shape)}{hint}"
        )


class LeNet5(nn.Module):
    """LeNet-5 with tanh, average pooling and a linear output (61,706 parameters).

    Input: a batch of 1x32x32 images. Output: 10 logits per image.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.s2 = nn.AvgPool2d(kernel_size=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = nn.AvgPool2d(kernel_size=2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.f7 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, 32, type(self).__name__)
        x = torch.tanh(self.c1(x))
        x = self.s2(x)
        x = torch.tanh(self.c3(x))
        x = self.s4(x)
        x = torch.tanh(self.c5(x))
        x = torch.flatten(x, 1)
        x = torch.tanh(self.f6(x))
        return self.f7(x)


def logits_of(output: torch.Tensor | tuple) -> torch.Tensor:
    """The logits of a model's output, whether it returned logits or ``(logits, probs)``."""
    if isinstance(output, (tuple, list)):
        return output[0]
    return output


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Class probabilities (softmax of the logits) for a batch, on the model's device.

    Models whose output is a distance per class (the 1998 RBF output) define
    ``predict_proba`` themselves; it is used when present.
    """
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    probs = torch.softmax(logits_of(model(x.to(device))), dim=1)
    model.train(was_training)
    return probs
