"""What the widgets share about their look: CSS class names and theme colours.

Class names: ``tag`` gives a widget and its parts the names the browser tests
find them by. Colours: every colour a widget draws comes from JupyterLab's
theme variables (``--jp-...``), so that the widgets read as well in the dark
theme as in the light one; each has a fallback for front-ends without them.

Used by every widget of :mod:`lenet_course.widgets`.
"""

from __future__ import annotations

import ipywidgets as widgets

# The theme's colours by role (JupyterLab's variables; the fallback is the light theme's value).
TEXT = "var(--jp-content-font-color0, currentColor)"
MUTED = "var(--jp-ui-font-color2, #757575)"
SURFACE = "var(--jp-layout-color0, #ffffff)"
TRACK = "var(--jp-layout-color2, #eeeeee)"
PADDING = "var(--jp-layout-color3, #bdbdbd)"
BORDER = "var(--jp-border-color0, #9e9e9e)"
ACCENT = "var(--jp-brand-color1, #1976d2)"
ACCENT_LIGHT = "var(--jp-brand-color2, #64b5f6)"
ERROR_FILL = "var(--jp-error-color2, #e57373)"
_STATUS = {
    True: ("--jp-success-color0", "#1b5e20", "--jp-success-color1", "#388e3c"),
    False: ("--jp-error-color0", "#b71c1c", "--jp-error-color1", "#d32f2f"),
}


def tag(box: widgets.DOMWidget, prefix: str, **parts: widgets.DOMWidget) -> None:
    """Give ``box`` the class ``prefix`` and each part the class ``prefix-<its keyword>``."""
    box.add_class(prefix)
    for name, part in parts.items():
        part.add_class(f"{prefix}-{name}")


def status_colour(ok: bool) -> str:
    """CSS ``color`` declarations for a verdict: green when ``ok``, red otherwise, readable in every theme.

    The theme's success or error colour is mixed, 70 to 30, with the theme's
    text colour (black in a light theme, white in a dark one). JupyterLab's own
    colours alone fall below a 4.5:1 contrast in one theme or the other
    (``--jp-success-color1`` on white, ``--jp-error-color1`` on a dark cell);
    the mix moves each away from the background it sits on. A browser without
    ``color-mix`` keeps the first declaration, the theme's darker shade.
    """
    plain, plain_fallback, colour, fallback = _STATUS[bool(ok)]
    return f"color:var({plain}, {plain_fallback});color:color-mix(in srgb, var({colour}, {fallback}) 70%, {TEXT})"
