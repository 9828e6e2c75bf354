"""Chapters 4-7: what the chapters and the package must agree on (nbval runs the chapters)."""

import torch

from lenet_course.check.c3_table import _PAPER_C3_INPUTS
from lenet_course.widgets.connection_table import c3_counts


def test_checker_table_is_the_classic_network_table():
    from lenet_course.paper.network import C3_TABLE

    assert [set(inputs) for inputs in C3_TABLE] == [set(inputs) for inputs in _PAPER_C3_INPUTS]


def test_paper_table_counts_match_the_facts():
    mask = torch.zeros(6, 16, dtype=torch.bool)
    for j, inputs in enumerate(_PAPER_C3_INPUTS):
        mask[sorted(inputs), j] = True
    assert c3_counts(mask) == (1516, 151600)
    assert sorted(len(s) for s in _PAPER_C3_INPUTS) == [3] * 6 + [4] * 9 + [6]
