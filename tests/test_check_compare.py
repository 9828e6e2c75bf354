"""The rule for numbers and the feedback on tensors, the same in every exercise."""

import inspect

import pytest
import torch

import lenet_course.check as check
from lenet_course.check.compare import INT_HINT, ITEM_HINT, count, int_sequence, number, show, tensor
from lenet_course.check.wire import Foreign


def test_the_number_rule_is_stated_word_for_word_in_the_package_docstring():
    docstring = " ".join(inspect.getdoc(check).split())
    assert check.NUMBER_RULE in docstring


@pytest.mark.parametrize(
    "got, text, hint",
    [
        (28.0, "returned 28.0, a float, where an int is expected", INT_HINT),
        (True, "returned True, a bool, where an int is expected", INT_HINT),
        (torch.tensor(28), "returned a 0-dim int64 tensor holding 28, where a Python int is expected", ITEM_HINT),
        (Foreign("numpy.int64", "np.int64(28)"), "returned np.int64(28), a numpy.int64, where a Python int", INT_HINT),
        ("28", "returned '28', a str, where an int is expected", INT_HINT),
    ],
)
def test_a_count_must_be_an_int(got, text, hint):
    mismatch = count(got, 28)
    assert mismatch.text.startswith(text) and mismatch.hint == hint


def test_counts_are_compared_exactly_and_can_hide_the_expected_value():
    assert count(28, 28) is None
    assert count(122_303, 122_304).text == "returned 122303, expected 122304"
    assert count(122_303, 122_304, verb="is", reveal=False).text == "is 122303, which is too small"
    assert count(157, 156, verb="is", reveal=False).text == "is 157, which is too large"


def test_a_measured_quantity_is_a_python_number_not_a_tensor():
    assert number(0.5, 0.5) is None and number(1, 1.0) is None
    assert number(0.5 + 1e-9, 0.5) is None
    refused = number(torch.tensor(0.5), 0.5)
    assert refused.text == "returned a 0-dim float32 tensor holding 0.5, where a Python number is expected"
    assert refused.hint == ITEM_HINT
    assert number(True, 1.0).text.startswith("returned True, a bool")
    assert number(50.0, 0.5).text == "returned 50, expected 0.5"


def test_tensors_are_compared_in_shape_dtype_and_values():
    expected = torch.tensor([[0.5, 0.25], [1.0, 2.0]])
    assert tensor(expected + 1e-7, expected) is None
    assert tensor(expected.T.contiguous(), expected).text.startswith("returned a tensor whose values differ")
    assert tensor(expected[0], expected).text == "returned a tensor of shape (2,), expected shape (2, 2)"
    assert tensor(expected.double(), expected).text == "returned a tensor of dtype float64, expected float32"
    assert tensor(expected.double(), expected, dtypes=(torch.float32, torch.float64)) is None
    assert tensor([[0.5, 0.25], [1.0, 2.0]], expected).text.startswith("returned [[0.5, 0.25], [1.0, 2.0]], a list")


def test_where_the_values_differ_is_shown():
    expected = torch.tensor([[0.731059, 0.268941], [0.268941, 0.731059]], dtype=torch.float64)
    got = expected.clone()
    got[1, 0], got[1, 1] = float("nan"), 0.5
    assert tensor(got, expected).text == (
        "returned a tensor whose values differ from the expected ones: at [1, 0] it holds nan where 0.268941 is "
        "expected; 2 of 4 values differ, the largest difference is nan"
    )
    got = expected.clone()
    got[0, 1] = 0.3
    assert tensor(got, expected).text.endswith(
        "at [0, 1] it holds 0.3 where 0.268941 is expected; 1 of 4 values differ, the largest difference is 0.031059"
    )
    assert tensor(torch.tensor(2.0), torch.tensor(1.0)).text == "returned a tensor holding 2, expected 1"
    assert tensor(torch.tensor([float("nan")]), torch.tensor([float("nan")])) is None  # nan where nan is due


def test_integer_tensors_are_compared_exactly():
    expected = torch.tensor([3, 0, 2])
    assert tensor(torch.tensor([3, 0, 2]), expected) is None
    assert "at [1] it holds 1 where 0 is expected" in tensor(torch.tensor([3, 1, 2]), expected).text


def test_lists_of_ints_say_where_they_first_differ():
    assert int_sequence([1, 2, 0], [1, 2, 0]) is None
    assert int_sequence((1, 2, 0), [1, 2, 0]) is None
    assert int_sequence([1, 2, 3], [1, 2, 0]).text == (
        "returned [1, 2, 3], expected [1, 2, 0]: they first differ at index 2 (3 where 0 is expected)"
    )
    assert int_sequence([1, 2], [1, 2, 0]).text == "returned 2 items, expected 3: [1, 2]"
    assert (
        int_sequence([1, 2.0, 0], [1, 2, 0]).text
        == "returned [1, 2.0, 0]: item 1 holds 2.0, a float, where an int is expected"
    )
    refused = int_sequence(torch.tensor([1, 2, 0]), [1, 2, 0])
    assert (
        refused.text.startswith("returned a tensor of shape (3,), where a list of ints") and ".tolist()" in refused.hint
    )


def test_show_never_prints_an_address_or_a_long_value():
    assert show(Foreign("PIL.Image.Image", "<PIL.Image.Image image mode=L size=32x32 at 0x7F>")) == "a PIL.Image.Image"
    assert show(list(range(100))).endswith("...") and len(show(list(range(100)))) == 60
    assert show(frozenset({"b", "a"})) == "{'a', 'b'}"
    assert show(torch.zeros(2, 3)) == "a tensor of shape (2, 3)"
