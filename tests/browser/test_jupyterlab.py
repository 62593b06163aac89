"""Each tutorial in JupyterLab, in a real Chromium: Run All, then look at what a person sees.

Screenshots go to ``test-artefacts/browser/``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest
from jlab import ARTEFACTS, Lab
from waiting import wait_until

pytestmark = pytest.mark.browser

TUTORIALS = [
    "01-hotmesh.ipynb",
    "02-meshcall.ipynb",
    "03-meshflow.ipynb",
    "04-meshdata.ipynb",
    "05-operations.ipynb",
]
SHORT_ERRORS = {"05-operations.ipynb": 1}
"""Tutorials that show a library error on purpose, and how many."""
MIN_FONT_PX = 10.0
SEED = """\
app:
  id: myfirstapp
  version: '1'
  graphs:
    - subscribes: myfirstapp.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: work.do
      transitions:
        t1:
          - to: w1
"""

# Every drawing on the page: its rendered width, its output area's width and the smallest
# label at the rendered size. JupyterLab shows SVG outputs as <img>, HTML ones inline.
MEASURE_GRAPHS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const out = [];
  const measure = (svg, rect, area, tag) => {
    const box = svg.viewBox && svg.viewBox.baseVal;
    if (!box || !box.width || !svg.querySelector('g.graph')) return;
    const sizes = [...svg.querySelectorAll('text')]
      .map(t => parseFloat(t.getAttribute('font-size'))).filter(s => s > 0);
    out.push({
      width: rect.width, area: area.width, title: svg.querySelector('title')?.textContent,
      font: Math.min(...sizes) * rect.width / box.width, scrolls: area.width < rect.width,
      tag: tag, folded: svg.textContent.includes('folded to fit'),
    });
  };
  for (const img of panel.querySelectorAll('.jp-OutputArea-output img')) {
    if (!img.src.startsWith('data:image/svg+xml')) continue;
    const text = decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1));
    const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
    measure(svg, img.getBoundingClientRect(),
            img.closest('.jp-OutputArea-output').getBoundingClientRect(), 'img');
  }
  for (const svg of panel.querySelectorAll('.jp-OutputArea-output svg')) {
    measure(svg, svg.getBoundingClientRect(),
            svg.closest('.jp-OutputArea-output').getBoundingClientRect(), 'svg');
  }
  return out;
}
"""


def open_notebook(page: Any, lab: Lab, name: str) -> None:
    page.goto(lab.url(f"lab/tree/{name}?reset"))  # only this notebook open
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def menu(page: Any, title: str, command: str) -> None:
    # A menu left open or a passing dialog would take the click: close it first. A loaded
    # machine gets a minute per click.
    page.keyboard.press("Escape")
    page.click(f".lm-MenuBar-itemLabel:text-is('{title}')", timeout=60_000)
    page.click(f".lm-Menu-item[data-command='{command}']", timeout=60_000)


PROMPTS = (
    "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.innerText)"
)


def start_run_all(page: Any) -> None:
    """Run > Run All Cells, and return once the first cell has started.

    A freshly started kernel can drop the request while the page still connects (every
    prompt stays ``[ ]``): when no cell has started after a while, ask again (nothing
    ran, so nothing runs twice).
    """
    for _ in range(3):
        menu(page, "Run", "runmenu:run-all")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if any("[ ]" not in p for p in page.evaluate(PROMPTS)):
                return
            time.sleep(0.2)
    pytest.fail("Run All Cells never started a cell (asked 3 times)")


def run_all(page: Any, timeout: float = 120.0) -> None:
    """Clear the committed outputs, Run > Run All Cells, and wait until every code cell has
    run (each prompt shows its execution count)."""
    menu(page, "Edit", "editmenu:clear-all")
    wait_until(lambda: all("[ ]" in p for p in page.evaluate(PROMPTS)), timeout=20)
    start_run_all(page)
    wait_until(
        lambda: all(re.search(r"\[\d+\]", p) for p in page.evaluate(PROMPTS)), timeout=timeout
    )
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")


def page_text(page: Any) -> str:
    return str(page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"))


@pytest.mark.timeout(240)  # JupyterLab and Chromium start with the first one
@pytest.mark.parametrize("name", TUTORIALS)
def test_a_tutorial_runs_in_jupyterlab_without_errors(browser: Any, lab: Lab, name: str) -> None:
    page = browser
    open_notebook(page, lab, name)
    try:
        run_all(page)
    finally:
        page.screenshot(path=str(ARTEFACTS / f"{name.removesuffix('.ipynb')}.png"))
    text = page_text(page)
    assert "model not found" not in text and "Error displaying widget" not in text
    assert "Traceback (most recent call last)" not in text
    assert "untrusted" not in text.lower()
    assert text.count("full traceback: %tb") == SHORT_ERRORS.get(name, 0)
    graphs = page.evaluate(MEASURE_GRAPHS)
    if name == "03-meshflow.ipynb":
        assert graphs, "the MeshFlow graph was not drawn"
    for graph in graphs:
        # Every drawing fits the visible width with labels of at least 10 px, or, when
        # shrinking would make them smaller, keeps its size in a box that scrolls.
        assert graph["font"] >= MIN_FONT_PX, graph
        if not graph["scrolls"]:
            assert graph["width"] <= graph["area"] + 1, graph
    if name == "03-meshflow.ipynb":
        meshflow = [g for g in graphs if (g["title"] or "").startswith("meshflow")]
        assert meshflow and all(not g["scrolls"] for g in meshflow), meshflow
        # The whole app (hm.graph(), no job) too: folded to fit, not a box that scrolls.
        assert any(g["folded"] for g in meshflow), meshflow


@pytest.mark.timeout(240)
def test_the_dashboard_updates_while_jobs_run(browser: Any, lab: Lab, redis_url: str) -> None:
    page = browser
    namespace = f"browser-{uuid.uuid4().hex[:8]}"
    cells = [
        f"%load_ext hotmesh_nb\n%hotmesh connect --namespace {namespace}",
        f"%%hotmesh deploy --activate\n{SEED}",
        "from hotmesh_nb import HotMesh, Worker\n"
        f"hm = HotMesh.init('myfirstapp', namespace='{namespace}',\n"
        "                  workers=[Worker('work.do', lambda message: {})])",
        "%hotmesh dashboard myfirstapp",
        "import time\nfor _ in range(30):\n    hm.pub('myfirstapp.test', {})\n    time.sleep(0.2)",
    ]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root / "dashboard.ipynb").write_text(json.dumps(notebook))
    open_notebook(page, lab, "dashboard.ipynb")
    start_run_all(page)
    board = page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea-output")
    seen: list[int] = []

    def done_count() -> int | None:
        found = re.search(r"\bdone\s*\n\s*(\d+)", board.inner_text()) if board.count() else None
        return int(found.group(1)) if found else None

    last_cell = page.locator(".jp-Cell").nth(4).locator(".jp-InputPrompt")
    wait_until(lambda: done_count() is not None, timeout=60)
    # While the last cell publishes (the kernel is busy), the widget keeps changing.
    while "[*]" in last_cell.inner_text():
        value = done_count()
        if value is not None and (not seen or value != seen[-1]):
            seen.append(value)
        time.sleep(0.25)
    page.screenshot(path=str(ARTEFACTS / "dashboard.png"))
    assert len(seen) >= 3 and seen == sorted(seen), seen
