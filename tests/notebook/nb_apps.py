"""YAML apps and helpers shared by the notebook tests."""

from __future__ import annotations

import time

from waiting import check_deadline

from hotmesh_nb import HotMesh


def wait_done(hm: HotMesh, job_id: str, timeout: float = 10.0) -> None:
    """Wait until a job's semaphore reaches 0 (it finished)."""
    deadline = time.monotonic() + timeout
    while hm.get_status(job_id) != 0:
        check_deadline(deadline, f"job {job_id} did not finish")
        time.sleep(0.01)


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
"""The seed's first app: trigger t1 -> worker w1 (topic work.do)."""

BRANCHES = """\
app:
  id: branches
  version: '1'
  graphs:
    - subscribes: branches.go
      activities:
        t1:
          type: trigger
        check:
          type: worker
          topic: branches.check
          input:
            maps:
              n: '{t1.output.data.n}'
        big:
          type: worker
          topic: branches.big
        small:
          type: worker
          topic: branches.small
        failed:
          type: worker
          topic: branches.small
      transitions:
        t1:
          - to: check
        check:
          - to: big
            conditions:
              match:
                - expected: true
                  actual: '{check.output.data.big}'
          - to: small
            conditions:
              match:
                - expected: false
                  actual: '{check.output.data.big}'
          - to: failed
            conditions:
              code: 500
"""
"""A worker whose result picks one of two branches, plus an error branch."""
