"""LeNet-5's training step with fewer passes over memory: the same function as ``LeNet5.forward``.

Used by ``fit`` on a CPU (chapter 8) and measured by ``python -m lenet_course bench``.
On a CPU most of LeNet-5's time goes to reading and writing C1's 6x28x28
activations, not to arithmetic. ``fused_forward`` computes the very same logits
as ``model(x)`` (and, through autograd, the same gradients, up to float32
rounding) from the model's own parameters, with four identities:

1. ``tanh(z) = 2*sigmoid(2z) - 1``. PyTorch's CPU ``sigmoid`` is several times
   faster than its ``tanh``, and the factor 2 goes into the weights and bias.
2. The 2x2 average of ``2s - 1`` is ``2*mean(s) - 1``: the affine step moves
   past the pooling and touches a quarter of the values. The backward pass
   needs only the saved ``s``, since ``d sigmoid = s * (1 - s)``.
3. C1 followed by S2: the four pixels of each 2x2 pooling block are four
   convolutions with stride 2, the 5x5 kernel shifted to each corner of a
   6x6 window. One stride-2 convolution with 4x6 output channels computes
   them grouped by position, so pooling is adding four contiguous slices.
4. C5 sees a 5x5 input through a 5x5 kernel: it is one matrix product.

C1+S2 and C3+S4 are each one ``torch.autograd.Function`` that saves only the
sigmoid output. ``tests/test_fused.py`` checks values and gradients against
``model(x)`` and with ``torch.autograd.gradcheck``, on a CPU and on a CUDA GPU.
The blocks are written for float32: under autocast (mixed precision) the
fused path is refused and ``model(x)`` is the one to call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

from ..models import LeNet5, check_input

__all__ = ["fused_forward", "fused_forward_of", "supports_fused", "why_not_fused"]

# where the 5x5 kernel sits inside the 6x6 window for each pixel of a 2x2 block: (row, column)
CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))
_convolution_backward = torch.ops.aten.convolution_backward


def _corner_kernels(weight: torch.Tensor) -> torch.Tensor:
    """``(C, Cin, 5, 5)`` -> ``(4C, Cin, 6, 6)``: the kernel placed at each corner of a 6x6 window, corner-major."""
    return torch.cat([F.pad(weight, (col, 1 - col, row, 1 - row)) for row, col in CORNERS])


def _sum_corners(grad: torch.Tensor, channels: int) -> torch.Tensor:
    """The inverse bookkeeping of :func:`_corner_kernels`: each corner's 5x5 gradient, summed."""
    total = torch.zeros_like(grad[:channels, :, :5, :5])
    for k, (row, col) in enumerate(CORNERS):
        total += grad[k * channels : (k + 1) * channels, :, row : row + 5, col : col + 5]
    return total


