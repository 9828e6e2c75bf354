"""Keep committed chapters free of what changes from one run to the next (for course authors).

    python tools/notebook_hygiene.py chapters/*.ipynb          # clean in place
    python tools/notebook_hygiene.py --check chapters/*.ipynb  # exit 1 if any would change

Removed: each cell's execution timing (``metadata.execution``), saved widget
state, the widget model ids in outputs (a widget shows its text form until the
chapter is run again, as without them), and the Python patch version in
``language_info``. Adjacent printed outputs of the same stream are joined into
one, since the kernel splits them wherever a progress bar happened to be drawn
(nbval joins them too before it compares). Kept: sources, outputs, execution counts, cell ids, tags and
the course's own metadata. ``make notebooks`` runs this after executing the
chapters; the pre-commit hook and ``tests/test_notebooks.py`` check it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def clean(nb: dict) -> dict:
    """``nb`` (a notebook as JSON data) without run-dependent metadata; changed in place and returned."""
    meta = nb.setdefault("metadata", {})
    meta.pop("widgets", None)
    meta["kernelspec"] = dict(KERNELSPEC)
    language = meta.get("language_info")
    if isinstance(language, dict):
        language.pop("version", None)
    for cell in nb.get("cells", []):
        cell_meta = cell.get("metadata", {})
        cell_meta.pop("execution", None)
        cell_meta.pop("collapsed", None)
        cell_meta.pop("scrolled", None)
        outputs = cell.get("outputs", [])
        for output in outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
        # a widget output with nothing left to show is dropped
        cell_outputs = [o for o in outputs if not (o.get("output_type") == "display_data" and not o.get("data"))]
        if "outputs" in cell:
            cell["outputs"] = _join_streams(cell_outputs)
    return nb


def _text(output: dict) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def _join_streams(outputs: list[dict]) -> list[dict]:
    """Each run of adjacent stream outputs with the same name (stdout, stderr) as one output."""
    joined: list[dict] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (
            last is not None
            and output.get("output_type") == "stream" == last.get("output_type")
            and output.get("name") == last.get("name")
        ):
            last["text"] = (_text(last) + _text(output)).splitlines(keepends=True)
        else:
            joined.append(output)
    return joined


def dumps(nb: dict) -> str:
    """The notebook as Jupyter writes it: one-space indent, keys sorted, a final newline."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not clean")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        cleaned = dumps(clean(json.loads(text)))
        if cleaned != text:
            dirty.append(path)
            if not args.check:
                path.write_text(cleaned, encoding="utf-8")
    verb = "would clean" if args.check else "cleaned"
    for path in dirty:
        print(f"{verb} {path}")
    return 1 if dirty and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
