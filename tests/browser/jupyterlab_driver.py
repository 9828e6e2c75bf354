"""Start JupyterLab for the browser tests and drive a notebook in it with Playwright.

``JupyterLabServer`` runs ``python -m jupyter lab`` from the test environment on
127.0.0.1 with a random port and a token, in private settings, workspace and
runtime folders, and always shuts it down. ``NotebookPage`` opens one notebook
in a Playwright page, runs every cell through the Run menu, and reads back what
the page shows: error outputs, widgets, screenshots.

The JupyterLab settings written here turn notebook windowing off
(``windowingMode: none``), so that every cell stays in the page and a widget far
down a long chapter can be found, scrolled to and photographed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHAPTERS = REPO / "chapters"
SCREENSHOTS = REPO / "artifacts" / "browser"

# Debian's package ``chromium``; LENET_COURSE_CHROMIUM points elsewhere (another distribution's binary).
CHROMIUM = Path(os.environ.get("LENET_COURSE_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
]

# User settings for the private JupyterLab: every cell stays in the DOM, and no
# news or update checks reach for the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none", "recordTiming": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLabServer:
    """``jupyter lab`` on 127.0.0.1 rooted at ``root``, its private folders under ``workdir``."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root = Path(root)
        self.workdir = Path(workdir)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyterlab.log"
        self.process: subprocess.Popen | None = None
        self._log = None

    def __repr__(self) -> str:
        state = "running" if self.process and self.process.poll() is None else "stopped"
        return f"JupyterLabServer({self.base_url}, root={self.root.name}, {state})"

    # ------------------------------------------------------------------ set-up
    def _environment(self) -> dict[str, str]:
        env = os.environ.copy()
        folders = {}
        for name in ("settings", "workspaces", "runtime", "config", "data", "ipython"):
            folders[name] = self.workdir / name
            folders[name].mkdir(parents=True, exist_ok=True)
        for relative, values in LAB_SETTINGS.items():
            path = folders["settings"] / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))
        env.update(
            {
                "LENET_COURSE_OFFLINE": "1",
                "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
                "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"]),
                "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
                "JUPYTER_CONFIG_DIR": str(folders["config"]),
                "JUPYTER_DATA_DIR": str(folders["data"]),
                "IPYTHONDIR": str(folders["ipython"]),
                # The kernels import the course package from this working tree.
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
                "PYTHONUNBUFFERED": "1",
            }
        )
        # A learner's JupyterLab shows inline figures; MPLBACKEND=Agg would hide them.
        env.pop("MPLBACKEND", None)
        return env

    APP = "lab"  # the ``jupyter`` subcommand

    def app_options(self) -> list[str]:
        """The options of this front-end (JupyterLab's)."""
        return [
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            self.APP,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.open_browser=False",
            *self.app_options(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    # ------------------------------------------------------------------ life
    def start(self, timeout: float = 90.0) -> None:
        """Start JupyterLab and wait until ``/api/status`` answers with the token."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.root,
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.process.returncode} before answering; "
                    f"its log ends with:\n{self.log_tail()}"
                )
            try:
                status = self.api("status")
                if "started" in status:
                    return
            except (urllib.error.URLError, ConnectionError, OSError, ValueError) as exc:
                last_error = str(exc)
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"JupyterLab did not answer on {self.base_url}/api/status within {timeout:.0f} s ({last_error}); "
            f"its log ends with:\n{self.log_tail()}"
        )

    def api(self, path: str, method: str = "GET", timeout: float = 5.0) -> Any:
        """Call the REST API with the token; returns the decoded JSON (or None when empty)."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PATCH", "PUT") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self, grace: float = 10.0) -> None:
        """Shut the kernels and the server down: the API first, then SIGTERM to the group, then SIGKILL."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            # The kernels run in sessions of their own; /api/shutdown stops them too.
            try:
                self.api("shutdown", method="POST", timeout=5.0)
            except Exception:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def url(self, notebook: str, workspace: str | None = None) -> str:
        """The page that opens ``notebook``; a workspace of its own keeps other notebooks' tabs out."""
        lab = f"lab/workspaces/{workspace}" if workspace else "lab"
        return f"{self.base_url}/{lab}/tree/{notebook}?token={self.token}"


def copy_chapters(source: Path, target: Path) -> Path:
    """Copy the chapter folder (without checkpoints) to ``target`` so a run never touches the original."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return target


def committed_verdicts(notebook: Path) -> list[str]:
    """The verdict lines (``Exercise 1.1: ...``) the committed check cells of ``notebook`` printed."""
    import nbformat

    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "check" not in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines += [line for line in output["text"].splitlines() if line.startswith("Exercise ")]
    return lines


# ---------------------------------------------------------------------- page

RUN_TIMES: dict[str, str] = {}  # notebook -> how long its Run All Cells took, for the summary
# Figures the tests measure (the book's counts, contrast ratios); text values are printed in the summary.
REPORT: dict[str, object] = {}

# JavaScript run in the page; ``panel(path)`` finds the notebook's panel through
# the application object JupyterLab exposes (--LabApp.expose_app_in_browser).
_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.content.widgets) return w;
  }
  return null;
};
"""

