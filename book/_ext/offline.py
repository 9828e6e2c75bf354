"""Sphinx extension of the course book: a site that works offline, formulas included.

Sphinx loads MathJax from a CDN by default. This extension points it at the
copy of MathJax 2.7 that the ``jupyter-server-mathjax`` package ships, and
copies that copy into ``_static/mathjax`` of the built site. Math nodes are
rendered as ``\\(...\\)`` and ``\\[...\\]`` inside elements of class ``math``;
MathJax is told to process those elements only, so dollar signs in code and
outputs stay as they are.

It also takes out the scripts of sphinx-thebe, which Jupyter Book 1 always
loads: they would only run the pages' code on a remote server, which this
book has none of, and Jupyter Book 1.0 writes their configuration twice, so
every page started with a JavaScript error.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

CONFIG = "TeX-AMS-MML_HTMLorMML-full"


def mathjax_source() -> Path:
    """The folder holding ``MathJax.js`` in the installed ``jupyter_server_mathjax`` package."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _configure(app: Sphinx, config) -> None:
    config.mathjax_path = f"mathjax/MathJax.js?config={CONFIG}"
    config.mathjax3_config = None
    config.mathjax2_config = {
        "tex2jax": {
            "inlineMath": [["\\(", "\\)"]],
            "displayMath": [["\\[", "\\]"]],
            "processEscapes": False,
            "processEnvironments": False,
            "ignoreClass": "tex2jax_ignore|mathjax_ignore|bd-container",
            "processClass": "math|tex2jax_process|mathjax_process",
        },
        # The package ships the STIX web fonts only (not MathJax's TeX fonts).
        "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
        "SVG": {"font": "STIX-Web"},
        "messageStyle": "none",
        "menuSettings": {"zoom": "Click"},
    }


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_asset(str(mathjax_source()), str(Path(app.outdir) / "_static" / "mathjax"))


def _without_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts is None:
        return

    def thebe(script) -> bool:
        name = str(getattr(script, "filename", script) or "")
        body = str(getattr(script, "attributes", {}).get("body", ""))
        return "thebe" in name or "THEBE_JS_URL" in body

    scripts[:] = [script for script in scripts if not thebe(script)]
    context["css_files"] = [css for css in context.get("css_files", []) if "thebe" not in str(css)]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _without_thebe, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
