"""A stopped HotMesh says so: starting a job on it raises instead of waiting forever."""

from __future__ import annotations

import pytest

import hotmesh_nb

APP = """
app:
  id: stopping
  version: '1'
  graphs:
    - subscribes: stopping.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: stopping.work
          job: { maps: { done: true } }
      transitions:
        t1:
          - to: w1
"""


def test_starting_a_job_on_a_stopped_mesh_raises(mesh) -> None:
    hm = mesh("stopping", APP, {"stopping.work": lambda message: {}})
    done = hm.pubsub("stopping.go", {})
    assert done["done"] is True
    job_id = hm.pub("stopping.go", {})
    hm.stop()
    with pytest.raises(hotmesh_nb.HotMeshError, match="stopped"):
        hm.pub("stopping.go", {})
    with pytest.raises(hotmesh_nb.HotMeshError, match="stopped"):
        hm.pubsub("stopping.go", {}, timeout=60)
    # What is stored outlives the engine: reading it still works.
    assert hm.get_status(job_id) in (0, 1)


def test_a_command_submitted_to_a_closed_pipeline_fails_at_once(mesh) -> None:
    hm = mesh("stopping", APP, {"stopping.work": lambda message: {}})
    batcher = hm.engine.batcher
    hm.stop()
    assert batcher.closed

    async def submit() -> None:
        await batcher.submit(lambda pipe: pipe.ping())

    with pytest.raises(hotmesh_nb.HotMeshError, match="stopped"):
        hotmesh_nb.runtime.get_runtime().run(submit())
