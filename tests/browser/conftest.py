"""Fixtures of the browser suite: one JupyterLab and one headless Chromium per test session.

JupyterLab serves a temporary copy of ``chapters/`` (a run never changes the
committed notebooks, even when JupyterLab autosaves); each test gets a fresh
page. Screenshots land in ``artifacts/browser/``.

Without ``/usr/bin/chromium`` (Debian package ``chromium``) or playwright the
whole suite is skipped with one reason; set ``LENET_COURSE_REQUIRE_BROWSER=1``
to make that a failure instead (CI, where Chromium is installed first).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from pathlib import Path

import pytest

from .jupyterlab_driver import (
    CHAPTERS,
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    REPORT,
    RUN_TIMES,
    SCREENSHOTS,
    JupyterLabServer,
    NotebookPage,
    copy_chapters,
)


def _why_unavailable() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"browser tests need Chromium at {CHROMIUM} "
            "(Debian: apt-get install chromium, or set LENET_COURSE_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need playwright-python (pip install 'playwright>=1.40')"
    return None


def _require_browser() -> bool:
    return os.environ.get("LENET_COURSE_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}


UNAVAILABLE = _why_unavailable()
SENTINEL = "test_browser_suite.py"
# Without Chromium only the sentinel test is collected, so the suite skips on one line.
collect_ignore = (
    [path.name for path in Path(__file__).parent.glob("test_*.py") if path.name != SENTINEL] if UNAVAILABLE else []
)


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    """Skip (or, with LENET_COURSE_REQUIRE_BROWSER=1, fail) when Chromium or playwright is missing."""
    if UNAVAILABLE is None:
        return
    if _require_browser():
        pytest.fail(UNAVAILABLE + "; LENET_COURSE_REQUIRE_BROWSER is set", pytrace=False)
    pytest.skip(UNAVAILABLE)


@pytest.fixture(scope="session")
def jupyterlab(_browser_available, tmp_path_factory) -> JupyterLabServer:
    """JupyterLab serving a temporary copy of chapters/, shut down at the end whatever happens."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = copy_chapters(CHAPTERS, base / "chapters") if CHAPTERS.is_dir() else (base / "chapters")
    root.mkdir(exist_ok=True)
    server = JupyterLabServer(root=root, workdir=base / "lab")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium(_browser_available):
    """Debian's Chromium, headless, driven by Playwright, kept off the network."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def notebook_in_browser(chromium, jupyterlab: JupyterLabServer, path: str):
    """Open ``path`` (relative to the served chapters) in a fresh browser context; close it and its kernel after."""
    if not (jupyterlab.root / path).is_file():
        pytest.fail(f"{path} not found in chapters/; the browser test expects it there", pytrace=False)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    notebook = NotebookPage(context.new_page(), jupyterlab, path, SCREENSHOTS)
    try:
        yield notebook.open()
    finally:
        notebook.shut_down_kernel()
        context.close()


@pytest.fixture(scope="session")
def notebook_opener(chromium, jupyterlab):
    """``with notebook_opener("name.ipynb") as nb:`` for fixtures that keep one notebook open for a module."""
    return functools.partial(notebook_in_browser, chromium, jupyterlab)


@pytest.fixture
def open_notebook(chromium, jupyterlab):
    """``open_notebook("name.ipynb")``: the notebook open in JupyterLab, kernel idle; closed after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda path: stack.enter_context(notebook_in_browser(chromium, jupyterlab, path))


_timing: dict[str, float] = {}


@pytest.fixture(scope="session", autouse=True)
def _time_the_suite():
    """Time the suite; start a clean screenshot folder when it runs."""
    if UNAVAILABLE is None:
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
    _timing["start"] = time.monotonic()
    yield
    _timing["end"] = time.monotonic()


def pytest_terminal_summary(terminalreporter) -> None:
    if "end" in _timing and UNAVAILABLE is None:
        seconds = _timing["end"] - _timing["start"]
        terminalreporter.write_line(
            f"browser suite: {seconds:.1f} s (JupyterLab and Chromium included); "
            f"screenshots in {SCREENSHOTS.relative_to(REPO)}/"
        )
        for path, run in RUN_TIMES.items():
            terminalreporter.write_line(f"  Run All Cells of {path}: {run}")
        for line in (value for value in REPORT.values() if isinstance(value, str)):
            terminalreporter.write_line(f"  {line}")