class _ConvTanhPoolC1(torch.autograd.Function):
    """``avg_pool2d(tanh(conv2d(x, weight, bias)), 2)`` for a 5x5 kernel, via the four corner convolutions."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        channels = weight.shape[0]
        kernels = _corner_kernels(2 * weight)
        s = F.conv2d(x, kernels, (2 * bias).repeat(4), stride=2).contiguous().sigmoid_()
        ctx.save_for_backward(x, kernels, s)
        quarter = s.unflatten(1, (4, channels))
        pooled = quarter[:, 0] + quarter[:, 1]
        pooled += quarter[:, 2]
        pooled += quarter[:, 3]
        return pooled.mul_(0.5).sub_(1)

    @staticmethod
    def backward(ctx, grad):
        x, kernels, s = ctx.saved_tensors
        n, channels = grad.shape[:2]
        spread = (0.5 * grad).unsqueeze(1).expand(n, 4, *grad.shape[1:])
        grad_z = torch.ops.aten.sigmoid_backward(spread, s.unflatten(1, (4, channels))).flatten(1, 2)
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]]
        grad_x, grad_k, grad_b = _convolution_backward(
            grad_z, x, kernels, [grad_z.shape[1]], [2, 2], [0, 0], [1, 1], False, [0, 0], 1, mask
        )
        grad_weight = 2 * _sum_corners(grad_k, channels) if mask[1] else None
        grad_bias = 2 * grad_b.unflatten(0, (4, channels)).sum(0) if mask[2] else None
        return grad_x, grad_weight, grad_bias


class _ConvTanhPool(torch.autograd.Function):
    """``avg_pool2d(tanh(conv2d(x, weight, bias)), 2)`` with one saved tensor, ``sigmoid(2 * conv)``."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        s = F.conv2d(x, 2 * weight, 2 * bias).contiguous().sigmoid_()
        ctx.save_for_backward(x, weight, s)
        n, c, h, w = s.shape
        rows = s.view(n, c, h // 2, 2, w)
        pairs = (rows[:, :, :, 0] + rows[:, :, :, 1]).view(n, c, h // 2, w // 2, 2)
        return (pairs[..., 0] + pairs[..., 1]).mul_(0.5).sub_(1)

    @staticmethod
    def backward(ctx, grad):
        x, weight, s = ctx.saved_tensors
        n, c, h, w = s.shape
        spread = (0.5 * grad).repeat_interleave(2, -1).repeat_interleave(2, -2)  # faster than a broadcast here
        grad_z = torch.ops.aten.sigmoid_backward(spread, s)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _convolution_backward(
                grad_z, x, 2 * weight, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, False, False]
            )[0]
        if ctx.needs_input_grad[1]:
            # the weight gradient is itself a convolution, of the inputs by the output gradients with
            # the batch as channels; oneDNN's own weight-gradient kernel is slower for this shape
            grad_w = 2 * F.conv2d(x.transpose(0, 1), grad_z.transpose(0, 1)).transpose(0, 1)
        if ctx.needs_input_grad[2]:
            grad_b = 2 * grad_z.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


def _autocast_enabled(device_type: str) -> bool:
    """Whether autocast (mixed precision) is on for ``device_type`` here."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # PyTorch before 2.4: one function per device type
        if device_type == "cpu":
            return torch.is_autocast_cpu_enabled()
        return device_type == "cuda" and torch.is_autocast_enabled()
    except RuntimeError:  # a device type without autocast, such as "meta"
        return False


def _autocast_reason(device_type: str) -> str | None:
    if _autocast_enabled(device_type):
        return (
            f"autocast is on for {device_type}, and the fused blocks compute in float32 only "
            "(their backward pass cannot mix precisions)"
        )
    return None


def why_not_fused(model: nn.Module) -> str | None:
    """``None`` if :func:`fused_forward` computes ``model(x)``; otherwise the reason it would not.

    Besides the model's layers this looks at autocast: under ``torch.autocast``
    for the model's device, the answer is a reason too.
    """
    if type(model) is not LeNet5:
        return f"it is written for this course's LeNet5, not {type(model).__name__}"
    if "forward" in vars(model):
        return "the model's forward has been replaced"
    for name, layer, kind in (
        ("c1", model.c1, nn.Conv2d),
        ("c3", model.c3, nn.Conv2d),
        ("c5", model.c5, nn.Conv2d),
        ("f6", model.f6, nn.Linear),
        ("f7", model.f7, nn.Linear),
    ):
        if type(layer) is not kind or layer.bias is None:
            return f"model.{name} is no longer a {kind.__name__} with a bias"
    for name in ("c1", "c3", "c5"):
        conv = getattr(model, name)
        if (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups) != (
            (5, 5),
            (1, 1),
            (0, 0),
            (1, 1),
            1,
        ):
            return f"model.{name} is no longer a plain 5x5 convolution"
    for name in ("s2", "s4"):
        pool = getattr(model, name)
        if type(pool) is not nn.AvgPool2d or (
            _pair(pool.kernel_size),
            _pair(pool.stride),
            _pair(pool.padding),
            pool.ceil_mode,
            pool.divisor_override,
        ) != ((2, 2), (2, 2), (0, 0), False, None):
            return f"model.{name} is no longer a 2x2 average pooling"
    hooked = [name or "model" for name, m in model.named_modules() if _has_hooks(m)]
    if hooked or nn.modules.module._global_forward_hooks or nn.modules.module._global_forward_pre_hooks:
        return f"hooks are registered on {', '.join(hooked) or 'every module'} and would not run"
    return _autocast_reason(model.c1.weight.device.type)


def _has_hooks(module: nn.Module) -> bool:
    return bool(
        module._forward_hooks or module._forward_pre_hooks or module._backward_hooks or module._backward_pre_hooks
    )


def supports_fused(model: nn.Module) -> bool:
    """Whether :func:`fused_forward` computes exactly what ``model(x)`` computes (see :func:`why_not_fused`)."""
    return why_not_fused(model) is None


def fused_forward(model: LeNet5, x: torch.Tensor) -> torch.Tensor:
    """The logits ``model(x)`` returns, computed with the fused C1+S2 and C3+S4 steps.

    Raises ``ValueError`` for a model it does not compute (see :func:`why_not_fused`).
    """
    return fused_forward_of(model)(x)


def fused_forward_of(model: LeNet5) -> Callable[[torch.Tensor], torch.Tensor]:
    """:func:`fused_forward` bound to ``model``, which is checked once, here: for a training loop's batches."""
    reason = why_not_fused(model)
    if reason is not None:
        raise ValueError(
            f"fused_forward cannot stand in for this model: {reason}. Call model(x) instead, or fit(..., fused=False)."
        )
    return functools.partial(_fused_logits, model)


def _fused_logits(model: LeNet5, x: torch.Tensor) -> torch.Tensor:
    check_input(x, model.in_channels, 32, type(model).__name__)
    reason = _autocast_reason(x.device.type)  # autocast may have been entered after fused_forward_of
    if reason is not None:
        raise ValueError(f"fused_forward cannot stand in for this model: {reason}. Call model(x) instead.")
    x = _ConvTanhPoolC1.apply(x.contiguous(), model.c1.weight, model.c1.bias)  # C1 + S2
    x = _ConvTanhPool.apply(x, model.c3.weight, model.c3.bias)  # C3 + S4
    x = torch.tanh(F.linear(x.flatten(1), model.c5.weight.flatten(1), model.c5.bias))  # C5
    x = torch.tanh(model.f6(x))  # F6
    return model.f7(x)  # F7
