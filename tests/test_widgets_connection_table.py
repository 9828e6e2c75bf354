"""The chapter 4 connection-table widget, driven from Python."""

import itertools

import pytest
import torch

from lenet_course import check
from lenet_course.widgets import ConnectionTableWidget
from lenet_course.widgets.connection_table import c3_counts


def test_starts_with_the_paper_table():
    w = ConnectionTableWidget()
    assert w.mask.shape == (6, 16)
    assert int(w.mask.sum()) == 60
    assert w.mask[:, 15].all() and w.mask[:, 0].tolist() == [True, True, True, False, False, False]
    assert "1,516 parameters (2,416 with full connection), 151,600 connections" in w.summary.value
    assert "6 reading 3, 9 reading 4, 1 reading 6" in w.summary.value
    assert repr(w) == "ConnectionTableWidget(60 connected cells, 1,516 parameters)"


def test_clicking_a_cell_updates_the_count():
    w = ConnectionTableWidget()
    w.cells[5][0].value = True  # C3 map 0 now reads 4 S2 maps
    assert "1,541 parameters" in w.summary.value
    assert w.cells[5][0].button_style == "info"
    w.cells[0][15].value = False
    assert "1,516 parameters" in w.summary.value
    assert w.cells[0][15].button_style == ""


def test_buttons_load_presets():
    w = ConnectionTableWidget()
    w.full_button.click()
    assert w.mask.all() and "2,416 parameters" in w.summary.value and "241,600 connections" in w.summary.value
    w.clear_button.click()
    assert not w.mask.any()
    assert "16 parameters" in w.summary.value and "only outputs its bias" in w.summary.value
    w.paper_button.click()
    assert check.c3_mask(w.mask)


def test_check_button_shows_the_verdict():
    w = ConnectionTableWidget(preset="clear")
    for j, inputs in enumerate(itertools.islice(itertools.combinations(range(6), 3), 16)):
        for i in inputs:
            w.cells[i][j].value = True
    assert "1,216 parameters" in w.summary.value
    w.check_button.click()
    assert "Exercise 4.3: 3/3 cases correct. Well done!" in w.verdict.value
    w.cells[0][0].value = False  # any edit clears the old verdict
    assert w.verdict.value == ""
    w.check_button.click()
    assert "Exercise 4.3: 2/3 cases correct." in w.verdict.value
    assert "reading exactly 3 S2 maps is 15, expected 16" in w.verdict.value


def test_set_mask_rejects_a_wrong_shape():
    w = ConnectionTableWidget()
    with pytest.raises(ValueError, match=r"shape \(6, 16\).*got \(16, 6\)"):
        w.set_mask(torch.ones(16, 6))
    with pytest.raises(ValueError, match="preset must be"):
        w.set_preset("random")


def test_c3_counts():
    assert c3_counts(torch.ones(6, 16)) == (2416, 241600)
    assert c3_counts(torch.ones(1, 6), out_side=28) == (156, 122304)  # C1 counted the same way
