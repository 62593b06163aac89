"""Bulk ``pub_many`` with a tqdm bar and status-coloured job frames, in a real Jupyter kernel."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
from kernel import Kernel
from nb_apps import SEED, wait_done

from hotmesh_nb import WorkerMessage
from hotmesh_nb.notebook import _theme as theme
from hotmesh_nb.notebook import style_status

WIDGET = "application/vnd.jupyter.widget-view+json"


def ok(message: WorkerMessage) -> dict:
    return {}


def fail(message: WorkerMessage) -> dict:
    raise RuntimeError("the printer is on fire")


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    k = Kernel()
    yield k
    k.close()


def setup_cell(redis_url: str, namespace: str, worker: str) -> str:
    return f"""
import hotmesh_nb
from hotmesh_nb import HotMesh, Worker
from hotmesh_nb.model import load_app

def ok(message):
    return {{}}

def fail(message):
    raise RuntimeError("the printer is on fire")

spec = load_app({SEED!r})
hm = HotMesh.init(spec.id, connection={redis_url!r}, namespace={namespace!r},
                  workers=[Worker("work.do", {worker})])
hm.deploy(spec)
hm.activate(spec.version)
"""


def test_pub_many_shows_a_tqdm_widget_and_returns_the_ids(
    kernel: Kernel, redis_url: str, namespace: str
) -> None:
    reply = kernel.run(setup_cell(redis_url, namespace, "ok"))
    assert reply.error is None, reply.traceback_lines
    reply = kernel.run(
        'ids = hm.pub_many("myfirstapp.test", [{"n": i} for i in range(6)], progress=True)'
    )
    assert reply.error is None, reply.traceback_lines
    shown = [o for o in reply.outputs if o["msg_type"] == "display_data"]
    assert any(WIDGET in o["data"] for o in shown), reply.outputs  # tqdm.auto's notebook bar
    assert "0/6" in shown[0]["data"]["text/plain"]  # what a frontend without widgets shows
    reply = kernel.run(
        "hm.wait_until_idle()\n"
        "import json\n"
        "frame = hm.jobs()\n"
        "print(json.dumps([len(ids), len(set(ids)), sorted(set(ids) - set(frame.id)), "
        "[hm.get_status(i) for i in ids]]))"
    )
    assert reply.error is None, reply.traceback_lines
    count, unique, unlisted, semaphores = json.loads(reply.text.strip().splitlines()[-1])
    assert (count, unique, unlisted) == (6, 6, [])  # one job per item, each one listed
    assert semaphores == [0] * 6  # every job finished


def test_jobs_styled_colours_status_and_errors_with_theme_variables(
    kernel: Kernel, redis_url: str, namespace: str
) -> None:
    reply = kernel.run(setup_cell(redis_url, namespace, "fail"))
    assert reply.error is None, reply.traceback_lines
    reply = kernel.run('ids = hm.pub_many("myfirstapp.test", [{}, {}])\nhm.wait_until_idle()')
    assert reply.error is None, reply.traceback_lines
    first = kernel.run("hm.jobs(styled=True)")
    second = kernel.run("hm.jobs(styled=True)")
    assert first.error is None, first.traceback_lines
    html = next(o for o in first.outputs if o["msg_type"] == "execute_result")["data"]["text/html"]
    again = next(o for o in second.outputs if o["msg_type"] == "execute_result")["data"][
        "text/html"
    ]
    assert html == again  # a fixed table id: the same HTML every time (nbval compares it)
    assert 'id="T_hotmesh"' in html
    assert "the printer is on fire" in html
    # Status and error cells take the theme's colours, with fallbacks outside JupyterLab.
    assert f"#T_hotmesh_row0_col2, #T_hotmesh_row1_col2 {{\n  color: {theme.ERROR}" in html
    assert "#000" not in html and "black" not in html


def test_pub_many_without_a_bar_and_bad_input(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    ids = hm.pub_many("myfirstapp.test", ({"n": n} for n in range(3)))
    for job_id in ids:
        wait_done(hm, job_id)
    assert len(set(ids)) == 3 and set(ids) <= set(hm.jobs().id)
    with pytest.raises(TypeError, match=r"not a single dict; use hm\.pub"):
        hm.pub_many("myfirstapp.test", {"n": 1})
    with pytest.raises(TypeError, match="item 1 is a int, not a dict"):
        hm.pub_many("myfirstapp.test", [{}, 5])


def test_pub_many_async_returns_ids(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    ids = asyncio.run(hm.pub_many_async("myfirstapp.test", [{"n": 7}, {"n": 8}]))
    assert len(ids) == 2 and ids[0] != ids[1]


def test_style_status_needs_a_status_column() -> None:
    styler = style_status(
        pd.DataFrame({"status": ["done", "running", None], "error": [None, "", "x"]})
    )
    html = styler.to_html()
    assert f"color: {theme.SUCCESS}" in html and f"color: {theme.WARN}" in html
    with pytest.raises(ValueError, match=r"needs a frame with a 'status' column.*has a, b"):
        style_status(pd.DataFrame({"a": [1], "b": [2]}))


def test_importing_hotmesh_nb_loads_neither_tqdm_nor_jinja() -> None:
    code = (
        "import sys, hotmesh_nb, hotmesh_nb.notebook\n"
        "print([m for m in ('tqdm', 'jinja2', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_theme_colours_follow_jupyterlab_then_vscode_then_colab() -> None:
    assert theme.ERROR == (
        "var(--jp-error-color1, var(--vscode-errorForeground, "
        "var(--colab-error-icon-color, #e46158)))"
    )
    for colour in theme.STATUS.values():
        # Balanced, and always ending in a literal for pages that define no variable.
        assert colour.count("(") == colour.count(")") and re.search(r"#[0-9a-f]{6}\)*$", colour)
