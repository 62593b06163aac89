"""Colours of the HTML reprs, the dashboard and styled frames, for light and dark themes.

Every front-end that shows them exposes its theme as CSS variables of its own,
so each colour is a chain of ``var()`` with a literal at the end:

- JupyterLab (and Notebook 7): ``--jp-*``. VS Code also sets some of them,
  from its own theme, around widget outputs (the live dashboard).
- VS Code (notebook outputs are a webview): ``--vscode-*``, e.g.
  ``--vscode-errorForeground`` and the ``--vscode-charts-*`` palette, which
  each theme tunes for its editor background.
- Colab (outputs are frames of their own): ``--colab-*``.
- Anything else (nbconvert'ed HTML, GitHub, a plain page): the literal, a
  mid-tone chosen to keep a 3:1 contrast on white, on near-black and on
  Colab's dark grey (#383838), with or without a light grey tint over them.

Text colour is otherwise inherited from the page; tints and borders are
translucent grey, which works on either background. The reprs use inline
``style`` attributes only (no ``<style>`` sheet, no script, no external
resource), so an output reads the same wherever it is shown; the one
``<style>`` is pandas' own, id-scoped sheet in ``hm.jobs(styled=True)``.
"""

from __future__ import annotations


def chain(*names: str, fallback: str) -> str:
    """``var(--a, var(--b, fallback))``: the first variable the page defines, else ``fallback``."""
    css = fallback
    for name in reversed(names):
        css = f"var({name}, {css})"
    return css


SUCCESS = chain(
    "--jp-success-color1", "--vscode-charts-green", "--colab-status-okay", fallback="#3f9d45"
)
# Running jobs take an amber of our own everywhere: JupyterLab's orange (--jp-warn-color*)
# reads at 2.5:1 on its light theme, VS Code's light yellow (--vscode-charts-yellow) at 2.9:1
# and Colab's --colab-status-warning at 2.4:1 on white.
WARN = "#b58100"
ERROR = chain(
    "--jp-error-color1", "--vscode-errorForeground", "--colab-error-icon-color", fallback="#e46158"
)
MUTED = chain(
    "--jp-ui-font-color2",
    "--vscode-descriptionForeground",
    "--colab-tertiary-text-color",
    fallback="#8b8b8b",
)
ACCENT = chain(
    "--jp-brand-color1", "--vscode-charts-blue", "--colab-anchor-color", fallback="#308fe0"
)
INTERRUPTED = chain("--jp-accent-color1", "--vscode-charts-purple", fallback="#a276d9")

STATUS = {
    "done": SUCCESS,
    "running": WARN,
    "pending": MUTED,
    "error": ERROR,
    "interrupted": INTERRUPTED,
    "failed": ERROR,
}
"""Text colour per job status (``failed``: jobs that finished after an activity failed)."""
