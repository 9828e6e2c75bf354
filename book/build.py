"""Build the course book, a static HTML site of every chapter: ``make book`` (``python book/build.py``).

The site is made from the committed chapters and their outputs with Jupyter
Book 1.x (Sphinx and MyST-NB, execution off): nothing is run, nothing is
fetched from the internet. The chapters themselves are never changed: this
script copies ``book/`` and ``chapters/`` side by side into a staging folder
(``book/_build/src``), prepares the chapter copies for a page that cannot run
code, and builds the site into ``book/_build/html``.

What the copies get, and why (each step is one function below):

- ``drop_progress_bars``: the text a tqdm widget bar leaves in a notebook is
  its first state, "0%", so those outputs are dropped; a text bar keeps its
  last state, and one that never finished is dropped.
- ``stand_in_for_widgets``: a widget's text form (``FormulaExplorer(W=32, ...)``)
  becomes a box that says what the widget does and that it runs live in
  JupyterLab, from ``book/widgets.yml``.
- ``split_images``: a cell whose ``mystnb.image.alt`` metadata is a list (one
  text per image) is split, so that every image gets its own alt text;
  MyST-NB applies a string ``alt`` to the cell's one image itself.
- ``fold_solutions``: the worked solution in an exercise cell is folded
  (tag ``hide-input``), one click away.
- ``glossary_roles``: links ``[text](../book/glossary.md#term-...)`` become
  Sphinx ``{term}`` references, so that a missing term fails the build.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
REPO = BOOK.parent
CHAPTERS = REPO / "chapters"
BUILD = BOOK / "_build"
GLOSSARY = BOOK / "glossary.md"
STAND_INS = BOOK / "widgets.yml"

# ---------------------------------------------------------------------------- progress bars

# A tqdm bar as text: "epoch 1/3:   0%|          | 0/125 [00:00<?, ?it/s]"
TQDM_BAR = re.compile(r"^.*?(\d{1,3})%\|[^|]*\|\s*(\d+(?:\.\d+)?[kMG]?)/(\d+(?:\.\d+)?[kMG]?)\b.*$")


def _is_unfinished_bar(line: str) -> bool:
    match = TQDM_BAR.match(line.strip())
    return bool(match) and (match.group(1) != "100" or match.group(2) != match.group(3))


def _last_states(text: str) -> str:
    """``text`` as a terminal shows it: of each line rewritten with carriage returns, its last state."""
    lines = []
    for line in text.split("\n"):
        states = [state for state in line.split("\r") if state.strip()]
        lines.append(states[-1] if states else "")
    return "\n".join(lines)


def drop_progress_bars(cell: dict) -> int:
    """Remove tqdm bars that would read "0%" (or any unfinished state) in a static page; return how many."""
    dropped = 0
    kept = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "display_data" and set(data) == {"text/plain"}:
            text = "".join(data["text/plain"])
            if TQDM_BAR.match(text.strip()):  # a widget bar's text form is its first state
                dropped += 1
                continue
        if output.get("output_type") == "stream":
            text = "".join(output.get("text", ""))
            if "\r" in text or TQDM_BAR.search(text):
                lines = _last_states(text).split("\n")
                remaining = [line for line in lines if not _is_unfinished_bar(line)]
                dropped += len(lines) - len(remaining)
                text = "\n".join(remaining)
                if not text.strip():
                    continue
                output = {**output, "text": text}
        kept.append(output)
    if "outputs" in cell:
        cell["outputs"] = kept
    return dropped


# ---------------------------------------------------------------------------- widgets

WIDGET_REPR = re.compile(r"^([A-Z][A-Za-z]+)\(")


def load_stand_ins(path: Path = STAND_INS) -> dict[str, dict]:
    """The stand-in of each widget class: ``{"FormulaExplorer": {"title": ..., "does": ...}, ...}``."""
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def widget_class(cell: dict, widget_names: set[str]) -> str | None:
    """The course widget a code cell displays (from its text form), or None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") in ("execute_result", "display_data"):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            match = WIDGET_REPR.match(text)
            if match and match.group(1) in widget_names:
                return match.group(1)
    return None


def stand_in_html(name: str, stand_in: dict, shown: str) -> str:
    """The box that replaces a widget in the book."""
    paragraphs = [
        f"<p><strong>Interactive widget: {html.escape(stand_in['title'])}.</strong> "
        f"{html.escape(stand_in['does'])}</p>",
        "<p>It runs live in JupyterLab (or Jupyter Notebook 7): open this chapter with <code>make lab</code> "
        "and run its cells. This page is a static copy and cannot run it.</p>",
    ]
    if stand_in.get("without"):
        paragraphs.append(f"<p><em>Without widgets:</em> {html.escape(stand_in['without'])}</p>")
    paragraphs.append(f"<p>In its starting state it reads <code>{html.escape(shown)}</code>.</p>")
    return (
        f'<div class="lenet-widget-stand-in admonition note" role="note" data-widget="{html.escape(name)}">'
        f'<p class="admonition-title">Widget: {html.escape(name)}</p>' + "".join(paragraphs) + "</div>"
    )


def stand_in_for_widgets(cell: dict, stand_ins: dict[str, dict]) -> str | None:
    """Replace a widget's text form by its stand-in; return the widget's class name, or None."""
    name = widget_class(cell, set(stand_ins))
    if name is None:
        return None
    outputs = []
    for output in cell["outputs"]:
        text = "".join(output.get("data", {}).get("text/plain", ""))
        if output.get("output_type") in ("execute_result", "display_data") and text.startswith(name + "("):
            output = {
                "output_type": "display_data",
                "metadata": {},
                "data": {"text/html": stand_in_html(name, stand_ins[name], text), "text/plain": text},
            }
        outputs.append(output)
    cell["outputs"] = outputs
    return name


