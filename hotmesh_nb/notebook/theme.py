"""Colours of the HTML reprs, the dashboard and styled frames, for light and dark themes.

Each colour is a JupyterLab theme variable (so it follows the light or dark
theme) with a mid-tone fallback that reads on white and on near-black alike,
for VS Code, Colab and nbconvert'ed HTML, which do not define the variables.
Text colour is otherwise inherited from the page; tints and borders are
translucent grey, which works on either background.
"""

from __future__ import annotations

SUCCESS = "var(--jp-success-color1, #3a9140)"
# JupyterLab's own orange (--jp-warn-color*) is too light for text on its light theme
# (2.5:1), so running jobs take a dark amber that keeps 3:1 on white and on near-black.
WARN = "#a87800"
ERROR = "var(--jp-error-color1, #e0463c)"
MUTED = "var(--jp-ui-font-color2, #858585)"
ACCENT = "var(--jp-brand-color1, #2f8fe0)"
INTERRUPTED = "var(--jp-accent-color1, #9a6ad6)"

STATUS = {
    "done": SUCCESS,
    "running": WARN,
    "pending": MUTED,
    "error": ERROR,
    "interrupted": INTERRUPTED,
    "failed": ERROR,
}
"""Text colour per job status (``failed``: jobs that finished after an activity failed)."""
