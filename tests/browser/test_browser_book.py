"""The course book (``make book``) built once, served on 127.0.0.1 and read page by page in headless Chromium.

Every page must render without errors and with nothing fetched from outside
the site; every link inside the site must lead to a page (and to an element of
that page when it names one); every picture must carry a real alt text; the
table of contents must list the introduction, the chapters in order and the
glossary. Screenshots of the index and two chapters land in ``artifacts/book/``;
the counts in ``artifacts/book/summary.json`` and in the terminal summary.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from .jupyterlab_driver import REPO, REPORT

pytestmark = pytest.mark.browser

CHAPTERS = sorted((REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))
SHOTS = REPO / "artifacts" / "book"

# What each page shows, read in the page after it has loaded and MathJax has finished.
# Sphinx's formulas, and what MathJax puts inside one once it has typeset it.
_TYPESET = (
    "const FORMULAS = 'span.math.notranslate, div.math.notranslate';"
    "const TYPESET = '.MathJax, .MathJax_Display, .MathJax_SVG, .MathJax_CHTML';"
)
_READ_PAGE = (
    _TYPESET
    + """
() => {
  const main = document.querySelector('main') || document.body;
  const nav = [...document.querySelectorAll('nav.bd-docs-nav a.reference')].map(a => ({
    text: a.textContent.trim(), href: a.href}));
  return {
    title: (document.querySelector('main h1') || {}).textContent || '',
    text: main.innerText.length,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: [...document.querySelectorAll('img')].map(img => ({
      src: img.getAttribute('src'), alt: img.getAttribute('alt'), width: img.naturalWidth})),
    nav: nav,
    prev: (document.querySelector('a.left-prev') || {}).href || null,
    next: (document.querySelector('a.right-next') || {}).href || null,
    math: document.querySelectorAll(FORMULAS).length,
    typeset: [...document.querySelectorAll(FORMULAS)].filter(e => e.querySelector(TYPESET)).length,
  };
}
"""
)
# Done when every formula of the page holds MathJax's output (a page without formulas is done at once).
_MATHJAX_DONE = _TYPESET + "() => [...document.querySelectorAll(FORMULAS)].every(e => e.querySelector(TYPESET))"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The book built from the committed chapters into a temporary folder, served over HTTP on 127.0.0.1."""
    out = tmp_path_factory.mktemp("book")
    build = subprocess.run(
        [sys.executable, str(REPO / "book" / "build.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, f"make book failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    root = out / "html"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(root=root, base=f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()


def page_paths(root: Path) -> list[str]:
    """Every HTML page of the site, relative to its root (Sphinx's template fragments left out)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html") if "_static" not in p.parts)


@pytest.fixture(scope="module")
def crawl(chromium, site):
    """Load every page once; return what each showed, the requests that tried to leave the site, and errors."""
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(60_000)
    outside: list[str] = []

    def route(route):
        if route.request.url.startswith(site.base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    pages = {}
    try:
        # The site's front door redirects to the introduction.
        page.goto(site.base + "index.html", wait_until="load")
        page.wait_for_url(site.base + "book/intro.html")
        pages["index.html"] = {"status": 200, "redirects_to": "book/intro.html"}
        for path in page_paths(site.root):
            if path == "index.html":
                continue
            response = page.goto(site.base + path, wait_until="load")
            page.wait_for_function(_MATHJAX_DONE, timeout=60_000, polling=200)
            pages[path] = {"status": response.status, **page.evaluate(_READ_PAGE)}
            if path in ("book/intro.html", "chapters/01_output_size_formula.html"):
                shot = "index" if path == "book/intro.html" else "ch01"
                SHOTS.mkdir(parents=True, exist_ok=True)
                if shot == "ch01":
                    page.locator(".lenet-widget-stand-in").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / f"{shot}.png"))
            if path == "chapters/09_prediction_gallery.html":
                page.locator("main img").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / "ch09.png"))
    finally:
        context.close()
    return SimpleNamespace(pages=pages, outside=outside, errors=errors, failed=failed)


def local_target(site, href: str) -> tuple[str, str] | None:
    """(page path, fragment) of a link inside the site, or None for a link that leaves it."""
    if not href.startswith(site.base):
        return None
    url, fragment = urldefrag(href)
    path = unquote(urlparse(url).path).lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return path, fragment


def test_every_page_renders_offline_without_errors(crawl, site):
    pages = crawl.pages
    assert "index.html" in pages and "book/intro.html" in pages and "book/glossary.html" in pages
    for path in (f"chapters/{p.stem}.html" for p in CHAPTERS):
        assert path in pages, f"{path} was not built"
        assert pages[path]["status"] == 200 and pages[path]["title"].startswith("Chapter"), path
        assert pages[path]["text"] > 2000, f"{path} shows almost nothing"
    assert not crawl.errors, "errors in the pages:\n" + "\n".join(crawl.errors)
    assert not crawl.failed, "requests that failed:\n" + "\n".join(crawl.failed)
    assert not crawl.outside, "the site reached outside itself:\n" + "\n".join(sorted(set(crawl.outside)))


def test_formulas_are_typeset_by_the_site_s_own_mathjax(crawl):
    chapter1 = crawl.pages["chapters/01_output_size_formula.html"]
    assert chapter1["math"] > 20 and chapter1["typeset"] == chapter1["math"]


def test_no_link_inside_the_site_is_broken(crawl, site):
    broken, checked = [], 0
    for path, shown in crawl.pages.items():
        for href in shown.get("links", []):
            target = local_target(site, href)
            if target is None:
                continue
            goal, fragment = target
            checked += 1
            if goal.endswith(".html"):
                if goal not in crawl.pages:
                    broken.append(f"{path} -> {goal} (no such page)")
                elif fragment and fragment not in crawl.pages[goal]["ids"]:
                    broken.append(f"{path} -> {goal}#{fragment} (no such element)")
            elif not (site.root / goal).is_file():
                broken.append(f"{path} -> {goal} (no such file)")
    REPORT["links"] = checked
    assert checked > 500, f"only {checked} links inside the site: the crawl missed pages"
    assert not broken, f"{len(broken)} of {checked} links are broken:\n" + "\n".join(broken[:40])


def test_chapters_link_each_other_and_the_glossary(crawl, site):
    for path in CHAPTERS[1:]:
        shown = crawl.pages[f"chapters/{path.stem}.html"]
        goals = {local_target(site, href) for href in shown["links"]}
        glossary = [g for g in goals if g and g[0] == "book/glossary.html" and g[1].startswith("term-")]
        assert len(glossary) >= 3, f"{path.stem} links {len(glossary)} glossary terms"
    chapter4 = crawl.pages["chapters/04_c3_s4.html"]
    goals = {local_target(site, href)[0] for href in chapter4["links"] if local_target(site, href)}
    assert "chapters/01_output_size_formula.html" in goals  # "The formula from chapter 1"


def test_every_picture_has_alt_text_written_for_a_reader(crawl):
    pictures = []
    for path, shown in crawl.pages.items():
        for image in shown.get("images", []):
            pictures.append((path, image))
            name = Path(image["src"] or "").name
            assert image["width"] > 0, f"{path}: {image['src']} did not load"
            assert image["alt"] and image["alt"].strip(), f"{path}: {image['src']} has no alt text"
            assert image["alt"] not in (name, Path(name).stem), f"{path}: alt text is the file name"
            assert len(image["alt"].split()) >= 12, f"{path}: alt text too short: {image['alt']!r}"
    committed = 0
    for chapter in CHAPTERS:
        for cell in json.loads(chapter.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                committed += any(mime.startswith("image/") for mime in output.get("data", {}))
    in_chapters = [p for p in pictures if p[0].startswith("chapters/")]
    assert len(in_chapters) == committed > 20
    REPORT["images"] = len(pictures)


def test_table_of_contents_lists_every_chapter_in_order_with_previous_and_next(crawl, site):
    nav = crawl.pages["book/intro.html"]["nav"]
    order = [local_target(site, link["href"])[0] for link in nav]
    expected = ["book/intro.html"] + [f"chapters/{p.stem}.html" for p in CHAPTERS] + ["book/glossary.html"]
    assert order == expected, [link["text"] for link in nav]
    numbers = [int(m.group(1)) for m in (re.match(r"Chapter (\d+)", link["text"]) for link in nav) if m]
    assert numbers == list(range(len(CHAPTERS)))
    for before, page, after in zip(expected, expected[1:], expected[2:]):
        shown = crawl.pages[page]
        assert local_target(site, shown["prev"])[0] == before, page
        assert local_target(site, shown["next"])[0] == after, page
    REPORT["pages"] = len(crawl.pages)


def test_widgets_are_stand_ins_and_no_progress_bar_reads_0_percent(chromium, site):
    page = chromium.new_page()
    try:
        page.goto(site.base + "chapters/08_training_loop.html", wait_until="load")
        text = page.inner_text("main")
        assert "0%|" not in text and "it/s]" not in text
        assert "epoch   1/3  train loss" in text
        stand_ins = page.locator(".lenet-widget-stand-in")
        assert stand_ins.count() == 2  # the quiz and the training controls
        assert "It runs live in JupyterLab" in stand_ins.first.inner_text()
    finally:
        page.close()


def test_summary(crawl):
    """Write the counts the issue asks for (runs last in this module)."""
    summary = {
        "pages": len(crawl.pages),
        "links_checked": REPORT.get("links"),
        "images_with_alt_text": REPORT.get("images"),
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    REPORT["book"] = (
        f"book: {summary['pages']} pages, {summary['links_checked']} links checked, "
        f"{summary['images_with_alt_text']} images with alt text; screenshots in artifacts/book/"
    )
    assert summary["pages"] >= len(CHAPTERS) + 2
