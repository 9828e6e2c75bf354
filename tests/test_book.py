"""The course book (book/, ``make book``): its sources, and what it does to the chapters' copies.

The site itself is built and checked in Chromium by tests/browser/test_browser_book.py.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re

import pytest
import yaml

from .conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def _load_build():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def cells(path, kind: str | None = None):
    return [c for c in load(path)["cells"] if kind is None or c["cell_type"] == kind]


def image_count(cell) -> int:
    return sum(1 for output in cell.get("outputs", []) if build.is_image(output))


# ---------------------------------------------------------------------------- sources


def test_toc_lists_the_introduction_every_chapter_in_order_and_the_glossary():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    assert toc["format"] == "jb-book" and toc["root"] == "book/intro"
    files = [entry["file"] for entry in toc["chapters"]]
    assert files[:-1] == [f"chapters/{path.stem}" for path in CHAPTERS]
    assert files[-1] == "book/glossary"


def test_the_book_executes_nothing_and_loads_mathjax_from_itself():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["local_extensions"] == {"offline": "_ext"}
    source = (ROOT / "book" / "_ext" / "offline.py").read_text()
    assert 'mathjax_path = f"mathjax/MathJax.js' in source and "http" not in source.split('"""', 2)[2]


def test_glossary_defines_the_terms_the_issue_names():
    terms = set(build.glossary_terms().values())
    for term in ["C1", "S2", "C3", "S4", "C5", "F6", "F7", "stride", "padding", "connections", "RBF", "MAP"]:
        assert term in terms
    for term in ["SDLM", "trainable subsampling", "fan-in", "logits", "softmax", "cross-entropy", "epoch"]:
        assert term in terms
    assert {"batch", "augmentation"} <= terms and len(terms) >= 40


# ---------------------------------------------------------------------------- the chapters


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_picture_has_alt_text_in_its_cell_metadata(path):
    for cell in cells(path, "code"):
        n = image_count(cell)
        if not n:
            continue
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
        texts = alt if isinstance(alt, list) else [alt]
        assert alt is not None, f"{path.name} cell {cell['id']}: a picture without mystnb.image.alt"
        assert len(texts) == n, f"{path.name} cell {cell['id']}: {n} pictures, {len(texts)} alt texts"
        for alt_text in texts:
            assert isinstance(alt_text, str) and len(alt_text.split()) >= 12, (cell["id"], alt_text)
            assert "Figure size" not in alt_text and not alt_text.endswith(".png")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_links_between_chapters_and_to_the_glossary_resolve(path):
    terms = build.glossary_terms()
    markdown = "\n".join(text(c["source"]) for c in cells(path, "markdown"))
    for target in re.findall(r"\]\((\d\d_[a-z0-9_]+\.ipynb)\)", markdown):
        assert (ROOT / "chapters" / target).is_file(), f"{path.name} links to a missing chapter {target}"
        assert target != path.name, f"{path.name} links to itself"
    anchors = re.findall(r"\]\(\.\./book/glossary\.md#(term-[A-Za-z0-9-]+)\)", markdown)
    assert anchors, f"{path.name} links no glossary term"
    unknown = sorted(set(anchors) - set(terms))
    assert not unknown, f"{path.name} links terms the glossary lacks: {unknown}"
    assert len(anchors) == len(set(anchors)), f"{path.name} links a term more than once"


def test_chapters_that_mention_another_chapter_link_to_it():
    unlinked = []
    for path in CHAPTERS:
        for cell in cells(path, "markdown"):
            for line in text(cell["source"]).splitlines():
                if line.startswith("#"):
                    continue
                for match in re.finditer(r"(?<![\[\w])[Cc]hapter (\d{1,2})(?![\w\]])", line):
                    if int(match.group(1)) != int(path.name[:2]):
                        unlinked.append(f"{path.name}: {line.strip()[:80]}")
    assert not unlinked, "mentions of other chapters without a link:\n" + "\n".join(unlinked)


def test_every_glossary_term_is_used_somewhere():
    linked = set()
    for path in CHAPTERS:
        linked |= set(re.findall(r"glossary\.md#(term-[A-Za-z0-9-]+)", path.read_text(encoding="utf-8")))
    assert set(build.glossary_terms()) - linked == set()


# ---------------------------------------------------------------------------- what the book's copies get


def test_progress_bars_that_would_read_0_percent_are_dropped_and_the_epoch_lines_kept():
    nb = load(ROOT / "chapters" / "08_training_loop.ipynb")
    before = json.dumps(nb)
    assert "0%|" in before, "chapter 8 no longer records a progress bar; this test needs another example"
    prepared = build.prepare_notebook(nb, build.load_stand_ins(), build.glossary_terms())
    after = json.dumps(prepared)
    assert "0%|" not in after and "it/s]" not in after
    assert after.count("train loss") == before.count("train loss") > 0


