"""Chapter 1 in Jupyter Notebook 7, the other front-end the course is tested in: its widgets work there too.

Notebook 7 is built from JupyterLab's parts (the same notebook panel, cells and
widget manager), so ``NotebookPage`` drives it as it drives JupyterLab: the
server is started with ``jupyter notebook`` and pages open at ``/notebooks/...``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import notebook_in_browser
from .jupyterlab_driver import CHAPTERS, JupyterLabServer, copy_chapters

pytestmark = pytest.mark.browser

CHAPTER = "01_output_size_formula.ipynb"
EXPLORER = ".jp-Cell:not(:has(.lenet-formula-exercise)) .lenet-formula"
# Notebook 7.6's keyboard-shortcut settings plugin throws this while the page starts, in a bare
# `jupyter notebook` too, with the widget manager and every other extension disabled: not the course's.
NOTEBOOK7_START_UP_ERROR = re.compile(r"^Cannot read properties of undefined \(reading 'schema'\)$")


class NotebookServer(JupyterLabServer):
    """``jupyter notebook`` (Notebook 7) on 127.0.0.1, with the same private folders and token as JupyterLab's."""

    APP = "notebook"

    def app_options(self) -> list[str]:
        return ["--JupyterNotebookApp.expose_app_in_browser=True"]

    def url(self, notebook: str, workspace: str | None = None) -> str:
        return f"{self.base_url}/notebooks/{notebook}?token={self.token}"


@pytest.fixture(scope="module")
def notebook7(_browser_available, tmp_path_factory):
    pytest.importorskip("notebook", reason="Notebook 7 is not installed (pip install 'notebook>=7')")
    base = tmp_path_factory.mktemp("notebook7")
    server = NotebookServer(root=copy_chapters(CHAPTERS, base / "chapters"), workdir=base / "notebook")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chapter(chromium, notebook7):
    with notebook_in_browser(chromium, notebook7, CHAPTER) as nb:
        nb.run_all(timeout=180)
        nb.page_errors[:] = [e for e in nb.page_errors if not NOTEBOOK7_START_UP_ERROR.match(e)]
        yield nb


def test_chapter_runs_in_notebook_7_and_shows_its_verdicts(chapter):
    assert "/notebooks/" in chapter.page.url
    chapter.assert_no_errors()
    chapter.assert_committed_verdicts_shown(CHAPTERS / CHAPTER)


def test_formula_explorer_renders_and_reacts_in_notebook_7(chapter):
    explorer = chapter.find(EXPLORER).first
    result = explorer.locator(".lenet-formula-result")
    expect(result).to_have_text("Output size: 28")
    expect(explorer.locator(".lenet-formula-picture svg")).to_be_visible()
    chapter.set_slider(explorer.locator(".lenet-formula-stride"), 2)
    expect(explorer.locator(".lenet-formula-stride .widget-readout")).to_have_text("2")
    expect(result).to_have_text("Does not tile: 14.5 is not a whole number")
    chapter.screenshot("nb7-ch01-explorer", explorer)

    exercise = chapter.find(".lenet-formula-exercise").first
    exercise.locator(".lenet-exercise-check").click()
    expect(exercise.locator(".lenet-exercise-verdict")).to_contain_text("Exercise 1.2: 1/2 cases correct.")
