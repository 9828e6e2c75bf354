"""Plain data between a learner's kernel and the judge: what a case sends, what an answer returns.

Used by every exercise checker (chapter 0 on). Values become JSON-ready data
and back, never pickle: numbers, strings, lists, tuples, dicts, sets, dtypes,
and tensors as dtype, shape and bytes (base64). Anything else travels as a
:class:`Foreign` that names its type, so a checker can say "returned a
numpy.int64" without ever running the learner's object on the judge's side.

``decode`` trusts nothing: whatever a kernel sends, it either returns plain
Python data and CPU tensors or raises :class:`WireError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Foreign", "WireError", "encode", "decode", "short_repr", "JUDGE_ENV", "ask", "send", "receive"]

MAX_DEPTH = 32  # nesting deeper than this is not an answer any exercise asks for
MAX_DIMS = 16

_DTYPES: dict[str, torch.dtype] = {
    str(dtype).removeprefix("torch."): dtype
    for dtype in (
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
    )
}


class WireError(ValueError):
    """Data that is not a valid encoded value."""


@dataclass(frozen=True)
class Foreign:
    """An object with no plain-data form: its type's name and a short ``repr``."""

    type_name: str
    text: str = ""

    def __str__(self) -> str:
        return f"a {self.type_name}"


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters; never raises."""
    try:
        text = repr(value)
    except Exception:  # a learner's __repr__ may fail: the type name is enough then
        return ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module.split('.')[0]}.{kind.__qualname__}"


def _encode_tensor(t: torch.Tensor) -> dict[str, Any]:
    # .cpu() first: on a GPU it copies, on the meta device it raises NotImplementedError (there is no data)
    t = t.detach().cpu()
    if t.layout != torch.strided or t.is_quantized or t.dtype not in _DTYPES.values():
        return {"$object": f"torch.Tensor ({t.dtype}, {t.layout})", "repr": ""}
    flat = torch.empty(t.numel(), dtype=t.dtype)  # fresh, dense memory whatever the strides of t
    flat.copy_(t.resolve_conj().resolve_neg().reshape(-1))
    raw = flat.view(torch.uint8).numpy().tobytes() if t.numel() else b""
    dtype = str(t.dtype).removeprefix("torch.")
    return {"$tensor": {"dtype": dtype, "shape": list(t.shape), "data": base64.b64encode(raw).decode("ascii")}}


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data. Tensors are copied to the CPU first (``.cpu()``)."""
    if depth > MAX_DEPTH:
        return {"$object": "deeply nested value", "repr": ""}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value)
    if isinstance(value, torch.dtype):
        return {"$dtype": str(value).removeprefix("torch.")}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):  # torch.Size and named tuples too
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v, depth + 1) for v in value]}
    return {"$object": _type_name(value), "repr": short_repr(value)}


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError as exc:
        raise WireError("a set element or dict key must be hashable") from exc
    if isinstance(value, torch.Tensor):
        raise WireError("a set element or dict key cannot be a tensor")
    return value


def _decode_tensor(spec: Any) -> torch.Tensor:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise WireError("a tensor needs exactly dtype, shape and data")
    dtype = _DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
    shape = spec["shape"]
    if dtype is None:
        raise WireError(f"unknown tensor dtype {spec['dtype']!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(type(n) is int and 0 <= n < 2**40 for n in shape)
        or not isinstance(spec["data"], str)
    ):
        raise WireError("a tensor's shape must be a short list of sizes and its data a string")
    try:
        raw = base64.b64decode(spec["data"].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise WireError("a tensor's data is not base64") from exc
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if numel * itemsize != len(raw):
        raise WireError(f"a tensor of shape {tuple(shape)} and dtype {spec['dtype']} cannot hold {len(raw)} bytes")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape).clone()


def decode(data: Any, depth: int = 0) -> Any:
    """The value ``data`` encodes; raises :class:`WireError` for anything :func:`encode` cannot have written."""
    if depth > MAX_DEPTH + 1:
        raise WireError("nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if type(data) is int:
        return data
    if type(data) is float:
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict) or (len(data) != 1 and set(data) != {"$object", "repr"}):
        raise WireError(f"cannot decode a {type(data).__name__}")
    if set(data) == {"$object", "repr"}:
        if not isinstance(data["$object"], str) or not isinstance(data["repr"], str):
            raise WireError("an object is named by strings")
        return Foreign(data["$object"][:200], data["repr"][:200])
    ((tag, body),) = data.items()
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise WireError(f"not a special float: {body!r}")
        return float(body)
    if tag == "$tensor":
        return _decode_tensor(body)
    if tag == "$dtype":
        if not isinstance(body, str) or body not in _DTYPES:
            raise WireError(f"unknown dtype {body!r}")
        return _DTYPES[body]
    if not isinstance(body, list):
        raise WireError(f"{tag} holds a list")
    if tag == "$tuple":
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "$set":
        return frozenset(_hashable(decode(v, depth + 1)) for v in body)
    if tag == "$dict":
        out = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise WireError("a dict is a list of [key, value] pairs")
            out[_hashable(decode(pair[0], depth + 1))] = decode(pair[1], depth + 1)
        return out
    raise WireError(f"unknown tag {tag!r}")


# How kernel and judge talk (the contract: lenet_course.check.judge), one JSON object per line.
JUDGE_ENV = "LENET_COURSE_JUDGE"  # names the judge's socket; unset, checkers run whole
MAX_MESSAGE = 64 * 1024 * 1024
CLIENT_TIMEOUT = 300.0  # seconds the kernel waits for one reply of the judge


class Closed(Exception):
    """The other side closed the connection between messages."""


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message, allow_nan=False).encode("utf-8") + b"\n")


def receive(sock: socket.socket, buffer: bytearray, limit: int, timeout: float) -> dict[str, Any]:
    """One newline-ended JSON object from ``sock`` (bytes after it stay in ``buffer``)."""
    deadline = time.monotonic() + timeout
    scanned = 0
    while True:
        end = buffer.find(b"\n", scanned)
        if end >= 0:
            break
        scanned = len(buffer)
        if len(buffer) > limit:
            raise ValueError(f"a message is larger than {limit} bytes")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete message in time")
        sock.settimeout(remaining)
        chunk = sock.recv(1 << 20)
        if not chunk:
            if buffer:
                raise ValueError("the connection closed in the middle of a message")
            raise Closed
        buffer += chunk
    if end > limit:
        raise ValueError(f"a message is larger than {limit} bytes")
    line = bytes(buffer[:end])
    del buffer[: end + 1]
    message = json.loads(line.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


def ask(address: str, exercise: str, run: Callable[[Any], Any]) -> dict[str, Any]:
    """The kernel's side of one split check: fetch the cases, send ``run(inputs)`` for each, return the verdict.

    Raises ``OSError``, ``ValueError``, :class:`Closed` or :class:`WireError` when the judge cannot be reached.
    """
    buffer = bytearray()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CLIENT_TIMEOUT)
        sock.connect(address)
        send(sock, {"op": "cases", "exercise": exercise})
        reply = receive(sock, buffer, MAX_MESSAGE, CLIENT_TIMEOUT)
        if reply.get("ok") is True and isinstance(reply.get("cases"), list):
            outcomes = [run(decode(inputs)) for inputs in reply["cases"]]
            sock.settimeout(CLIENT_TIMEOUT)
            send(sock, {"op": "answers", "exercise": exercise, "answers": outcomes})
            reply = receive(sock, buffer, MAX_MESSAGE, CLIENT_TIMEOUT)
    return reply