def test_a_text_progress_bar_keeps_its_last_state():
    finished = "epoch 1:   0%|    | 0/4 [00:00<?, ?it/s]\repoch 1: 100%|####| 4/4 [00:01<00:00, 3.9it/s]\n"
    unfinished = "epoch 2:   0%|    | 0/4 [00:00<?, ?it/s]\repoch 2:  50%|##  | 2/4 [00:00<00:00, 4.0it/s]\n"
    cell = {
        "cell_type": "code",
        "outputs": [
            {"output_type": "stream", "name": "stderr", "text": finished + unfinished},
            {"output_type": "stream", "name": "stdout", "text": "done\n"},
        ],
    }
    assert build.drop_progress_bars(cell) == 1
    shown = cell["outputs"][0]["text"]
    assert "100%|####| 4/4" in shown and "0/4" not in shown and "2/4" not in shown
    assert cell["outputs"][1]["text"] == "done\n"


def test_every_widget_class_has_a_stand_in():
    import ipywidgets

    import lenet_course.widgets as course_widgets

    classes = {
        name
        for name in dir(course_widgets)
        if isinstance(getattr(course_widgets, name), type)
        and issubclass(getattr(course_widgets, name), ipywidgets.Widget)
    }
    stand_ins = build.load_stand_ins()
    assert classes == set(stand_ins)
    for name, stand_in in stand_ins.items():
        assert len(stand_in["does"].split()) >= 15, name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_widget_in_the_book_is_a_stand_in_that_says_it_runs_in_jupyterlab(path):
    stand_ins = build.load_stand_ins()
    nb = load(path)
    shown = [build.widget_class(c, set(stand_ins)) for c in nb["cells"] if c["cell_type"] == "code"]
    prepared = build.prepare_notebook(nb, stand_ins, build.glossary_terms())
    boxes = []
    for cell in prepared["cells"]:
        for output in cell.get("outputs", []):
            page = text(output.get("data", {}).get("text/html", ""))
            if "lenet-widget-stand-in" in page:
                boxes.append(page)
    assert len(boxes) == len([name for name in shown if name])
    for page in boxes:
        assert "runs live in JupyterLab" in page and "make lab" in page


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_widget_exercise_can_be_answered_in_plain_code(path):
    stand_ins = build.load_stand_ins()
    code = cells(path, "code")
    for i, cell in enumerate(code):
        name = build.widget_class(cell, set(stand_ins))
        if name is None or "without" not in stand_ins[name]:
            continue
        following = code[i + 1 : i + 3]
        tags = [c["metadata"].get("tags", []) for c in following]
        assert len(tags) == 2 and "exercise" in tags[0] and "check" in tags[1], (
            f"{path.name}: the {name} in cell {cell['id']} is not followed by an exercise cell and its check"
        )


def test_cells_with_several_pictures_are_split_so_each_gets_its_own_alt_text():
    nb = load(ROOT / "chapters" / "02_c1_convolution.ipynb")
    several = [c for c in nb["cells"] if image_count(c) > 1]
    assert several, "chapter 2 no longer has a cell with two pictures; this test needs another example"
    split = build.split_images(copy.deepcopy(nb["cells"]))
    assert len(split) == len(nb["cells"]) + sum(image_count(c) - 1 for c in several)
    for cell in split:
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        if image_count(cell):
            assert image_count(cell) == 1 and isinstance(alt, str) and alt
    second = next(c for c in split if c.get("id") == several[0]["id"] + "-1")
    assert "remove-input" in second["metadata"]["tags"] and second["source"].startswith("#")


def test_split_images_refuses_a_wrong_number_of_alt_texts():
    cell = {
        "cell_type": "code",
        "id": "x",
        "metadata": {"mystnb": {"image": {"alt": ["only one"]}}},
        "outputs": [{"output_type": "display_data", "data": {"image/png": "AA=="}}] * 2,
        "source": "",
    }
    with pytest.raises(ValueError, match="1 alt texts for 2 images"):
        build.split_images([cell])


def test_solutions_are_folded_and_glossary_links_become_terms():
    cell = {"cell_type": "code", "metadata": {"tags": ["exercise"]}, "outputs": [], "source": ""}
    assert build.fold_solutions(cell) and cell["metadata"]["tags"] == ["exercise", "hide-input"]
    assert not build.fold_solutions(cell)
    terms = build.glossary_terms()
    markdown = "a [stride](../book/glossary.md#term-stride) and [C1's](../book/glossary.md#term-C1) maps"
    assert build.glossary_roles(markdown, terms) == "a {term}`stride <stride>` and {term}`C1's <C1>` maps"
    with pytest.raises(ValueError, match="no term for #term-nothing"):
        build.glossary_roles("[x](../book/glossary.md#term-nothing)", terms)
