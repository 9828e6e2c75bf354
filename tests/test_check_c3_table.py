"""The chapter 4 checkers: parameters of a masked convolution, the paper's table, a table of distinct triples."""

import itertools
import random

import torch

from lenet_course import check
from lenet_course.check.c3_table import _PAPER_C3_INPUTS
from tests.checker_answers import first_failure, judge

C3_INPUTS = [sorted(s) for s in _PAPER_C3_INPUTS]


def _paper_mask():
    mask = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(C3_INPUTS):
        mask[inputs, j] = True
    return mask


def _triples(order):
    table = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(order[:16]):
        table[list(inputs), j] = True
    return table


def _by_columns(mask, kernel_size=5):
    total = 0
    for j in range(mask.shape[1]):
        total += int(mask[:, j].sum()) * kernel_size * kernel_size + 1
    return total


CHECKERS = {"4.1": check.conv_parameters, "4.2": check.c3_mask, "4.3": check.distinct_triples}

WRONG = {
    "4.1": {
        "no biases": lambda mask, kernel_size=5: int(mask.sum()) * kernel_size**2,
        "one bias in all": lambda mask, kernel_size=5: int(mask.sum()) * kernel_size**2 + 1,
        "biases per input map (rows)": lambda mask, kernel_size=5: int(mask.sum()) * kernel_size**2 + mask.shape[0],
        "the full connection": lambda mask, kernel_size=5: mask.numel() * kernel_size**2 + mask.shape[1],
        "kernel size ignored": lambda mask, kernel_size=5: _by_columns(mask, 5),
        "a tensor": lambda mask, kernel_size=5: (mask.sum(dim=0) * kernel_size**2 + 1).sum(),
    },
    "4.2": {
        "transposed": _paper_mask().T.contiguous(),
        "floats": _paper_mask().float(),
        "all connected": torch.ones(6, 16, dtype=torch.bool),
        "rows shifted by one": torch.roll(_paper_mask(), 1, dims=0),
        "a list of lists": _paper_mask().tolist(),
    },
    "4.3": {
        "the paper's table": _paper_mask(),
        "one triple for every map": _triples([(0, 1, 2)] * 16),
        "transposed": _triples(list(itertools.combinations(range(6), 3))).T.contiguous(),
        "one map reading two": _triples([(0, 1)] + list(itertools.combinations(range(6), 3))[1:16]),
    },
}

RIGHT = {
    "4.1": {
        "all weights then one bias per column": lambda mask, kernel_size=5: (
            int(mask.sum()) * kernel_size**2 + mask.shape[1]
        ),
        "a loop over columns": _by_columns,
    },
    "4.2": {
        "a comprehension": torch.tensor([[i in inputs for inputs in C3_INPUTS] for i in range(6)]),
        "typed in row by row": torch.tensor(
            [
                [1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1],
                [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
                [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1],
                [0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1],
                [0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1],
                [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1],
            ]
        ).bool(),
    },
    "4.3": {
        "the last 16 triples": _triples(list(itertools.combinations(range(6), 3))[4:]),
        "16 triples in a random order": _triples(
            random.Random(4).sample(list(itertools.combinations(range(6), 3)), 16)
        ),
        "as 0/1 integers": _triples(list(itertools.combinations(range(6), 3))).long(),
    },
}


def test_a_tensor_count_is_refused_with_the_number_rule(capsys):
    verdict, out = judge(check.conv_parameters, WRONG["4.1"]["a tensor"], capsys)
    assert verdict.passed == 0
    assert first_failure(out) == (
        "full C3 (6x16 mask, all True): returned a 0-dim int64 tensor holding 2416, where a Python int is expected"
    )
    assert "  Hint: this answer is a Python number, not a tensor: .item()" in out


def test_the_empty_map_tells_a_bias_per_map_from_none(capsys):
    verdict, out = judge(check.conv_parameters, WRONG["4.1"]["kernel size ignored"], capsys)
    assert (verdict.passed, verdict.total) == (6, 7)
    assert first_failure(out) == "a 2x2 identity mask with 3x3 kernels: returned 52, expected 20"


def test_c3_mask_transposed_and_floats(capsys):
    verdict, out = judge(check.c3_mask, WRONG["4.2"]["transposed"], capsys)
    assert verdict.passed == 1  # its dtype
    assert first_failure(out) == "c3_mask.shape is (16, 6), expected (6, 16)"
    verdict, out = judge(check.c3_mask, WRONG["4.2"]["floats"], capsys)
    assert verdict.passed == 17
    assert first_failure(out) == "c3_mask.dtype is torch.float32, expected torch.bool"
    _, out = judge(check.c3_mask, WRONG["4.2"]["rows shifted by one"], capsys)
    assert first_failure(out) == "C3 map 0 (column 0) reads S2 maps [1, 2, 3], expected [0, 1, 2]"


def test_distinct_triples_counts(capsys):
    verdict, out = judge(check.distinct_triples, WRONG["4.3"]["one triple for every map"], capsys)
    assert (verdict.passed, verdict.total) == (2, 3)
    assert first_failure(out) == "the number of different input sets among the 16 maps is 1, expected 16"
