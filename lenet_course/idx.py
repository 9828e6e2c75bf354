"""Reading MNIST's IDX files (gzip or not), strictly.

Introduced in chapter 7 (``07_mnist.ipynb``), where ``load_mnist`` reads
them: every problem is reported against the file that holds it.

The format: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), each dimension as a big-endian int32, then the data. MNIST uses
type 0x08 (unsigned byte): images have 3 dimensions, labels 1.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

__all__ = ["IdxError", "read_idx", "read_images_and_labels"]


class IdxError(ValueError):
    """An IDX file that is truncated, corrupt or does not match its partner."""


def read_idx(path: str | Path, expect_dims: int | None = None) -> np.ndarray:
    """Read one IDX file into a uint8 array, checking its header against its size."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # gzip raises these for a truncated or non-gzip file
        raise IdxError(
            f"{path}: cannot be read as {'gzip' if path.suffix == '.gz' else 'an IDX file'} ({exc})"
        ) from None
    if len(raw) < 4:
        raise IdxError(f"{path}: only {len(raw)} bytes, too short for an IDX header")
    zero, dtype_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype_code != 0x08 or ndim == 0:
        raise IdxError(
            f"{path}: bad magic number 0x{raw[:4].hex()} (expected 0x00000801 for labels or 0x00000803 for images); "
            "this is not an MNIST IDX file"
        )
    if expect_dims is not None and ndim != expect_dims:
        raise IdxError(f"{path}: has {ndim} dimension(s), expected {expect_dims}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{path}: truncated inside its header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(dims)
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise IdxError(
            f"{path}: {what}: header says {'x'.join(map(str, dims))} = {expected - header:,} bytes of data, "
            f"file has {len(raw) - header:,}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_images_and_labels(
    images_path: str | Path, labels_path: str | Path, size: tuple[int, int] | None = (28, 28)
) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of image and label files, checking that they agree (and that images are ``size``)."""
    images = read_idx(images_path, expect_dims=3)
    if size is not None and images.shape[1:] != tuple(size):
        h, w = images.shape[1:]
        raise IdxError(
            f"{images_path}: its images are {h}x{w} pixels, MNIST's are {size[0]}x{size[1]}; "
            "this file is not MNIST (or was written with another shape)"
        )
    labels = read_idx(labels_path, expect_dims=1)
    if len(images) != len(labels):
        raise IdxError(f"{images_path} has {len(images):,} images but {labels_path} has {len(labels):,} labels")
    if labels.size and labels.max() > 9:
        raise IdxError(f"{labels_path}: label {int(labels.max())} found, MNIST labels are 0 to 9")
    return images, labels
