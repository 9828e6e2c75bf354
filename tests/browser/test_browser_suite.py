"""The browser the suite drives: Debian's Chromium, headless, started by Playwright.

Without Chromium this is the only test collected here, and it skips with the
reason (or fails, with LENET_COURSE_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import pytest

from .jupyterlab_driver import CHROMIUM

pytestmark = pytest.mark.browser


def test_headless_chromium_renders_a_page(chromium):
    page = chromium.new_page()
    try:
        page.set_content("<p id='sum'></p><script>document.getElementById('sum').textContent = 6 * 7;</script>")
        assert page.inner_text("#sum") == "42"
        assert page.evaluate("navigator.userAgent").find("HeadlessChrome") >= 0, f"{CHROMIUM} is not running headless"
        assert chromium.version.split(".")[0].isdigit()
    finally:
        page.close()
