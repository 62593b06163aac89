"""A worker that raises, followed by an unconditional transition: the job finishes ``done``
(the original's rule), and every notebook view says that an activity failed."""

from __future__ import annotations

import html
import re

import pytest
from nb_apps import wait_done

from hotmesh_nb.notebook import JobView, RunResult
from hotmesh_nb.notebook.monitor import Dashboard
from hotmesh_nb.runtime import get_runtime

FAILING = """\
app:
  id: failing
  version: '1'
  graphs:
    - subscribes: pay.go
      activities:
        t1:
          type: trigger
        charge:
          type: worker
          topic: pay.charge
        notify:
          type: worker
          topic: pay.notify
      transitions:
        t1:
          - to: charge
        charge:
          - to: notify
"""

WORKERS = """
from hotmesh_nb import HotMesh, Worker

def charge(message):
    raise ValueError("card declined")

def notify(message):
    return {"sent": True}

hm = HotMesh.init("failing", connection=URL, namespace=NS,
                  workers=[Worker("pay.charge", charge), Worker("pay.notify", notify)])
"""

MESSAGE = "charge: card declined (code 500)"


@pytest.fixture
def failed(cell) -> tuple[object, RunResult]:
    """The app deployed, its workers running, and one job run through ``%hotmesh run``."""
    cell(f"%%hotmesh deploy --activate\n{FAILING}")
    cell(WORKERS)
    return cell, cell("%hotmesh run pay.go {}")


def test_run_says_which_activity_failed_and_why(failed) -> None:
    _, result = failed
    text = result.text()
    assert text.splitlines()[:3] == [
        f"job {result.job_id} on pay.go: done, 1 activity failed",
        f"  failed {MESSAGE}",
        f"  (see %hotmesh job {result.job_id})",
    ]
    rich = result._repr_mimebundle_()["text/html"]
    assert "done, 1 activity failed" in rich and "card declined" in rich


def test_the_job_view_and_its_graph_show_the_failure(failed) -> None:
    cell, result = failed
    view = cell("%hotmesh job")
    assert isinstance(view, JobView) and view.id == result.job_id
    assert ("status", "done, 1 activity failed") in view._facts()
    assert ("failed", MESSAGE) in view._facts()
    rich = view._repr_mimebundle_()["text/html"]
    assert "card declined" in rich
    # The graph: the red node's tooltip says why, and the title names the job.
    svg = view.graph.svg()
    assert svg is not None
    assert re.search(r"<title>charge</title>", svg)
    assert f'xlink:title="{MESSAGE} | YAML:' in svg or f'<a xlink:title="{MESSAGE}' in svg
    text = html.unescape(svg)  # Graphviz writes '-' as '&#45;'
    assert "job: done, 1 activity failed" in text and f"job {result.job_id}<" in text
    assert "#ea9999" in svg  # the error fill


def test_jobs_and_timeline_frames_name_the_failed_activity(failed) -> None:
    cell, result = failed
    hm = cell("hm")
    frame = hm.jobs()
    row = frame[frame["id"] == result.job_id].iloc[0]
    assert row["status"] == "done"
    assert row["failed"] == "charge"
    assert row["error"] == MESSAGE
    timeline = hm.timeline(result.job_id)
    errors = dict(zip(timeline["activity"], timeline["error"]))
    assert errors["charge"] == "card declined (code 500)"
    assert errors["notify"] is pd_na()


def pd_na() -> object:
    import pandas as pd

    return pd.NA


def test_the_dashboard_counts_the_failure(failed) -> None:
    cell, result = failed
    hm = cell("hm")
    wait_done(hm, result.job_id)
    board = Dashboard([hm])
    get_runtime().run(board.refresh())
    assert board.failed_count == 1
    assert "card declined" in board.errors.value
