"""An answer's status, not its code, decides whether its activity stays open and whether
the job fails, as in HotMesh 0.3.32 (checked side by side in
test_apps_against_the_original.py): the code only picks the transitions."""

from __future__ import annotations

import json
import time

import pytest
from waiting import wait_until

from hotmesh_nb import JobError, Response, WorkerMessage

WORKER = """
app:
  id: statuses
  version: '1'
  graphs:
    - subscribes: statuses.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: statuses.work
          input:
            maps:
              code: '{t1.output.data.code}'
              status: '{t1.output.data.status}'
          job:
            maps:
              answered: '{$self.output.data.answered}'
      transitions:
        t1:
          - to: w1
"""


def answer(message: WorkerMessage) -> Response:
    data = message.data
    return Response({"answered": data["code"]}, code=data["code"], status=data.get("status"))


def test_a_succeeding_202_closes_its_activity(mesh) -> None:
    hm = mesh("statuses", WORKER, {"statuses.work": answer})
    assert hm.pubsub("statuses.test", {"code": 202, "status": "success"}, timeout=10) == {
        "answered": 202
    }


def test_a_pending_200_keeps_its_activity_open_until_the_final_answer(mesh) -> None:
    held: list[WorkerMessage] = []

    def hold(message: WorkerMessage) -> Response:
        held.append(message)
        return answer(message)

    hm = mesh("statuses", WORKER, {"statuses.work": hold})
    job_id = hm.pub("statuses.test", {"code": 200, "status": "pending"})
    wait_until(lambda: hm.get_state(job_id)["data"] == {"answered": 200})
    time.sleep(0.2)
    assert hm.get_status(job_id) == 1  # mapped, and still open
    hm.add(held[0], {"answered": "final"})
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert hm.get_state(job_id)["data"] == {"answered": "final"}


def test_an_error_code_sent_as_a_success_does_not_fail_the_job(mesh) -> None:
    hm = mesh("statuses", WORKER, {"statuses.work": answer})
    job_id = hm.pub("statuses.test", {"code": 500, "status": "success"})
    wait_until(lambda: hm.get_status(job_id) == 0)
    state = hm.get_state(job_id)
    assert state["data"] == {"answered": 500}
    assert "err" not in state["metadata"]


def test_an_error_sent_with_code_200_fails_the_job_nothing_handles(mesh) -> None:
    hm = mesh("statuses", WORKER, {"statuses.work": answer})
    with pytest.raises(JobError) as caught:
        hm.pubsub("statuses.test", {"code": 200, "status": "error"}, timeout=10)
    assert caught.value.code == 200
    assert hm.get_state(caught.value.job_id)["data"] == {}  # an error leg maps no output


HOOK = """
app:
  id: errsignals
  version: '1'
  graphs:
    - subscribes: errsignals.test
      expire: 120
      hooks:
        errsignals.go:
          - to: waiter
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        waiter:
          type: hook
          job:
            maps:
              v: '{$self.hook.data.v}'
              mapped: true
        after:
          type: hook
          job:
            maps:
              after: '{waiter.hook.data.v}'
              handled: true
      transitions:
        t1:
          - to: waiter
        waiter:
          - to: after
            conditions:
              code: 500
"""
"""Also run side by side with the original (test_apps_against_the_original.py)."""


def _signalled(hm, job_id: str, **how) -> dict:
    hm.hook("errsignals.go", {"id": job_id, "v": "V"}, **how)
    wait_until(lambda: hm.get_status(job_id) == 0)
    return hm.get_state(job_id)


def test_an_error_signal_ends_its_hook_without_its_data_and_fails_the_job(mesh) -> None:
    hm = mesh("errsignals", HOOK)
    job_id = hm.pub("errsignals.test", {})
    state = _signalled(hm, job_id, status="error", code=404)
    # The job maps run, but {$self.hook.data} is undefined on an error leg.
    assert state["data"] == {"mapped": True}
    err = json.loads(state["metadata"]["err"])
    assert err == {"id": job_id, "v": "V", "is_stream_error": True}  # the signal's data


def test_an_error_signal_a_transition_takes_does_not_fail_the_job(mesh) -> None:
    hm = mesh("errsignals", HOOK)
    job_id = hm.pub("errsignals.test", {})
    state = _signalled(hm, job_id, status="error", code=500)
    assert state["data"] == {"mapped": True, "handled": True}  # no hook data for "after"
    assert "err" not in state["metadata"]


def test_a_signal_with_an_error_code_and_no_error_status_succeeds(mesh) -> None:
    hm = mesh("errsignals", HOOK)
    job_id = hm.pub("errsignals.test", {})
    state = _signalled(hm, job_id, code=404)
    assert state["data"] == {"v": "V", "mapped": True}
    assert "err" not in state["metadata"]