# ---------------------------------------------------------------------------- images


def is_image(output: dict) -> bool:
    return any(mime.startswith("image/") for mime in output.get("data", {}))


def split_images(cells: list[dict]) -> list[dict]:
    """Cells with one image each where ``mystnb.image.alt`` is a list of texts, one per image."""
    result = []
    for cell in cells:
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        if not isinstance(alt, list):
            result.append(cell)
            continue
        images = [i for i, output in enumerate(cell.get("outputs", [])) if is_image(output)]
        if len(alt) != len(images):
            cell_id = cell.get("id", "?")
            raise ValueError(f"cell {cell_id}: {len(alt)} alt texts for {len(images)} images")
        pieces: list[dict] = []
        start = 0
        for k in range(len(images)):
            end = images[k + 1] if k + 1 < len(images) else len(cell["outputs"])
            piece = copy.deepcopy(cell)
            piece["outputs"] = cell["outputs"][start:end]
            piece["metadata"]["mystnb"]["image"]["alt"] = alt[k]
            if k:
                piece["id"] = f"{cell.get('id', 'cell')}-{k}"
                piece["source"] = f"# (picture {k + 1} of the cell above)"  # MyST-NB skips a cell without code
                piece["metadata"]["tags"] = [*piece["metadata"].get("tags", []), "remove-input"]
            pieces.append(piece)
            start = end
        result += pieces
    return result


# ---------------------------------------------------------------------------- solutions and glossary


def fold_solutions(cell: dict) -> bool:
    """Fold the code of an exercise cell (its worked solution) behind a click; True when folded."""
    tags = cell.get("metadata", {}).get("tags", [])
    if cell.get("cell_type") == "code" and "exercise" in tags and "hide-input" not in tags:
        cell["metadata"]["tags"] = [*tags, "hide-input"]
        return True
    return False


GLOSSARY_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./book/)?glossary\.md#(term-[A-Za-z0-9-]+)\)")


def slug(term: str) -> str:
    """The anchor of a glossary term, as Sphinx makes it: ``term-`` and the term, other characters as ``-``."""
    return "term-" + re.sub(r"[^A-Za-z0-9]+", "-", term).strip("-")


def glossary_terms(path: Path = GLOSSARY) -> dict[str, str]:
    """Every term of the glossary page, by its anchor: ``{"term-stride": "stride", ...}``."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.S | re.M)
    if block is None:
        raise ValueError(f"{path} has no {{glossary}} block")
    terms = [line.strip() for line in block.group(1).splitlines() if line.strip() and not line[0].isspace()]
    return {slug(term): term for term in terms}


def glossary_roles(markdown: str, terms: dict[str, str]) -> str:
    """Turn glossary links into ``{term}`` references; an unknown anchor raises ValueError."""

    def role(match: re.Match) -> str:
        text, anchor = match.groups()
        if anchor not in terms:
            raise ValueError(f"the glossary has no term for #{anchor} (link text {text!r})")
        return f"{{term}}`{text} <{terms[anchor]}>`"

    return GLOSSARY_LINK.sub(role, markdown)


# ---------------------------------------------------------------------------- a chapter


def prepare_notebook(nb: dict, stand_ins: dict[str, dict], terms: dict[str, str]) -> dict:
    """A copy of chapter ``nb`` ready for a static page (see the module's docstring)."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            cell["source"] = glossary_roles(source, terms)
        elif cell["cell_type"] == "code":
            drop_progress_bars(cell)
            stand_in_for_widgets(cell, stand_ins)
            fold_solutions(cell)
    nb["cells"] = split_images(nb["cells"])
    return nb


def stage(target: Path) -> Path:
    """Copy the book's sources and the prepared chapters into ``target`` (emptied first)."""
    if target.exists():
        shutil.rmtree(target)
    (target / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(BOOK / name, target / name)
    for path in BOOK.glob("*.md"):
        text = glossary_roles(path.read_text(encoding="utf-8"), glossary_terms())
        (target / "book" / path.name).write_text(text, encoding="utf-8")
    shutil.copytree(BOOK / "_ext", target / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "chapters").mkdir()
    stand_ins = load_stand_ins()
    terms = glossary_terms()
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        prepared = prepare_notebook(nb, stand_ins, terms)
        (target / "chapters" / path.name).write_text(json.dumps(prepared, indent=1), encoding="utf-8")
    return target


def build(out: Path = BUILD, quiet: bool = True) -> Path:
    """Stage and build the site under ``out``; return the folder of ``index.html``. Warnings fail the build."""
    from jupyter_book.sphinx import build_sphinx

    out = Path(out).resolve()
    source = stage(out / "src")
    html_dir = out / "html"
    status = build_sphinx(
        source,
        html_dir,
        use_external_toc=True,
        noconfig=True,
        path_config=str(source / "_config.yml"),
        confoverrides={"external_toc_path": str(source / "_toc.yml"), "latex_individualpages": False},
        builder="html",
        warningiserror=True,
        keep_going=True,
        freshenv=True,
        verbosity=0,
        quiet=quiet,
        really_quiet=False,
    )
    if status != 0:
        raise SystemExit(f"the book did not build (Sphinx status {status}); its warnings are above")
    return html_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUILD, help="build folder (default book/_build)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    start = time.monotonic()
    html_dir = build(args.out, quiet=not args.verbose)
    pages = len(list(html_dir.rglob("*.html")))
    print(f"The book: {html_dir / 'index.html'} ({pages} HTML files, {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
