"""The chapter 4 checkers: a right answer passes, a wrong one shows the failing case and hint."""

import itertools

import pytest
import torch

from lenet_course import check


def conv_parameters(mask, kernel_size=5):
    return int((mask.sum(dim=0) * kernel_size * kernel_size + 1).sum())


PAPER = [
    {0, 1, 2},
    {1, 2, 3},
    {2, 3, 4},
    {3, 4, 5},
    {0, 4, 5},
    {0, 1, 5},
    {0, 1, 2, 3},
    {1, 2, 3, 4},
    {2, 3, 4, 5},
    {0, 3, 4, 5},
    {0, 1, 4, 5},
    {0, 1, 2, 5},
    {0, 1, 3, 4},
    {1, 2, 4, 5},
    {0, 2, 3, 5},
    {0, 1, 2, 3, 4, 5},
]


def paper_mask():
    mask = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(PAPER):
        mask[list(inputs), j] = True
    return mask


def test_paper_table_matches_the_published_counts():
    mask = paper_mask()
    assert conv_parameters(mask) == 1516
    assert conv_parameters(torch.ones(6, 16)) == 2416
    assert int(mask.sum()) == 60


def test_conv_parameters_right(capsys):
    assert check.conv_parameters(conv_parameters)
    assert capsys.readouterr().out == "Exercise 4.1: 6/6 cases correct. Well done!\n"


def test_conv_parameters_forgets_bias(capsys):
    assert not check.conv_parameters(lambda m, kernel_size=5: int(m.sum()) * kernel_size**2)
    out = capsys.readouterr().out
    assert "Exercise 4.1: 0/6 cases correct." in out
    assert "full C3 (6x16 mask, all True): returned 2400, expected 2416" in out
    assert "plus one bias" in out


def test_conv_parameters_ignores_kernel_size(capsys):
    check.conv_parameters(lambda m, kernel_size=5: int((m.sum(dim=0) * 25 + 1).sum()))
    out = capsys.readouterr().out
    assert "5/6 cases correct" in out
    assert "a 2x2 identity mask with 3x3 kernels: returned 52, expected 20" in out


def test_conv_parameters_not_implemented_propagates():
    def stub(mask, kernel_size=5):
        raise NotImplementedError("Exercise 4.1")

    with pytest.raises(NotImplementedError):
        check.conv_parameters(stub)


def test_c3_mask_right(capsys):
    assert check.c3_mask(paper_mask())
    assert capsys.readouterr().out == "Exercise 4.2: 18/18 cases correct. Well done!\n"


def test_c3_mask_transposed(capsys):
    assert not check.c3_mask(paper_mask().T)
    out = capsys.readouterr().out
    assert "First failing case: shape: returned (16, 6), expected (6, 16)" in out
    assert "Hint: mask[i, j] is True when S2 map i feeds C3 map j" in out


def test_c3_mask_one_wrong_column_and_int_dtype(capsys):
    mask = paper_mask()
    mask[5, 12] = True
    check.c3_mask(mask)
    out = capsys.readouterr().out
    assert "17/18 cases correct" in out
    assert "C3 map 12 reads S2 maps returned [0, 1, 3, 4, 5], expected [0, 1, 3, 4]" in out
    check.c3_mask(paper_mask().int())
    assert "dtype: returned torch.int32, expected torch.bool" in capsys.readouterr().out


def test_distinct_triples(capsys):
    table = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(itertools.islice(itertools.combinations(range(6), 3), 16)):
        table[list(inputs), j] = True
    assert check.distinct_triples(table)
    assert capsys.readouterr().out == "Exercise 4.3: 3/3 cases correct. Well done!\n"
    same = torch.zeros(6, 16, dtype=torch.bool)
    same[:3] = True
    assert not check.distinct_triples(same)
    out = capsys.readouterr().out
    assert "2/3 cases correct" in out
    assert "number of different input sets among the 16 maps: returned 1, expected 16" in out
    assert "20 ways to choose 3" in out
