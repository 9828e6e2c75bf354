"""The CSS class names of the widgets' parts, which the browser tests find them by.

Used by every widget of :mod:`lenet_course.widgets`.
"""

from __future__ import annotations

import ipywidgets as widgets


def tag(box: widgets.DOMWidget, prefix: str, **parts: widgets.DOMWidget) -> None:
    """Give ``box`` the class ``prefix`` and each part the class ``prefix-<its keyword>``."""
    box.add_class(prefix)
    for name, part in parts.items():
        part.add_class(f"{prefix}-{name}")
