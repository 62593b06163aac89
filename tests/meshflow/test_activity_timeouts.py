"""Activity heartbeats and timeouts, as in Temporal: a long activity that heartbeats runs
once; one that goes silent or overruns its attempt is retried; the last attempt's
timeout reaches the workflow as its error."""

from __future__ import annotations

import asyncio
import time

import pytest

from hotmesh_nb import HotMeshError, RetryPolicy, WorkflowError
from hotmesh_nb.meshflow import _activity as activity
from hotmesh_nb.meshflow import workflow

CALLS: dict[str, int] = {}


def _count(name: str) -> int:
    CALLS[name] = CALLS.get(name, 0) + 1
    return CALLS[name]


async def steady(label: str) -> str:
    _count(label)
    for step in range(15):  # 1.5 s, three times the heartbeat timeout
        await asyncio.sleep(0.1)
        activity.heartbeat({"step": step})
    return f"{label} done at attempt {activity.activity_info().attempt}"


def steady_thread(label: str) -> str:
    _count(label)
    for step in range(15):
        time.sleep(0.1)
        activity.heartbeat(step)  # the context reaches a plain def's thread too
    return f"{label} done"


async def silent(label: str) -> str:
    _count(label)
    activity.heartbeat("started")
    await asyncio.sleep(5)
    return "never"


async def overrun(label: str) -> str:
    if _count(label) == 1:
        await asyncio.sleep(5)  # the first attempt overruns its 0.3 s
    return f"{label} attempt {activity.activity_info().attempt}"


beating = workflow.proxy_activities(
    activities=[steady, steady_thread, silent],
    heartbeat_timeout=0.5,
    retry_policy=RetryPolicy(initial_interval=0.05, maximum_attempts=2),
)
bounded = workflow.proxy_activities(
    activities=[overrun],
    start_to_close_timeout=0.3,
    retry_policy=RetryPolicy(initial_interval=0.05, maximum_attempts=3),
)


async def run_steady(label: str) -> list[str]:
    return [await beating.steady(label), await beating.steady_thread(label + "-t")]


async def run_silent(label: str) -> str:
    return await beating.silent(label)


async def run_overrun(label: str) -> str:
    return await bounded.overrun(label)


def test_an_activity_that_heartbeats_outlives_its_heartbeat_timeout(flow, namespace) -> None:
    flow(run_steady)
    label = f"steady-{namespace}"
    handle = flow.client.workflow.start(
        args=[label], task_queue="default", workflow_name="run_steady"
    )
    assert handle.result(timeout=30) == [f"{label} done at attempt 1", f"{label}-t done"]
    assert CALLS[label] == 1 and CALLS[label + "-t"] == 1


def test_a_silent_activity_times_out_and_is_retried(flow, namespace) -> None:
    flow(run_silent)
    label = f"silent-{namespace}"
    handle = flow.client.workflow.start(
        args=[label], task_queue="default", workflow_name="run_silent"
    )
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=30)
    assert caught.value.error_type == "ActivityTimeoutError"
    assert "heartbeat_timeout" in str(caught.value) and "'started'" in str(caught.value)
    assert CALLS[label] == 2  # maximum_attempts


def test_an_attempt_past_start_to_close_is_retried(flow, namespace) -> None:
    flow(run_overrun)
    label = f"overrun-{namespace}"
    handle = flow.client.workflow.start(
        args=[label], task_queue="default", workflow_name="run_overrun"
    )
    assert handle.result(timeout=30) == f"{label} attempt 2"
    assert CALLS[label] == 2


def test_heartbeat_outside_an_activity_is_an_error() -> None:
    with pytest.raises(HotMeshError, match="outside a MeshFlow activity"):
        activity.heartbeat()
    with pytest.raises(ValueError, match="positive"):
        workflow.proxy_activities(activities=[steady], heartbeat_timeout=0)
