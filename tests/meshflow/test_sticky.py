"""Parked runs: a worker keeps a suspended workflow run between its steps and goes on
from where it stopped when the stored history is what it expects; when the history
changed elsewhere, it replays from the top instead."""

from __future__ import annotations

import asyncio

import redis
from waiting import wait_until

from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.meshflow import workflow
from hotmesh_nb.meshflow._factory import APP_ID

TOPS: dict[str, int] = {}
"""How often each workflow's function started from the top (a replay)."""


async def sticky_bump(n: int) -> int:
    return n + 1


queued = workflow.proxy_activities(activities=[sticky_bump], local=False)


async def stepper(n: int) -> list[int]:
    wid = workflow.get_context().workflow_id
    TOPS[wid] = TOPS.get(wid, 0) + 1
    seen = [await queued.sticky_bump(n)]
    await workflow.sleep_for(0.01)
    seen.append(await queued.sticky_bump(seen[-1]))
    seen.extend(await asyncio.gather(queued.sticky_bump(10), queued.sticky_bump(20)))
    return seen


async def waiter(n: int) -> int:
    wid = workflow.get_context().workflow_id
    TOPS[wid] = TOPS.get(wid, 0) + 1
    first = await queued.sticky_bump(n)
    data = await workflow.wait_for(f"go-{wid}")
    return first + int(data)


def test_a_parked_run_goes_on_from_where_it_stopped(flow) -> None:
    flow(stepper)
    handle = flow.client.workflow.start(
        args=[1], task_queue="default", workflow_name="stepper", workflow_id="stepper-1"
    )
    assert handle.result(timeout=30) == [2, 3, 11, 21]
    # Four steps (two activities, a timer, a gather), one start from the top.
    assert TOPS["stepper-1"] == 1
    assert [row["index"] for row in handle.export()["timeline"]] == ["1", "2", "3", "4.1", "5.1"]


def test_a_history_changed_elsewhere_is_replayed_from_the_top(flow, redis_url, namespace) -> None:
    flow(waiter)
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    key = Keys(namespace, APP_ID, DEFAULT_PARTITIONS).job("waiter-1")
    handle = flow.client.workflow.start(
        args=[1], task_queue="default", workflow_name="waiter", workflow_id="waiter-1"
    )
    wait_until(lambda: admin.hexists(key, "-claim-2-"), timeout=30)  # waits for the signal
    # Another process took a step meanwhile (here: it took a patched() branch).
    admin.hset(key, "-patch-elsewhere-", "true")
    flow.client.workflow.signal("go-waiter-1", 5)
    assert handle.result(timeout=30) == 7
    assert TOPS["waiter-1"] == 2  # the parked run was dropped, the history replayed
    admin.close()
