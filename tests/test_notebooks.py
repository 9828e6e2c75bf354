"""Structural checks of the chapters; nbval runs them (make test-notebooks)."""

import json
import re

import pytest

from .conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
SOLUTION = re.compile(r"^\s*### BEGIN SOLUTION\s*$.*?^\s*### END SOLUTION\s*$", re.M | re.S)


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def as_text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def source(cell) -> str:
    return as_text(cell["source"])


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("lenet_course", {})


def test_chapters_are_numbered_in_order():
    numbers = [int(p.name[:2]) for p in CHAPTERS]
    assert numbers == list(range(len(numbers))) and len(numbers) >= 11


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_structure(path):
    nb = load(path)
    number = int(path.name[:2])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"], "saved widget state: execute with store_widget_state=False"
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and source(cells[0]).startswith("# ")
    assert any(c["cell_type"] == "code" and "setup(" in source(c) for c in cells[:6]), "one setup cell near the top"

    counts = [c["execution_count"] for c in cells if c["cell_type"] == "code" and c.get("execution_count")]
    assert counts == sorted(counts), "executed top to bottom, in order"
    for i, cell in enumerate(cells):
        assert cell.get("id"), f"cell {i} has no id"
        if cell["cell_type"] == "code":
            assert not any(o["output_type"] == "error" for o in cell["outputs"]), f"cell {i} has an error output"
            if cell["outputs"]:
                assert cell["execution_count"] is not None, f"cell {i} has outputs but no execution count"
            assert "/work/" not in source(cell) and "/tmp/" not in source(cell)

    exercises = [c for c in cells if "exercise" in c["metadata"].get("tags", [])]
    checks = [c for c in cells if "check" in c["metadata"].get("tags", [])]
    assert len(exercises) >= 2, "at least two exercises"
    assert len(checks) >= 2, "at least two check cells"
    for cell in exercises:
        key = meta(cell)["exercise"]
        assert key.split(".")[0] == str(number), f"exercise {key} in chapter {number}"
        assert cell["id"] == "ex-" + key.replace(".", "-")
        assert SOLUTION.search(source(cell)), f"exercise {key} has no BEGIN/END SOLUTION markers"
    compared = [c for c in checks if "nbval-check-output" in c["metadata"].get("tags", [])]
    assert len(compared) == len(checks) >= 2, "every check cell is compared by nbval"
    for cell in checks:
        key = meta(cell)["check"]
        assert cell["id"] == "check-" + key.replace(".", "-")
        text = "".join(as_text(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")
        assert f"Exercise {key}:" in text, f"check {key} has no committed verdict"
    assert {meta(c)["check"] for c in checks} == {meta(c)["exercise"] for c in exercises}, "each exercise has its check"
    assert re.search(
        r"^#+ .*(Summary|summary)", "\n".join(source(c) for c in cells if c["cell_type"] == "markdown"), re.M
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_carries_no_run_dependent_metadata(path):
    """Re-running an unchanged chapter must change nothing but outputs that truly vary (``make notebooks``)."""
    from tools.notebook_hygiene import WIDGET_VIEW, clean, dumps

    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    for i, cell in enumerate(nb["cells"]):
        assert "execution" not in cell["metadata"], f"cell {i} carries execution timing metadata"
        for output in cell.get("outputs", []):
            assert WIDGET_VIEW not in output.get("data", {}), f"cell {i} carries a widget model id"
    assert "version" not in nb["metadata"].get("language_info", {}), "the Python version of the last run"
    assert dumps(clean(json.loads(text))) == text, "run `make format` (tools/notebook_hygiene.py) on this chapter"


def test_hygiene_joins_adjacent_prints_of_one_stream_and_keeps_the_rest_apart():
    from tools.notebook_hygiene import WIDGET_VIEW, clean

    def stream(name, text):
        return {"output_type": "stream", "name": name, "text": text}

    bar = {"output_type": "display_data", "data": {WIDGET_VIEW: {"model_id": "x"}}, "metadata": {}}
    picture = {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
    cell = {"cell_type": "code", "metadata": {}, "source": "", "execution_count": 1}
    cell["outputs"] = [
        stream("stdout", ["loading\n"]),
        bar,  # a progress bar: dropped, and the prints around it become one
        stream("stdout", "epoch 1\nepoch 2\n"),
        stream("stderr", ["warning\n"]),
        stream("stdout", ["done\n"]),
        picture,
        stream("stdout", ["after the picture\n"]),
    ]
    outputs = clean({"cells": [cell], "metadata": {}})["cells"][0]["outputs"]
    assert [(o["output_type"], o.get("name")) for o in outputs] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
        ("stream", "stdout"),
        ("display_data", None),
        ("stream", "stdout"),
    ]
    assert outputs[0]["text"] == ["loading\n", "epoch 1\n", "epoch 2\n"]
    assert outputs[2]["text"] == ["done\n"] and outputs[4]["text"] == ["after the picture\n"]
