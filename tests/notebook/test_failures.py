"""A worker that raises, followed by an unconditional transition: the job finishes ``done``
(the original's rule), and every notebook view says that an activity failed."""

from __future__ import annotations

import html
import re

import pytest
from nb_apps import wait_done

from hotmesh_nb.notebook import JobView, RunResult
from hotmesh_nb.notebook._monitor import Dashboard
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

MESSAGE = "charge: ValueError: card declined (code 500)"


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
    assert errors["charge"] == "ValueError: card declined (code 500)"
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


def test_a_failed_activity_names_the_exception_type(redis_url, namespace) -> None:
    from hotmesh_nb import HotMesh, Worker
    from hotmesh_nb.notebook._paint import failure_of

    def declined(msg):
        raise ValueError("card declined")

    hm = HotMesh.init(
        "typed", connection=redis_url, namespace=namespace, workers=[Worker("typed.w", declined)]
    )
    hm.deploy(
        "app:\n  id: typed\n  version: '1'\n  graphs:\n    - subscribes: typed.go\n"
        "      activities:\n        t1: { type: trigger }\n"
        "        w: { type: worker, topic: typed.w }\n"
        "      transitions:\n        t1: [ { to: w } ]\n"
    )
    hm.activate("1")
    job_id = hm.pub("typed.go", {})
    from waiting import wait_until

    wait_until(lambda: hm.get_status(job_id) == 0)
    node = hm.get_state(job_id)  # the activity's stored metadata carries the type aside
    failures = hm.export(job_id)["timeline"]
    assert any(row.get("error") for row in failures)
    state = hotmesh_nb_state(hm, job_id)
    failure = failure_of("w", ",0", state)
    assert failure is not None and failure.error_type == "ValueError"
    assert "ValueError: card declined" in failure.text()
    assert node is not None


def hotmesh_nb_state(hm, job_id):
    """The worker activity's output metadata, as the painted graph reads it."""
    from hotmesh_nb.runtime import get_runtime

    state = get_runtime().run(hm.engine.get_state(job_id))
    return state.activities["w"][",0,0"]["output"]["metadata"]
