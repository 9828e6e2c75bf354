"""The output-size formula (W - F + 2P) / S + 1.

Introduced in chapter 1 (``01_output_size_formula.ipynb``).
"""

from __future__ import annotations

__all__ = ["conv_output_size", "pool_output_size", "formula_text"]


def formula_text(size: int, kernel: int, padding: int = 0, stride: int = 1) -> str:
    """The formula with the numbers filled in, e.g. ``(32 - 5 + 2*0) / 1 + 1``."""
    return f"({size} - {kernel} + 2*{padding}) / {stride} + 1"


def _check_args(size: int, kernel: int, padding: int, stride: int) -> None:
    for name, value, low in (("size", size, 1), ("kernel", kernel, 1), ("padding", padding, 0), ("stride", stride, 1)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be a whole number, got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Output width of a convolution: (W - F + 2P) / S + 1.

    Raises ``ValueError`` showing the arithmetic when the kernel does not tile
    the padded input evenly, or when the kernel is larger than the padded input.

    >>> conv_output_size(32, 5)
    28
    """
    _check_args(size, kernel, padding, stride)
    span = size - kernel + 2 * padding
    text = formula_text(size, kernel, padding, stride)
    if span < 0:
        raise ValueError(
            f"{text} = {span / stride + 1:g} is below 1: the {kernel}-wide kernel is larger "
            f"than the padded input ({size} + 2*{padding} = {size + 2 * padding}); "
            "use a smaller kernel or more padding"
        )
    if span % stride:
        raise ValueError(
            f"{text} = {span / stride + 1:g} is not a whole number: a stride of {stride} "
            f"does not tile the {span} remaining positions evenly; change the stride or padding"
        )
    return span // stride + 1


def pool_output_size(size: int, kernel: int, stride: int | None = None, padding: int = 0) -> int:
    """Output width of a pooling (subsampling) layer.

    The stride defaults to the kernel size, as in ``nn.AvgPool2d`` and in
    LeNet-5's non-overlapping S2 and S4 layers.

    >>> pool_output_size(28, 2)
    14
    """
    return conv_output_size(size, kernel, padding=padding, stride=kernel if stride is None else stride)
