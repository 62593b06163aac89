"""A handle from ``start`` listens for the workflow's end before the workflow exists, so
``result()`` needs no status read; a handle dropped without ``result()`` lets go."""

from __future__ import annotations

import gc

from waiting import wait_until

from hotmesh_nb.meshflow import workflow
from hotmesh_nb.runtime import get_runtime


async def parked_forever(n: int) -> int:
    return int(await workflow.wait_for(f"never-{workflow.get_context().workflow_id}")) + n


async def quick(n: int) -> int:
    return n * 2


def test_a_started_handle_gets_its_result_and_a_dropped_one_lets_go(flow) -> None:
    flow(quick)
    flow(parked_forever)
    hm = get_runtime().run(flow.client.hotmesh_async())
    waiters = hm.engine.subscriptions._waiters
    handle = flow.client.workflow.start(args=[21], task_queue="default", workflow_name="quick")
    assert handle.result(timeout=30) == 42
    assert handle.result(timeout=30) == 42  # again: read from the finished job
    assert handle.workflow_id not in waiters
    dropped = flow.client.workflow.start(
        args=[1], task_queue="default", workflow_name="parked_forever"
    )
    workflow_id = dropped.workflow_id
    assert workflow_id in waiters
    del dropped
    gc.collect()
    wait_until(lambda: workflow_id not in waiters, timeout=10)
