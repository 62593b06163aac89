"""Reprs and the dashboard snapshot stay readable in every front-end and theme, in Chromium.

The HTML is what a user's objects show (a job with a failed activity, its
painted repr, the ``hm`` card, ``hm.jobs(styled=True)`` and the dashboard's
static snapshot). Chromium renders it under JupyterLab's own dark and light
theme stylesheets (from the installed jupyterlab package); under VS Code's
dark and light theme variables (``--vscode-*``, as its notebook webview sets
them, and as its widget outputs map them onto ``--jp-*``); under Colab's dark
and light variables (``--colab-*``); and on plain dark and white pages that
define none (nbconvert, GitHub: the literal fallbacks). Every piece of text
must keep a contrast of at least 3:1 (WCAG's minimum for large and bold text)
with the background it sits on, and error text must take the host's own error
colour. Graphviz drawings are left out: they paint their own white canvas
under their text. The HTML is also checked to be self-contained: no script,
no external resource, and no style sheet but pandas' id-scoped one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import jupyterlab
import pytest
from jlab import ARTEFACTS
from waiting import check_deadline

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker, WorkerMessage
from hotmesh_nb.model import load_app
from hotmesh_nb.notebook import _monitor as monitor
from hotmesh_nb.notebook import _notebook_api as api
from hotmesh_nb.runtime import get_runtime

APP = """\
app:
  id: darkapp
  version: '1'
  graphs:
    - subscribes: darkapp.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: dark.work
      transitions:
        t1:
          - to: w1