_READY_JS = (
    _FIND_PANEL
    + """
(path) => {
  const p = findPanel(path);
  if (!p || !p.context.isReady || !p.sessionContext.session) return false;
  const kernel = p.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}
"""
)

_PROGRESS_JS = (
    _FIND_PANEL
    + """
(path) => {
  const p = findPanel(path);
  if (!p || !p.sessionContext.session || !p.sessionContext.session.kernel) return null;
  let code = 0, run = 0, running = 0, errors = 0;
  for (const cell of p.content.widgets) {
    if (cell.model.type !== 'code') continue;
    code += 1;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    if ((prompt && prompt.textContent.includes('*')) || cell.model.executionState === 'running') running += 1;
    if (cell.model.executionCount !== null) run += 1;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      if (outputs.get(i).type === 'error') errors += 1;
    }
  }
  return {code, run, running, errors, kernel: p.sessionContext.session.kernel.status};
}
"""
)

_ERRORS_JS = (
    _FIND_PANEL
    + """
(path) => {
  const p = findPanel(path);
  const found = [];
  p.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const out = outputs.get(i).toJSON();
      if (out.output_type === 'error') {
        found.push({cell: index, id: cell.model.id, ename: out.ename, evalue: out.evalue});
      }
    }
  });
  return found;
}
"""
)

_TIMING_JS = (
    _FIND_PANEL
    + """
(path) => findPanel(path).content.widgets.map((cell, index) => {
  const t = cell.model.getMetadata('execution') || {};
  const start = Date.parse(t['iopub.execute_input'] || ''), end = Date.parse(t['shell.execute_reply'] || '');
  return {cell: index, id: cell.model.id, seconds: isNaN(start) || isNaN(end) ? null : (end - start) / 1000};
}).filter(c => c.seconds !== null)
"""
)

_CELL_JS = (
    _FIND_PANEL
    + """
([path, id]) => {
  const p = findPanel(path);
  if (!p) return null;
  const index = p.content.widgets.findIndex(c => c.model.id === id);
  if (index < 0) return null;
  const model = p.content.widgets[index].model;
  const outputs = [];
  if (model.type === 'code') {
    for (let i = 0; i < model.outputs.length; i++) outputs.push(model.outputs.get(i).toJSON());
  }
  const session = p.sessionContext.session;
  const timing = model.getMetadata('execution') || {};  // written at each run (recordTiming)
  return {
    index,
    source: model.sharedModel.getSource(),
    count: model.type === 'code' ? model.executionCount : null,
    replied: timing['shell.execute_reply'] || null,
    outputs,
    kernel: session && session.kernel ? session.kernel.status : null,
  };
}
"""
)

_COMMAND_JS = "async ([command, args]) => { await window.jupyterapp.commands.execute(command, args || {}); }"

# What a traceback looks like once rendered as text in the page.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*:", re.MULTILINE)
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
WIDGET_FAILURE = re.compile(r"Error displaying widget|Loading widget\.\.\.|Failed to (load|render|create) (model|view)")


