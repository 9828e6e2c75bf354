"""The connection-table editor of chapter 4 (``04_c3_s4.ipynb``).

A 6x16 grid of toggle buttons, one per (S2 map, C3 map) pair: click a cell to
connect or disconnect it and the parameter and connection counts of C3 follow.
Buttons load the paper's table, the full connection or an empty table, and
Check runs an exercise checker on the table shown.
"""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import torch

from ..check.c3_table import _PAPER_C3_INPUTS, distinct_triples

__all__ = ["ConnectionTableWidget", "c3_counts"]

_IN, _OUT, _K, _SIDE = 6, 16, 5, 10  # S2 maps, C3 maps, kernel side, C3 output side


def c3_counts(mask: torch.Tensor, kernel_size: int = _K, out_side: int = _SIDE) -> tuple[int, int]:
    """(parameters, connections) of a C3 connected by ``mask`` (S2 maps x C3 maps). Chapter 4."""
    inputs = mask.bool().sum(dim=0)
    params = int((inputs * kernel_size * kernel_size + 1).sum())
    return params, params * out_side * out_side


class ConnectionTableWidget(widgets.VBox):
    """Click cells of C3's connection table and watch its parameter count."""

    def __init__(
        self, preset: str = "paper", checker: Callable[[torch.Tensor], bool] | None = distinct_triples
    ) -> None:
        self.checker = checker
        cell_layout = widgets.Layout(width="30px", height="26px", padding="0px")
        self.cells = [
            [
                widgets.ToggleButton(value=False, layout=cell_layout, tooltip=f"S2 map {i} -> C3 map {j}")
                for j in range(_OUT)
            ]
            for i in range(_IN)
        ]
        header = [widgets.Label("S2 \\ C3")] + [
            widgets.Label(str(j), layout=widgets.Layout(width="30px")) for j in range(_OUT)
        ]
        rows = []
        for i in range(_IN):
            rows += [widgets.Label(f"map {i}")] + self.cells[i]
        grid = widgets.GridBox(
            header + rows,
            layout=widgets.Layout(grid_template_columns=f"70px repeat({_OUT}, 32px)", grid_gap="2px"),
        )
        self.paper_button = widgets.Button(description="Paper's table")
        self.full_button = widgets.Button(description="Full connection")
        self.clear_button = widgets.Button(description="Clear")
        self.check_button = widgets.Button(description="Check", button_style="success", disabled=checker is None)
        self.summary = widgets.HTML()
        self.verdict = widgets.HTML()
        self._quiet = False
        for row in self.cells:
            for cell in row:
                cell.observe(self._on_cell, names="value")
        self.paper_button.on_click(lambda _b: self.set_preset("paper"))
        self.full_button.on_click(lambda _b: self.set_preset("full"))
        self.clear_button.on_click(lambda _b: self.set_preset("clear"))
        self.check_button.on_click(lambda _b: self.run_check())
        buttons = widgets.HBox([self.paper_button, self.full_button, self.clear_button, self.check_button])
        super().__init__([grid, buttons, self.summary, self.verdict])
        self.set_preset(preset)

    @property
    def mask(self) -> torch.Tensor:
        """The table shown, as a boolean (6, 16) tensor: ``mask[i, j]`` when S2 map i feeds C3 map j."""
        return torch.tensor([[cell.value for cell in row] for row in self.cells], dtype=torch.bool)

    def set_mask(self, mask: torch.Tensor) -> None:
        """Show ``mask`` (6x16, S2 maps x C3 maps) in the grid."""
        mask = torch.as_tensor(mask).bool()
        if tuple(mask.shape) != (_IN, _OUT):
            raise ValueError(f"the table must have shape ({_IN}, {_OUT}) (S2 maps x C3 maps), got {tuple(mask.shape)}")
        self._quiet = True
        try:
            for i in range(_IN):
                for j in range(_OUT):
                    self.cells[i][j].value = bool(mask[i, j])
                    self._style(self.cells[i][j])
        finally:
            self._quiet = False
        self._update()

    def set_preset(self, name: str) -> None:
        """Load ``"paper"`` (the 1998 table), ``"full"`` (every S2 map feeds every C3 map) or ``"clear"``."""
        if name == "paper":
            mask = torch.zeros(_IN, _OUT, dtype=torch.bool)
            for j, inputs in enumerate(_PAPER_C3_INPUTS):
                mask[sorted(inputs), j] = True
        elif name == "full":
            mask = torch.ones(_IN, _OUT, dtype=torch.bool)
        elif name == "clear":
            mask = torch.zeros(_IN, _OUT, dtype=torch.bool)
        else:
            raise ValueError(f"preset must be 'paper', 'full' or 'clear', got {name!r}")
        self.set_mask(mask)

    def run_check(self) -> str:
        """Run the checker on the table shown; its verdict appears under the grid and is returned."""
        if self.checker is None:
            return ""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.checker(self.mask)
        text = out.getvalue().strip()
        self.verdict.value = f"<pre>{html.escape(text)}</pre>"
        return text

    def summary_text(self) -> str:
        """The counts shown under the grid, as plain text."""
        mask = self.mask
        params, connections = c3_counts(mask)
        full_params, _ = c3_counts(torch.ones(_IN, _OUT, dtype=torch.bool))
        per_map = mask.sum(dim=0).tolist()
        spread = ", ".join(f"{per_map.count(k)} reading {k}" for k in range(_IN + 1) if per_map.count(k))
        text = (
            f"C3 with this table: {params:,} parameters ({full_params:,} with full connection), "
            f"{connections:,} connections. C3 maps: {spread}."
        )
        if 0 in per_map:
            text += " A map reading no S2 map only outputs its bias."
        return text

    def _style(self, cell: widgets.ToggleButton) -> None:
        cell.button_style = "info" if cell.value else ""

    def _on_cell(self, change) -> None:
        self._style(change["owner"])
        if not self._quiet:
            self._update()

    def _update(self) -> None:
        self.summary.value = html.escape(self.summary_text())
        self.verdict.value = ""

    def __repr__(self) -> str:
        params, _ = c3_counts(self.mask)
        return f"ConnectionTableWidget({int(self.mask.sum())} connected cells, {params:,} parameters)"