"""

THEMES = Path(jupyterlab.__file__).parent / "themes" / "@jupyterlab"
DARK_CSS = THEMES / "theme-dark-extension" / "index.css"
LIGHT_CSS = THEMES / "theme-light-extension" / "index.css"

# The lowest contrast of any text element against its effective background (JS, in the page).
MEASURE = """
() => {
  const parse = (c) => { const m = c.match(/[0-9.]+/g).map(Number);
                         return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const mix = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3]));
  const page = parse(getComputedStyle(document.body).backgroundColor);
  const background = (el) => {  // the nearest opaque-enough ancestor background over the page
    const layers = [];
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
    }
    let bg = page.slice(0, 3);
    for (const layer of layers.reverse()) bg = mix(layer, bg);
    return bg;
  };
  const opacity = (el) => { let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o; };
  const worst = [];
  for (const el of document.querySelectorAll('#reprs *')) {
    if (el.closest('svg')) continue;  // Graphviz drawings have their own white canvas
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const bg = background(el);
    const fg = parse(getComputedStyle(el).color);
    const seen = mix([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    const [a, b] = [lum(seen), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    worst.push([ratio, el.textContent.trim().slice(0, 40), getComputedStyle(el).color]);
  }
  worst.sort((x, y) => x[0] - y[0]);
  return worst.slice(0, 5);
}
"""


def fail(message: WorkerMessage) -> dict:
    raise RuntimeError("the printer is on fire")


@pytest.fixture(scope="module")
def parts(redis_url: str) -> dict[str, str]:
    """The HTML of the dashboard snapshot, the card, a styled frame and a job with a failed
    activity."""
    spec = load_app(APP)
    hm = HotMesh.init(
        spec.id, connection=redis_url, namespace="darktheme", workers=[Worker("dark.work", fail)]
    )
    hm.deploy(spec)
    hm.activate(spec.version)
    job_id = hm.pub("darkapp.go", {})
    hm.wait_until_idle()
    board = monitor.Dashboard([hm])
    deadline = time.monotonic() + 10
    while board.counts["error"] < 1:
        check_deadline(deadline, "the failed job did not show on the dashboard")
        get_runtime().run(board.refresh())
    found = {
        "dashboard": board.snapshot(),
        "card": hm._repr_html_() or "",
        "styled jobs": hm.jobs(styled=True).to_html(),
        "job": get_runtime().run(api.job_view(hm, job_id))._repr_mimebundle_()["text/html"],
    }
    hotmesh_nb.shutdown()
    assert all(found.values()), [k for k, v in found.items() if not v]
    return found


@pytest.fixture(scope="module")
def reprs(parts: dict[str, str]) -> str:
    """All of :func:`parts` on one page."""
    return "".join(parts.values())


def render(browser: object, body: str, head: str, name: str) -> list[list]:
    page: Any = browser  # a playwright Page
    page.set_content(f"<html><head>{head}</head><body><div id='reprs'>{body}</div></body></html>")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"reprs-{name}.png"), full_page=True)
    return page.evaluate(MEASURE)


VSCODE_DARK = (
    "--vscode-editor-background:#1f1f1f;--vscode-editor-foreground:#cccccc;"
    "--vscode-errorForeground:#f85149;--vscode-descriptionForeground:#9d9d9d;"
    "--vscode-charts-green:#89d185;--vscode-charts-yellow:#cca700;--vscode-charts-blue:#3794ff;"
    "--vscode-charts-purple:#b180d7;--vscode-textLink-foreground:#4daafc;"
)
VSCODE_LIGHT = (
    "--vscode-editor-background:#ffffff;--vscode-editor-foreground:#3b3b3b;"
    "--vscode-errorForeground:#f85149;--vscode-descriptionForeground:#3b3b3b;"
    "--vscode-charts-green:#388a34;--vscode-charts-yellow:#bf8803;--vscode-charts-blue:#1a85ff;"
    "--vscode-charts-purple:#652d90;--vscode-textLink-foreground:#005fb8;"
)
# What VS Code's Jupyter extension sets around a widget output (its JupyterLab theme bridge).
VSCODE_WIDGET = (
    "--jp-ui-font-color1:var(--vscode-editor-foreground);"
    "--jp-ui-font-color2:var(--vscode-editor-foreground);"
    "--jp-brand-color1:var(--vscode-textLink-foreground);"
)
COLAB_DARK = (
    "--colab-primary-surface-color:#383838;--colab-primary-text-color:#d5d5d5;"
    "--colab-tertiary-text-color:#b3b3b3;--colab-status-okay:#00c752;"
    "--colab-error-icon-color:#ef5350;--colab-anchor-color:#64b5f6;"
)
COLAB_LIGHT = (
    "--colab-primary-surface-color:#ffffff;--colab-primary-text-color:#212121;"
    "--colab-tertiary-text-color:#757575;--colab-status-okay:#188038;"
    "--colab-error-icon-color:#d50000;--colab-anchor-color:#1967d2;"
)
JUPYTERLAB_PAGE = (
    "body{background:var(--jp-layout-color0);color:var(--jp-ui-font-color1);"
    "font-family:var(--jp-ui-font-family)}"
)
PAGES = {
    "jupyterlab-dark": JUPYTERLAB_PAGE,
    "jupyterlab-light": JUPYTERLAB_PAGE,
    "vscode-dark": f":root{{{VSCODE_DARK}}}body{{background:#1f1f1f;color:#cccccc}}",
    "vscode-light": f":root{{{VSCODE_LIGHT}}}body{{background:#ffffff;color:#3b3b3b}}",
    "vscode-dark-widget": (
        f":root{{{VSCODE_DARK}}}body{{background:#1f1f1f;color:#cccccc}}#reprs{{{VSCODE_WIDGET}}}"
    ),
    "colab-dark": f":root{{{COLAB_DARK}}}body{{background:#383838;color:#d5d5d5}}",
    "colab-light": f":root{{{COLAB_LIGHT}}}body{{background:#ffffff;color:#212121}}",
    "plain-dark": "body{background:#1e1e1e;color:#d4d4d4}",
    "plain-light": "body{background:#ffffff;color:#1f1f1f}",
}
"""Page styles: JupyterLab's dark and light themes (their stylesheets go first), VS Code's
and Colab's theme variables, and two pages without any, where the fallback colours show."""
ERROR_COLOURS = {
    "vscode-dark": "rgb(248, 81, 73)",
    "vscode-light": "rgb(248, 81, 73)",
    "vscode-dark-widget": "rgb(248, 81, 73)",
    "colab-dark": "rgb(239, 83, 80)",
    "colab-light": "rgb(213, 0, 0)",
    "plain-dark": "rgb(228, 97, 88)",
    "plain-light": "rgb(228, 97, 88)",
}
"""The colour error text must take on each page without JupyterLab: the host's own."""

# The colours of the texts that name the worker's error, where they differ from the page's.
ERROR_TEXT = """
() => {
  const page = getComputedStyle(document.body).color;
  return [...new Set([...document.querySelectorAll('#reprs *')]
    .filter((el) => [...el.childNodes].some(
      (n) => n.nodeType === 3 && n.textContent.includes('printer is on fire')))
    .map((el) => getComputedStyle(el).color).filter((c) => c !== page))];
}
"""


def page_head(name: str) -> str:
    sheets = {"jupyterlab-dark": DARK_CSS, "jupyterlab-light": LIGHT_CSS}
    sheet = sheets.get(name)
    assert sheet is None or sheet.exists(), f"JupyterLab's theme stylesheet is missing: {sheet}"
    theme = sheet.read_text() if sheet is not None else ""
    return f"<style>{theme}\n{PAGES[name]}</style>"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_text_keeps_its_contrast(browser, reprs: str, name: str) -> None:
    assert "the printer is on fire" in reprs and "var(--jp-error-color1" in reprs
    worst = render(browser, reprs, page_head(name), name)
    assert worst, "no text was measured"
    assert worst[0][0] >= 3.0, worst  # lowest contrast first: (ratio, text, colour)
    if name in ERROR_COLOURS:
        page: Any = browser
        assert page.evaluate(ERROR_TEXT) == [ERROR_COLOURS[name]]


def test_the_html_is_self_contained(parts: dict[str, str]) -> None:
    for name, html in parts.items():
        lowered = html.lower()
        for needle in ("<script", "<link", "<iframe", "@import", "url(", "javascript:"):
            assert needle not in lowered, (name, needle)
        assert not re.search(r"\s(?:src|href)\s*=", lowered), name  # nothing to fetch
        assert not re.search(r"\son[a-z]+\s*=", lowered), name  # no inline handlers
        sheets = re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL)
        if name != "styled jobs":
            assert not sheets, name  # our own reprs: inline styles only
            continue
        # pandas' sheet: every rule addresses a cell of this table only.
        selectors = re.findall(r"([^{}]+)\{", "".join(sheets))
        assert selectors and all(
            s.strip().startswith("#T_hotmesh") for sel in selectors for s in sel.split(",")
        ), selectors
