"""Plain data between kernel and judge: every answer form travels, nothing else gets through."""

import base64
import json

import numpy as np
import pytest
import torch

from lenet_course.check.wire import Foreign, WireError, decode, encode


def travel(value):
    return decode(json.loads(json.dumps(encode(value), allow_nan=False)))


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -7, 2**80, 28.0, -0.5, "b, c", [1, 2.0, "x"], (1, 32, 32), {"c1": 156, 3: [1]}, {1, 2}, [[]]],
)
def test_plain_values_travel_with_their_types(value):
    back = travel(value)
    assert back == value and type(back) is (frozenset if isinstance(value, set) else type(value))


def test_special_floats_travel_as_valid_json():
    for value in (float("nan"), float("inf"), float("-inf")):
        back = travel(value)
        assert back != back if value != value else back == value


@pytest.mark.parametrize(
    "t",
    [
        torch.arange(12, dtype=torch.float32).reshape(3, 4),
        torch.tensor(2.5, dtype=torch.float64),
        torch.tensor([True, False]),
        torch.zeros(0, 5, dtype=torch.int64),
        torch.arange(6, dtype=torch.uint8).reshape(2, 3).T,  # not contiguous
        torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        torch.ones(2, 2, requires_grad=True) * 3,
    ],
)
def test_tensors_travel_as_dtype_shape_and_bytes(t):
    back = travel(t)
    assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t.detach())
    assert not back.requires_grad


def test_dtypes_sizes_and_objects_without_a_plain_form():
    assert travel(torch.float32) is torch.float32
    assert travel(torch.Size([1, 6])) == (1, 6)
    assert travel(np.int64(3)) == Foreign("numpy.int64", "np.int64(3)")
    assert travel(np.zeros(2)).type_name == "numpy.ndarray"
    assert travel(lambda x: x).type_name == "function"


def test_a_meta_tensor_has_no_data_to_send():
    with pytest.raises(NotImplementedError):
        encode(torch.zeros(2, device="meta"))


@pytest.mark.parametrize(
    "data",
    [
        {"$tensor": {"dtype": "float32", "shape": [2], "data": base64.b64encode(b"abc").decode()}},
        {"$tensor": {"dtype": "object", "shape": [1], "data": ""}},
        {"$tensor": {"dtype": "float32", "shape": [-1], "data": ""}},
        {"$tensor": {"dtype": "float32", "shape": [2**39] * 16, "data": ""}},
        {"$tensor": {"dtype": "float32", "shape": [1], "data": "!!!!"}},
        {"$tensor": {"dtype": "float32", "shape": [1], "data": "AAAAAA==", "extra": 1}},
        {"$float": "1e5"},
        {"$dtype": "torch.nn"},
        {"$pickle": "gASV"},
        {"$dict": [[[1], 2]]},
        {"$set": [[1, 2]]},
        {"$tuple": 3},
        {"a": 1, "b": 2},
        {"$object": 3, "repr": ""},
    ],
)
def test_decode_refuses_anything_encode_cannot_have_written(data):
    with pytest.raises(WireError):
        decode(data)


def test_decode_refuses_deep_nesting_without_crashing():
    data = []
    for _ in range(200):
        data = [data]
    with pytest.raises(WireError):
        decode(data)
