"""How a checker compares an answer with the expected value, and what it says when they differ.

Used by every exercise checker (chapter 0 on); the rule for numbers is stated
once, in :data:`lenet_course.check.NUMBER_RULE`, and applied here:

- :func:`count`: counts, sizes, widths, indices and labels are Python ints
  (``bool`` refused); a float, even a whole one such as ``28.0``, is refused.
- :func:`number`: a measured quantity asked for as a Python number (a loss, an
  accuracy, a probability) is a float or an int; a tensor is refused.
- :func:`tensor`: shape, dtype and values, with a tolerance for float dtypes;
  when only the values differ it says where, and by how much.

Every function returns ``None`` when the answer is right, else a
:class:`Mismatch` whose text follows the case's label in the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .wire import Foreign

__all__ = [
    "Mismatch",
    "INT_HINT",
    "ITEM_HINT",
    "show",
    "fmt",
    "count",
    "not_an_int",
    "number",
    "tensor",
    "int_sequence",
    "equal",
]

INT_HINT = (
    "counts, sizes, widths, indices and labels are Python ints: return an int, not a float, "
    "even a whole one such as 28.0 (// divides to an int; int() converts)"
)
ITEM_HINT = "this answer is a Python number, not a tensor: .item() turns a one-element tensor into one"
LIST_HINT = "this answer is a plain Python list of ints, not a tensor: .tolist() turns a tensor into one"
TENSOR_HINT = "this answer is a tensor: torch.tensor(...) turns a number or a list into one"


@dataclass(frozen=True)
class Mismatch:
    """Why an answer is wrong; ``hint`` replaces the exercise's hint when this is the first failure."""

    text: str
    hint: str | None = None


def fmt(value: float) -> str:
    """A float with six significant digits (``0.268941``, ``nan``)."""
    return f"{value:.6g}"


def _simple(value: Any, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple, frozenset, set)):
        return all(_simple(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_simple(k, depth + 1) and _simple(v, depth + 1) for k, v in value.items())
    return False


def show(value: Any, limit: int = 60) -> str:
    """A short description of an answer: its value when it is short, else what it is."""
    if isinstance(value, torch.Tensor):
        if value.dim() == 0 and not value.is_complex():
            return f"a 0-dim {_dtype(value.dtype)} tensor holding {fmt(float(value))}"
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, Foreign):
        text = value.text
        return f"{text}, a {value.type_name}" if text and "0x" not in text and len(text) <= 40 else str(value)
    if isinstance(value, torch.dtype):
        return _dtype(value)
    if isinstance(value, (set, frozenset)) and _simple(value):
        text = "{" + ", ".join(repr(v) for v in sorted(value, key=repr)) + "}" if value else "set()"
    elif _simple(value):
        text = repr(value)
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        return f"a {type(value).__name__} of {len(value)} items"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _type_word(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, Foreign):
        return f"a {value.type_name}"
    if isinstance(value, torch.Tensor):
        return "a tensor"
    return {int: "an int", float: "a float", str: "a str", list: "a list", tuple: "a tuple", dict: "a dict"}.get(
        type(value), f"a {type(value).__name__}"
    )


def not_an_int(got: Any, verb: str) -> Mismatch | None:
    """The number rule for counts: a Mismatch unless ``got`` is an int (and not a bool)."""
    if isinstance(got, int) and not isinstance(got, bool):
        return None
    if isinstance(got, torch.Tensor):
        return Mismatch(f"{verb} {show(got)}, where a Python int is expected", ITEM_HINT)
    if isinstance(got, Foreign) and "int" in got.type_name:
        return Mismatch(f"{verb} {show(got)}, where a Python int is expected", INT_HINT)
    return Mismatch(f"{verb} {show(got)}, {_type_word(got)}, where an int is expected", INT_HINT)


def count(got: Any, expected: int, verb: str = "returned", reveal: bool = True) -> Mismatch | None:
    """A count, size, width, index or label: an int (bool refused), equal to ``expected`` exactly.

    With ``reveal=False`` (answers counted by hand) the text says too small or
    too large instead of showing the expected value.
    """
    wrong_type = not_an_int(got, verb)
    if wrong_type is not None:
        return wrong_type
    if got == expected:
        return None
    if reveal:
        return Mismatch(f"{verb} {got}, expected {expected}")
    return Mismatch(f"{verb} {got}, which is too {'small' if got < expected else 'large'}")


