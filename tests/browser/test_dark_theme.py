"""Reprs and the dashboard snapshot stay readable on dark backgrounds, rendered by Chromium.

The HTML is what a user's objects show (a job with a failed activity, its
painted repr, the ``hm`` card, ``hm.jobs(styled=True)`` and the dashboard's
static snapshot). Chromium renders it under JupyterLab's own dark theme
stylesheet (from the installed jupyterlab package) and its light one, under a plain dark page
with no JupyterLab variables (VS Code, Colab: the fallbacks), and under a white
page. Every piece of text must keep a contrast of at least 3:1 (WCAG's minimum
for large and bold text) with the background it sits on. Graphviz drawings are
left out: they paint their own white canvas under their text.
"""

from __future__ import annotations

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
from hotmesh_nb.notebook import api, monitor
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
def reprs(redis_url: str) -> str:
    """The HTML of a job with a failed activity, the card, a styled frame and the dashboard."""
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
    parts = [
        board.snapshot(),
        hm._repr_html_(),
        hm.jobs(styled=True).to_html(),
        get_runtime().run(api.job_view(hm, job_id))._repr_mimebundle_()["text/html"],
    ]
    hotmesh_nb.shutdown()
    return "".join(p for p in parts if p)


def render(browser: object, body: str, head: str, name: str) -> list[list]:
    page: Any = browser  # a playwright Page
    page.set_content(f"<html><head>{head}</head><body><div id='reprs'>{body}</div></body></html>")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"reprs-{name}.png"), full_page=True)
    return page.evaluate(MEASURE)


PAGES = {
    "jupyterlab-dark": (
        "body{background:var(--jp-layout-color0);color:var(--jp-ui-font-color1);"
        "font-family:var(--jp-ui-font-family)}"
    ),
    "jupyterlab-light": (
        "body{background:var(--jp-layout-color0);color:var(--jp-ui-font-color1);"
        "font-family:var(--jp-ui-font-family)}"
    ),
    "plain-dark": "body{background:#1e1e1e;color:#d4d4d4}",
    "plain-light": "body{background:#ffffff;color:#1f1f1f}",
}
"""Page styles: JupyterLab's dark and light themes (their stylesheets go first), and two
pages without JupyterLab's variables, where the fallback colours show."""


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_text_keeps_its_contrast(browser, reprs: str, name: str) -> None:
    sheets = {"jupyterlab-dark": DARK_CSS, "jupyterlab-light": LIGHT_CSS}
    sheet = sheets.get(name)
    assert sheet is None or sheet.exists(), f"JupyterLab's theme stylesheet is missing: {sheet}"
    theme = sheet.read_text() if sheet is not None else ""
    head = f"<style>{theme}\n{PAGES[name]}</style>"
    assert "the printer is on fire" in reprs and "var(--jp-error-color1" in reprs
    worst = render(browser, reprs, head, name)
    assert worst, "no text was measured"
    assert worst[0][0] >= 3.0, worst  # lowest contrast first: (ratio, text, colour)
