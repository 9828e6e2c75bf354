import gzip

import numpy as np
import pytest

from lenet_course.idx import IdxError, read_idx, read_images_and_labels


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, gz=True):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_round_trip_gzip_and_plain(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28).astype(np.uint8)
    for gz in (True, False):
        path = write_idx(tmp_path / ("a.gz" if gz else "a"), images, gz)
        np.testing.assert_array_equal(read_idx(path, expect_dims=3), images)


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(IdxError, match=r"bad-idx3-ubyte: bad magic number 0x12345678"):
        read_idx(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28)))[:-10])
    with pytest.raises(IdxError, match=r"t10k-images-idx3-ubyte: truncated: header says 3x28x28 = 2,352 bytes"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28))))[:-30])
    with pytest.raises(IdxError, match=r"x\.gz: cannot be read as gzip"):
        read_idx(path)


def test_wrong_number_of_dimensions(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.zeros(5))
    with pytest.raises(IdxError, match="has 1 dimension"):
        read_idx(path, expect_dims=3)


def test_count_mismatch_and_bad_labels(tmp_path):
    images = write_idx(tmp_path / "i.gz", np.zeros((4, 28, 28)))
    labels = write_idx(tmp_path / "l.gz", np.zeros(3))
    with pytest.raises(IdxError, match=r"i\.gz has 4 images but .*l\.gz has 3 labels"):
        read_images_and_labels(images, labels)
    labels = write_idx(tmp_path / "l.gz", np.array([0, 1, 12, 3]))
    with pytest.raises(IdxError, match=r"l\.gz: label 12 found"):
        read_images_and_labels(images, labels)