def number(got: Any, expected: float, rel: float = 1e-5, abs_: float = 1e-6, verb: str = "returned") -> Mismatch | None:
    """A measured quantity as a Python number (float or int, not a bool or a tensor), close to ``expected``."""
    if isinstance(got, torch.Tensor):
        return Mismatch(f"{verb} {show(got)}, where a Python number is expected", ITEM_HINT)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return Mismatch(f"{verb} {show(got)}, {_type_word(got)}, where a Python float is expected", ITEM_HINT)
    if math.isclose(got, expected, rel_tol=rel, abs_tol=abs_) or (math.isnan(got) and math.isnan(expected)):
        return None
    return Mismatch(f"{verb} {fmt(got)}, expected {fmt(expected)}")


def _index(flat: int, shape: Sequence[int]) -> str:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return "[" + ", ".join(str(i) for i in reversed(index)) + "]"


def tensor(
    got: Any,
    expected: torch.Tensor,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    dtypes: Sequence[torch.dtype] | None = None,
    verb: str = "returned",
) -> Mismatch | None:
    """A tensor of ``expected``'s shape, of its dtype (or one of ``dtypes``), with close values.

    Float values are compared with ``torch.isclose(rtol, atol)`` (a NaN where a
    NaN is expected counts as equal); integer and bool values exactly. When
    only the values differ, the text gives the first differing index, both
    values there and the largest difference.
    """
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"{verb} {show(got)}, {_type_word(got)}, where a tensor is expected", TENSOR_HINT)
    if tuple(got.shape) != tuple(expected.shape):
        return Mismatch(f"{verb} a tensor of shape {tuple(got.shape)}, expected shape {tuple(expected.shape)}")
    allowed = tuple(dtypes) if dtypes else (expected.dtype,)
    if got.dtype not in allowed:
        names = " or ".join(_dtype(d) for d in allowed)
        return Mismatch(f"{verb} a tensor of dtype {_dtype(got.dtype)}, expected {names}")
    if got.is_complex() or expected.is_complex():
        close = got.to(torch.complex128) == expected.to(torch.complex128)
    elif expected.is_floating_point() or got.is_floating_point():
        close = torch.isclose(got.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = got.long() == expected.long()
    if bool(close.all()):
        return None
    if got.dim() == 0:
        return Mismatch(f"{verb} a tensor holding {fmt(float(got))}, expected {fmt(float(expected))}")
    wrong = (~close).flatten()
    first = int(wrong.nonzero()[0])
    g, e = got.flatten()[first].item(), expected.flatten()[first].item()
    differences = (got.double() - expected.double()).abs().flatten()[wrong]
    largest = float("nan") if bool(differences.isnan().any()) else float(differences.max())
    n = int(wrong.sum())
    return Mismatch(
        f"{verb} a tensor whose values differ from the expected ones: at {_index(first, got.shape)} it holds "
        f"{fmt(g)} where {fmt(e)} is expected; {n} of {got.numel()} values differ, the largest difference is "
        f"{fmt(largest)}"
    )


def int_sequence(got: Any, expected: Sequence[int], verb: str = "returned", what: str = "list") -> Mismatch | None:
    """A list (or tuple) of ints equal to ``expected`` item by item, in order."""
    if isinstance(got, torch.Tensor):
        return Mismatch(f"{verb} {show(got)}, where a {what} of ints is expected", LIST_HINT)
    if not isinstance(got, (list, tuple)):
        return Mismatch(f"{verb} {show(got)}, {_type_word(got)}, where a {what} of ints is expected")
    for i, item in enumerate(got):
        wrong_type = not_an_int(item, "holds")
        if wrong_type is not None:
            return Mismatch(f"{verb} {show(got)}: item {i} {wrong_type.text}", wrong_type.hint)
    if list(got) == list(expected):
        return None
    if len(got) != len(expected):
        return Mismatch(f"{verb} {len(got)} items, expected {len(expected)}: {show(got)}")
    first = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
    return Mismatch(
        f"{verb} {show(got)}, expected {show(expected)}: they first differ at index {first} "
        f"({got[first]} where {expected[first]} is expected)"
    )


def equal(got: Any, expected: Any, verb: str = "returned") -> Mismatch | None:
    """Plain equality (bools, strings, tuples of ints, dtypes), with the type where it matters."""
    if type(got) is type(expected) and got == expected:
        return None
    return Mismatch(f"{verb} {show(got)}, expected {show(expected)}")
