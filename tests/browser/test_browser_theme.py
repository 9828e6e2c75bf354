"""The formula explorer of chapter 1 in JupyterLab's light and dark themes: its verdicts stay readable.

For each verdict the widgets show (the explorer's "Output size" and "Does not
tile" lines, the exercise's wrong and right verdicts) the test reads the text
colour and the background the page really paints behind it (walking up to the
first opaque background, blending any translucent ones on the way) and
computes WCAG's contrast ratio, which must be at least 4.5:1 in both themes.
The ratios go to ``artifacts/browser/contrast.json`` and the terminal summary;
screenshots of the explorer in each theme to ``artifacts/browser/``.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .jupyterlab_driver import REPORT, SCREENSHOTS

pytestmark = pytest.mark.browser

CHAPTER = "01_output_size_formula.ipynb"
EXPLORER = ".jp-Cell:not(:has(.lenet-formula-exercise)) .lenet-formula"
EXERCISE = ".lenet-formula-exercise"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
WCAG_AA = 4.5

# The contrast of an element's text against what is painted behind it, as WCAG 2 defines it.
_CONTRAST = """
(el) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {  // any CSS colour the browser computed, as [r, g, b, alpha]
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = 'rgba(0, 0, 0, 0)';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour[3] > 0) {
      layers.push(colour);
      if (colour[3] >= 0.999) break;
    }
  }
  let background = [255, 255, 255, 1];  // behind the page
  for (const layer of layers.reverse()) background = over(layer, background);
  const text = over(rgba(getComputedStyle(el).color), background);
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const [a, b] = [luminance(text), luminance(background)];
  return {
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    text: text.slice(0, 3).map(Math.round),
    background: background.slice(0, 3).map(Math.round),
    background_luminance: b,
    says: el.innerText.trim().split('\\n')[0],
  };
}
"""


def set_theme(nb, name: str) -> None:
    nb.command("apputils:change-theme", {"theme": name})
    nb.page.wait_for_function("(name) => document.body.dataset.jpThemeName === name", arg=name, timeout=30_000)


@pytest.fixture(scope="module")
def chapter(notebook_opener):
    with notebook_opener(CHAPTER) as nb:
        nb.run_all(timeout=180)
        try:
            yield nb
        finally:  # the theme is a user setting of the shared JupyterLab: leave it light
            set_theme(nb, THEMES["light"])


def verdicts_in_this_theme(nb, theme: str) -> dict[str, dict]:
    """Contrast of the four verdicts the explorer and the exercise show; the widgets are left as found."""
    explorer = nb.find(EXPLORER).first
    result = explorer.locator(".lenet-formula-result span")
    measured = {}
    expect(result).to_have_text("Output size: 28")
    measured["explorer, tiles"] = result.evaluate(_CONTRAST)
    nb.screenshot(f"ch01-explorer-{theme}", explorer)
    nb.press_on_slider(explorer.locator(".lenet-formula-stride"), "ArrowRight")
    expect(result).to_contain_text("Does not tile")
    measured["explorer, does not tile"] = result.evaluate(_CONTRAST)
    nb.screenshot(f"ch01-explorer-{theme}-does-not-tile", explorer)
    nb.press_on_slider(explorer.locator(".lenet-formula-stride"), "ArrowLeft")
    expect(result).to_have_text("Output size: 28")

    exercise = nb.find(EXERCISE).first
    verdict = exercise.locator(".lenet-exercise-verdict pre")
    exercise.locator(".lenet-exercise-check").click()
    expect(verdict).to_contain_text("Exercise 1.2: 1/2 cases correct.")
    measured["exercise, wrong"] = verdict.evaluate(_CONTRAST)
    nb.set_slider(exercise.locator(".lenet-formula-kernel"), 2)
    nb.press_on_slider(exercise.locator(".lenet-formula-stride"), "ArrowRight")
    exercise.locator(".lenet-exercise-check").click()
    expect(verdict).to_contain_text("2/2 cases correct")
    measured["exercise, right"] = verdict.evaluate(_CONTRAST)
    nb.screenshot(f"ch01-exercise-{theme}", exercise)
    nb.set_slider(exercise.locator(".lenet-formula-kernel"), 5)
    nb.press_on_slider(exercise.locator(".lenet-formula-stride"), "ArrowLeft")
    expect(exercise.locator(".lenet-formula-result")).to_have_text("Output size: 28")
    return measured


def test_verdicts_keep_a_contrast_of_4_5_to_1_in_the_light_and_the_dark_theme(chapter):
    chapter.assert_no_errors()
    results = {}
    for theme, name in THEMES.items():
        set_theme(chapter, name)
        results[theme] = verdicts_in_this_theme(chapter, theme)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "contrast.json").write_text(json.dumps(results, indent=1) + "\n")
    REPORT["contrast"] = "verdict contrast (WCAG, need 4.5): " + "; ".join(
        f"{theme} " + ", ".join(f"{what} {m['ratio']:.1f}" for what, m in measured.items())
        for theme, measured in results.items()
    )

    # the themes really differ behind the widget, and the verdicts follow them
    assert all(m["background_luminance"] > 0.8 for m in results["light"].values()), results["light"]
    assert all(m["background_luminance"] < 0.05 for m in results["dark"].values()), results["dark"]
    for what in results["light"]:
        assert results["light"][what]["text"] != results["dark"][what]["text"], what
    low = [
        f"{theme}, {what}: {m['ratio']:.2f} ({m['says']!r}, text {m['text']} on {m['background']})"
        for theme, measured in results.items()
        for what, m in measured.items()
        if m["ratio"] < WCAG_AA
    ]
    assert not low, "verdicts below 4.5:1:\n" + "\n".join(low)