class NotebookPage:
    """One notebook open in JupyterLab in a Playwright page.

    >>> nb = NotebookPage(page, server, "01_output_size_formula.ipynb", SCREENSHOTS).open()
    >>> nb.run_all()            # Run > Run All Cells, then wait for the kernel
    >>> nb.assert_no_errors()
    """

    def __init__(self, page, server: JupyterLabServer, path: str, screenshots: Path) -> None:
        self.page = page
        self.server = server
        self.path = path
        self.screenshots = Path(screenshots)
        self.page_errors: list[str] = []
        self.panel = None
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def __repr__(self) -> str:
        return f"NotebookPage({self.path})"

    def open(self, timeout: float = 90.0) -> NotebookPage:
        """Load JupyterLab on this notebook and wait for an idle, connected kernel."""
        workspace = f"browser-test-{secrets.token_hex(4)}"
        self.page.goto(self.server.url(self.path, workspace), wait_until="domcontentloaded")
        self.page.wait_for_function(_READY_JS, arg=self.path, timeout=timeout * 1000, polling=250)
        panel_id = self.page.evaluate(_FIND_PANEL + "(path) => findPanel(path).id", self.path)
        self.panel = self.page.locator(f'[id="{panel_id}"]')
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        return self

    def find(self, selector: str):
        """Elements matching ``selector`` inside this notebook."""
        return self.panel.locator(selector)

    def command(self, command: str, args: dict | None = None) -> None:
        """Run a JupyterLab command by id, as the command palette would."""
        self.page.evaluate(_COMMAND_JS, [command, args])

    def progress(self) -> dict | None:
        return self.page.evaluate(_PROGRESS_JS, self.path)

    def run_all(self, timeout: float = 240.0) -> float:
        """Clear the stored outputs, then Run > Run All Cells from the menu; wait until done.

        Done means the kernel is idle, no cell shows ``[*]``, and every code cell
        has run (or a cell raised, which stops Run All there). Returns seconds.
        """
        self.command("notebook:clear-all-cell-outputs")
        self.page.wait_for_function(
            _FIND_PANEL + "(path) => findPanel(path).content.widgets.every("
            "c => c.model.type !== 'code' || c.model.executionCount === null)",
            arg=self.path,
            timeout=10_000,
        )
        started = time.monotonic()
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.locator(".lm-Menu-content .lm-Menu-item", has_text=re.compile(r"^Run All Cells")).first.click()
        deadline = started + timeout
        stable_since = None
        state = None
        while time.monotonic() < deadline:
            state = self.progress()
            done = (
                state is not None
                and state["kernel"] == "idle"
                and state["running"] == 0
                and (state["run"] == state["code"] or (state["errors"] > 0 and state["run"] > 0))
            )
            if done:
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since >= 1.0:  # idle and unchanged for a second
                    seconds = time.monotonic() - started
                    try:
                        slow = ", ".join(f"{c['id']} {c['seconds']:.1f} s" for c in self.slowest_cells())
                    except Exception:
                        slow = "?"
                    RUN_TIMES[self.path] = f"{seconds:.1f} s (slowest cells: {slow})"
                    return seconds
            else:
                stable_since = None
            time.sleep(0.25)
        self.screenshot(f"{Path(self.path).stem}-timeout")
        raise AssertionError(
            f"{self.path}: Run All Cells did not finish within {timeout:.0f} s; last state {state}; "
            f"JupyterLab's log ends with:\n{self.server.log_tail(15)}"
        )

    def slowest_cells(self, n: int = 3) -> list[dict]:
        """The ``n`` cells that took longest in the last run (JupyterLab's recorded timing)."""
        timings = self.page.evaluate(_TIMING_JS, self.path)
        return sorted(timings, key=lambda c: c["seconds"], reverse=True)[:n]

    # ------------------------------------------------------------------ reading
    def error_outputs(self) -> list[dict]:
        """Errors raised by cells, from the notebook model: ``{cell, id, ename, evalue}``."""
        return self.page.evaluate(_ERRORS_JS, self.path)

    def tracebacks_shown(self) -> list[str]:
        """Texts of the red output boxes on the page that look like a traceback (warnings do not)."""
        texts = self.find(STDERR_OUTPUT).all_inner_texts()
        return [text for text in texts if TRACEBACK.search(text)]

    def widget_failures(self) -> list[str]:
        """Output texts saying a widget could not be shown."""
        texts = self.find(".jp-OutputArea-output").all_inner_texts()
        return [text.strip()[:200] for text in texts if WIDGET_FAILURE.search(text)]

    def assert_no_errors(self) -> None:
        errors = self.error_outputs()
        shown = self.tracebacks_shown()
        broken = self.widget_failures()
        problems = []
        if errors:
            problems.append(
                "cells raised: "
                + "; ".join(f"cell {e['cell']} ({e['id']}): {e['ename']}: {e['evalue']}" for e in errors)
            )
        if shown:
            problems.append("tracebacks shown: " + " | ".join(t[:300] for t in shown))
        if broken:
            problems.append("widgets not displayed: " + " | ".join(broken))
        if self.page_errors:
            problems.append("uncaught errors in the page: " + " | ".join(e[:300] for e in self.page_errors))
        if problems:
            self.screenshot(f"{Path(self.path).stem}-errors")
        assert not problems, f"{self.path}: " + "\n".join(problems)

    def cell_of(self, selector: str):
        """The cell (``.jp-Cell``) holding ``selector``, scrolled into view."""
        cell = self.find(".jp-Cell").filter(has=self.page.locator(selector)).first
        cell.scroll_into_view_if_needed()
        return cell

    def screenshot(self, name: str, locator=None) -> Path:
        """Save ``name``.png under the screenshot folder: the window as the learner sees it, scrolled to ``locator``."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        try:
            if locator is not None:
                locator.first.evaluate("el => el.scrollIntoView({block: 'center', inline: 'nearest'})")
            self.page.screenshot(path=str(path))
        except Exception:  # a screenshot is evidence, never the reason a test fails
            pass
        return path

    def output_texts(self) -> list[str]:
        """The text of every output box of the notebook, top to bottom."""
        return self.find(".jp-OutputArea-output").all_inner_texts()

    def assert_committed_verdicts_shown(self, committed: Path) -> list[str]:
        """Every verdict line the committed notebook's check cells printed is in the page after Run All."""
        expected = committed_verdicts(committed)
        assert len(expected) >= 2, f"{committed.name} should commit at least two check verdicts, found {expected}"
        shown = "\n".join(self.output_texts())
        missing = [line for line in expected if line not in shown]
        assert not missing, f"{self.path}: verdicts not shown in the page after Run All: {missing}"
        return expected

    def shut_down_kernel(self) -> None:
        """Shut the notebook's kernel down through the REST API (frees its memory for the next test)."""
        try:
            for session in self.server.api("sessions"):
                if session.get("path") == self.path:
                    self.server.api(f"sessions/{session['id']}", method="DELETE")
        except Exception:
            pass

    # ------------------------------------------------------------------ one cell
    def cell_state(self, cell_id: str) -> dict:
        """``{index, source, count, replied, outputs, kernel}`` of cell ``cell_id``, from the notebook model."""
        state = self.page.evaluate(_CELL_JS, [self.path, cell_id])
        assert state is not None, f"{self.path}: no cell with id {cell_id!r}"
        return state

    def cell(self, cell_id: str):
        """The cell with id ``cell_id`` (``.jp-Cell``), scrolled into view."""
        cell = self.find(".jp-Notebook .jp-Cell").nth(self.cell_state(cell_id)["index"])
        cell.scroll_into_view_if_needed()
        return cell

    def cell_text(self, cell_id: str) -> str:
        """What the cell printed (its stream outputs and text results), as one string."""
        parts = []
        for output in self.cell_state(cell_id)["outputs"]:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            if output.get("output_type") == "error":
                text = f"{output.get('ename')}: {output.get('evalue')}"
            parts.append("".join(text) if isinstance(text, list) else text)
        return "".join(parts)

    def replace_last_line(self, cell_id: str, text: str) -> None:
        """Type ``text`` over the last line of the cell's code, after its indentation, as a learner does.

        Click into the editor, Ctrl+End (end of the cell), Shift+Home (select back to
        the indentation), then type. Waits until the notebook model holds the new line.
        """
        self.cell(cell_id).locator(".cm-content").click()
        keyboard = self.page.keyboard
        keyboard.press("Control+End")
        keyboard.press("Shift+Home")
        keyboard.type(text, delay=20)
        deadline = time.monotonic() + 10
        while not self.cell_state(cell_id)["source"].rstrip().endswith(text):
            assert time.monotonic() < deadline, (
                f"{self.path}: typing into {cell_id} gave {self.cell_state(cell_id)['source']!r}"
            )
            time.sleep(0.1)

    def run_cell(self, cell_id: str, timeout: float = 120.0) -> dict:
        """Select the cell and press Shift+Enter, as a learner does; wait until it has run and the kernel is idle.

        "Has run" is read from the reply time JupyterLab records in the cell's
        metadata at every run (the execution count may repeat a stored one).
        """
        before = self.cell_state(cell_id)["replied"]
        self.cell(cell_id).locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.cell_state(cell_id)
            if state["replied"] not in (None, before) and state["kernel"] == "idle":
                return state
            time.sleep(0.25)
        self.screenshot(f"{Path(self.path).stem}-{cell_id}-timeout")
        raise AssertionError(f"{self.path}: cell {cell_id} did not finish running within {timeout:.0f} s")

    # ------------------------------------------------------------------ acting
    def set_slider(self, slider, value: int) -> None:
        """Type ``value`` into an ipywidgets slider's readout and press Enter, as a learner can."""
        readout = slider.locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")

    def press_on_slider(self, slider, key: str, times: int = 1) -> None:
        """Focus a slider's handle and press ``key`` (ArrowRight, ArrowLeft, Home, End) ``times`` times."""
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        for _ in range(times):
            handle.press(key)

    def canvas(self, class_name: str):
        """The ``<canvas>`` of an ipycanvas widget given its class (the class sits on the canvas or around it)."""
        return self.find(f"canvas.{class_name}, .{class_name} canvas").first

    def drag(self, target, points: list[tuple[float, float]], steps: int = 6) -> None:
        """Press the mouse at the first point of ``target`` (fractions of its box), move through the rest, release."""
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box is not None, f"{target} is not visible"
        xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
        mouse = self.page.mouse
        mouse.move(*xy[0])
        mouse.down()
        for x, y in xy[1:]:
            mouse.move(x, y, steps=steps)
        mouse.up()
